"""Energy counter sanity: never pass a false drop or a stuck daily counter on silently.

Gateways get counters wrong in known ways (gateway.md section 5):

- lifetime production steps down by about 1.19 MWh, or resets to zero near
  1.19 MWh, on non-metered units before firmware 8 (an inverter's counter
  wrapping). Downstream tools (Home Assistant's energy dashboard, Grafana)
  read a drop as a meter replacement and corrupt their statistics.
- `whToday` resets late after midnight, resets to a non-zero value, or jumps.

`CounterGuard` keeps, per flow, what it saw before and corrects what it can
prove wrong, returning a warning for each correction so the snapshot can say
so. It only guards flows whose lifetime can never decrease (production, house
consumption); net consumption legitimately runs backwards when exporting.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..models.energy import EnergyReading

__all__ = ["WRAP_WH", "CounterGuard"]

WRAP_WH = 1_190_000.0  # the step seen in the field, about 1.19 MWh
_WRAP_TOLERANCE = 0.06  # +-6 %: the step is "about" 1.19 MWh
_TODAY_SLACK_WH = 50.0  # rounding between the gateway's counters


@dataclass(slots=True)
class CounterGuard:
    """Corrects one monotonic flow's counters across updates."""

    name: str
    offset_wh: float = 0.0  # added to the gateway's lifetime after a step-down
    last_lifetime_wh: float | None = None  # corrected lifetime last reported
    day: date | None = None
    lifetime_at_day_start: float | None = None  # corrected lifetime at local midnight

    def check(
        self, reading: EnergyReading, now: float, tz: ZoneInfo | None
    ) -> tuple[EnergyReading, list[str]]:
        """The reading with impossible counters corrected, and what was corrected."""
        warnings: list[str] = []
        lifetime = reading.wh_lifetime
        if lifetime is not None:
            lifetime = self._lifetime(lifetime, warnings)
        today = self._today(reading.wh_today, lifetime, now, tz, warnings)
        if lifetime == reading.wh_lifetime and today == reading.wh_today:
            return reading, warnings
        return dataclasses.replace(reading, wh_lifetime=lifetime, wh_today=today), warnings

    def _lifetime(self, raw: float, warnings: list[str]) -> float:
        corrected = raw + self.offset_wh
        last = self.last_lifetime_wh
        if last is not None and corrected < last - 1.0:
            drop = last - corrected
            wrapped = abs(drop - WRAP_WH) <= WRAP_WH * _WRAP_TOLERANCE
            near_wrap_reset = raw < 0.1 * WRAP_WH and abs(last - WRAP_WH) <= WRAP_WH * 0.1
            self.offset_wh += drop
            corrected = last
            if wrapped or near_wrap_reset:
                warnings.append(
                    f"{self.name}: lifetime counter stepped down by {drop / 1e6:.2f} MWh "
                    "(known firmware counter wrap); corrected to continue from the last value"
                )
            else:
                warnings.append(
                    f"{self.name}: lifetime counter went down by {drop:.0f} Wh; "
                    "held at the last value (a lifetime counter never decreases)"
                )
        self.last_lifetime_wh = corrected
        return corrected

    def _today(
        self,
        today: float | None,
        lifetime: float | None,
        now: float,
        tz: ZoneInfo | None,
        warnings: list[str],
    ) -> float | None:
        if tz is None or lifetime is None:
            return today
        local_day = datetime.fromtimestamp(now, tz).date()
        if self.day != local_day:
            first_sight = self.day is None
            self.day = local_day
            # On first sight we cannot know the lifetime at midnight: derive it from the
            # gateway's own today counter, trusting it once.
            self.lifetime_at_day_start = (
                lifetime - today if first_sight and today is not None else lifetime
            )
        if today is None or self.lifetime_at_day_start is None:
            return today
        since_midnight = max(0.0, lifetime - self.lifetime_at_day_start)
        if today > since_midnight + _TODAY_SLACK_WH:
            warnings.append(
                f"{self.name}: today's counter ({today:.0f} Wh) is more than was produced since "
                f"local midnight ({since_midnight:.0f} Wh): it did not reset; corrected"
            )
            return since_midnight
        return today

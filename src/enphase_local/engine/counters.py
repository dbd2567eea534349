"""Energy counters that never lie: no false drop, no phantom jump, no stuck daily counter.

Downstream tools (Home Assistant's energy statistics, Grafana) keep every
step of a lifetime counter for ever: one low reading read as a meter reset,
or one absurd reading, becomes megawatt-hours of phantom energy. Gateways get
counters wrong in known ways (gateway.md section 5):

- a 32-bit counter wraps: exactly 2^32 J = 1,193,046.47 Wh (an inverter's
  lifetime on non-metered units before firmware 8);
- after a reboot one answer is all zero, or low, for a read or two;
- `whToday` resets late after midnight, resets to a non-zero value, or jumps.

`CounterGuard` keeps, per flow, the last good lifetime and when it was seen,
and accepts a new reading only when it is physically possible: not lower
(beyond rounding) and not higher than the site could produce in the elapsed
time at its rated power (`ceiling_w`). Only a drop that matches the wrap is
added to the offset. Any other drop or jump is held at the last good value
with a warning and re-evaluated on every reading; a new level that persists
(`CONFIRM_READINGS` readings over at least `CONFIRM_S` seconds, still
counting plausibly) is a real reset (a replaced meter) and is accepted, with a
warning, continuing from the last good value so the counter still never goes
backwards. Daily counters restart once per local day and never decrease
within it. Net consumption is not guarded: it legitimately runs backwards.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from ..models.energy import EnergyReading
from ..models.meters import MeterReading

__all__ = [
    "CONFIRM_READINGS",
    "CONFIRM_S",
    "UNKNOWN_CEILING_W",
    "WRAP_WH",
    "CounterGuard",
    "ct_lifetime_drop",
    "meter_counters_drop",
    "site_ceiling_w",
]

WRAP_WH = 2**32 / 3600.0  # 1,193,046.47 Wh: a 32-bit counter of joules turning over
SLACK_WH = 50.0  # rounding between the gateway's counters and between its sources
UNKNOWN_CEILING_W = 250_000.0  # 600 microinverters at 400 W: the largest site one gateway runs
HEADROOM = 1.5  # rated power (sum of inverters' highest reports) times this is the ceiling
MIN_CEILING_W = 2_000.0
HOUSE_HEADROOM_W = 100_000.0  # a house draws from the grid and batteries besides production
CONFIRM_READINGS = 5  # a new counter level is a real reset after this many readings...
CONFIRM_S = 1800.0  # ...spread over at least this long (a reboot's zeros last minutes)


def site_ceiling_w(inverter_max_w: float | None, *, house: bool = False) -> float:
    """The most power a flow can carry: from the inverters' rating, generous when unknown.

    `inverter_max_w` is the sum of the inverters' highest reported watts (None
    when no inverter list is known). House consumption also draws from the
    grid and batteries, so it gets `HOUSE_HEADROOM_W` more.
    """
    if inverter_max_w is None or not inverter_max_w > 0:
        production = UNKNOWN_CEILING_W
    else:
        production = max(MIN_CEILING_W, inverter_max_w * HEADROOM)
    return production + HOUSE_HEADROOM_W if house else production


@dataclass(slots=True)
class _Suspect:
    """A counter level that disagrees with the last good one, watched until it persists."""

    first_raw: float
    first_at: float
    last_raw: float
    last_at: float
    count: int = 1


@dataclass(slots=True)
class CounterGuard:
    """Corrects one monotonic flow's counters across updates."""

    name: str
    offset_wh: float = 0.0  # added to the gateway's lifetime (wraps, accepted resets)
    last_lifetime_wh: float | None = None  # corrected lifetime last reported
    last_good_at: float | None = None  # when that value was read
    suspect: _Suspect | None = None
    day: date | None = None
    lifetime_at_day_start: float | None = None  # corrected lifetime at local midnight
    last_today_wh: float | None = None  # today's counter last reported (this local day)

    def check(
        self,
        reading: EnergyReading,
        now: float,
        tz: tzinfo | None,
        *,
        ceiling_w: float = UNKNOWN_CEILING_W,
    ) -> tuple[EnergyReading, list[str]]:
        """The reading with impossible counters corrected, and what was corrected."""
        warnings: list[str] = []
        lifetime = reading.wh_lifetime
        if lifetime is not None:
            lifetime = self._lifetime(lifetime, now, ceiling_w, warnings)
        today = self._today(reading.wh_today, lifetime, now, tz, warnings)
        if lifetime == reading.wh_lifetime and today == reading.wh_today:
            return reading, warnings
        return dataclasses.replace(reading, wh_lifetime=lifetime, wh_today=today), warnings

    # -- lifetime -----------------------------------------------------------------------

    def _lifetime(self, raw: float, now: float, ceiling_w: float, warnings: list[str]) -> float:
        last, since = self.last_lifetime_wh, self.last_good_at
        if last is None or since is None:
            if not math.isfinite(raw) or raw < 0:
                return raw  # nothing to hold it at; the parsers refuse these anyway
            return self._accept(raw + self.offset_wh, now)
        allowance = ceiling_w * max(0.0, now - since) / 3600.0 + SLACK_WH
        corrected = raw + self.offset_wh
        if math.isfinite(raw) and last - SLACK_WH <= corrected <= last + allowance:
            self.suspect = None
            return self._accept(max(corrected, last), now)
        if math.isfinite(raw) and last - SLACK_WH <= corrected + WRAP_WH <= last + allowance:
            self.offset_wh += WRAP_WH
            self.suspect = None
            warnings.append(
                f"{self.name}: lifetime counter stepped down by 1.19 MWh (the known 32-bit "
                "counter wrap); corrected to continue from the last value"
            )
            return self._accept(max(corrected + WRAP_WH, last), now)
        return self._hold(raw, corrected, now, ceiling_w, warnings)

    def _accept(self, value: float, now: float) -> float:
        self.last_lifetime_wh = value
        self.last_good_at = now
        return value

    def _hold(
        self, raw: float, corrected: float, now: float, ceiling_w: float, warnings: list[str]
    ) -> float:
        """A reading that cannot be true: keep the last good value, watch whether it persists."""
        last = self.last_lifetime_wh
        assert last is not None
        suspect = self.suspect
        if suspect is not None and math.isfinite(raw):
            growth = ceiling_w * max(0.0, now - suspect.last_at) / 3600.0 + SLACK_WH
            if suspect.last_raw - SLACK_WH <= raw <= suspect.last_raw + growth:
                suspect.count += 1
                suspect.last_raw, suspect.last_at = max(raw, suspect.last_raw), now
                if suspect.count >= CONFIRM_READINGS and now - suspect.first_at >= CONFIRM_S:
                    return self._rebase(raw, suspect, warnings)
            else:
                suspect = None
        if suspect is None and math.isfinite(raw):
            self.suspect = _Suspect(raw, now, raw, now)
        what = (
            f"went down from {last:.0f} to {corrected:.0f} Wh"
            if corrected < last
            else f"jumped by {corrected - last:.0f} Wh, more than the site can produce "
            f"at {ceiling_w / 1000:.0f} kW since the last good reading"
        )
        if not math.isfinite(corrected):
            what = f"read {raw!r}"
        warnings.append(
            f"{self.name}: lifetime counter {what}: held at the last good value "
            "(checked again on the next reading)"
        )
        return last

    def _rebase(self, raw: float, suspect: _Suspect, warnings: list[str]) -> float:
        """The new level persisted: a real reset. Continue from the last good value."""
        last = self.last_lifetime_wh
        assert last is not None
        gain = max(0.0, raw - suspect.first_raw)
        self.offset_wh = last - suspect.first_raw
        self.suspect = None
        warnings.append(
            f"{self.name}: the gateway's lifetime counter restarted at {suspect.first_raw:.0f} Wh "
            "and kept counting from there (a replaced meter or a reset): accepted, continuing "
            "from the last good value"
        )
        return self._accept(last + gain, suspect.last_at)

    # -- today ----------------------------------------------------------------------------

    def _today(
        self,
        today: float | None,
        lifetime: float | None,
        now: float,
        tz: tzinfo | None,
        warnings: list[str],
    ) -> float | None:
        if today is None:
            return None
        if tz is None or lifetime is None:
            return max(0.0, today)
        local_day = datetime.fromtimestamp(now, tz).date()
        if self.day != local_day:
            first_sight = self.day is None
            self.day = local_day
            self.last_today_wh = None
            # On first sight we cannot know the lifetime at midnight: derive it from the
            # gateway's own today counter, trusting it once.
            self.lifetime_at_day_start = lifetime - max(0.0, today) if first_sight else lifetime
        start = self.lifetime_at_day_start
        assert start is not None
        since_midnight = max(0.0, lifetime - start)
        value = today
        if value > since_midnight + SLACK_WH:
            warnings.append(
                f"{self.name}: today's counter ({today:.0f} Wh) is more than was produced since "
                f"local midnight ({since_midnight:.0f} Wh): it did not reset; corrected"
            )
            value = since_midnight
        last = self.last_today_wh
        if last is not None and value < last - SLACK_WH:
            warnings.append(
                f"{self.name}: today's counter went down from {last:.0f} to {today:.0f} Wh "
                "within the day: counted from the lifetime counter instead"
            )
            value = since_midnight
        value = max(0.0, value, last or 0.0)
        self.last_today_wh = value
        return value


# -- whole answers whose counters went back ---------------------------------------------------


def ct_lifetime_drop(old: EnergyReading | None, new: EnergyReading | None, name: str) -> str | None:
    """Why a new CT-backed reading cannot be true: its lifetime is below the last one's.

    CT counters are not 32-bit joule counters: they never wrap, so any drop
    is a bad read (a restart's all-zero answer) and the whole answer is set
    aside rather than only its counter held: its power, today and per-phase
    values are just as worthless.
    """
    if old is None or new is None or old.wh_lifetime is None or new.wh_lifetime is None:
        return None
    if new.wh_lifetime >= old.wh_lifetime - SLACK_WH:
        return None
    return (
        f"{name}: the gateway's CT lifetime went down from {old.wh_lifetime:.0f} to "
        f"{new.wh_lifetime:.0f} Wh (a bad read, like the zeros right after a restart): "
        "that answer was set aside and the last good one kept"
    )


def meter_counters_drop(
    old: Iterable[MeterReading] | None,
    new: Iterable[MeterReading],
    skip_eids: Collection[int] = (),
) -> str | None:
    """Why new CT readings cannot be true: a meter's delivered or received energy went down."""
    before = {r.eid: r for r in old or ()}
    for reading in new:
        last = before.get(reading.eid)
        if last is None or reading.eid in skip_eids:
            continue
        for what, now_wh, then_wh in (
            ("delivered", reading.wh_delivered, last.wh_delivered),
            ("received", reading.wh_received, last.wh_received),
        ):
            if now_wh < then_wh - SLACK_WH:
                return (
                    f"meters: CT {reading.eid} {what} energy went down from {then_wh:.0f} to "
                    f"{now_wh:.0f} Wh (a bad read): those readings were set aside and the "
                    "last good ones kept"
                )
    return None

"""The site's day: which time zone "today" is counted in, and where each counter's day began.

A gateway counts its day in its own zone, which is often not the host's (a
collector on UTC, a site in California). Counting "today" in the host's zone
was wrong on four updates in ten of a simulated day, by up to 100 %, and a
later switch to the right zone made counters step back. So the zone is the
gateway's (``/home``) or the one the user gives (``timezone=``); until it is
known, today's values are None with a warning, never a guess. No I/O.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from zoneinfo import ZoneInfo

from ..models.energy import EnergyReading
from ..models.gateway import HomeInfo
from .outage import gateway_zone, zone

__all__ = [
    "DayStart",
    "SiteDay",
    "SiteZone",
    "ZoneLike",
    "parse_zone",
    "without_today",
    "zone_name",
]

ZoneLike = str | tzinfo | None  # an IANA name, a zone, or None (the gateway's own)


def parse_zone(value: ZoneLike) -> tzinfo | None:
    """A zone from an IANA name or a tzinfo; ValueError names a zone that does not exist."""
    if value is None or isinstance(value, tzinfo):
        return value
    found = zone(value)
    if found is None:
        raise ValueError(f"unknown time zone {value!r}: give an IANA name such as 'US/Pacific'")
    return found


def zone_name(tz: tzinfo | None) -> str | None:
    """The IANA name of `tz` (its repr for a fixed offset), None for None."""
    if tz is None:
        return None
    return tz.key if isinstance(tz, ZoneInfo) else str(tz)


@dataclass(frozen=True, slots=True)
class SiteZone:
    """The zone days are counted in now.

    `tz` None with `pending`: it can be known (``/home``, ``timezone=``) but is
    not yet, so "today" values are None. `tz` None without `pending`: the
    gateway never says (firmware before 7): its own today counters, counted
    in its own zone, pass through unchanged and nothing else has a today.
    """

    tz: tzinfo | None
    pending: bool
    note: str | None = None


class SiteDay:
    """The site's zone: the user's override, else what the gateway said, remembered once learnt.

    Remembered because ``/home`` may fail or be re-probed later (a firmware
    update): a zone once known does not flip back to unknown.
    """

    def __init__(self, override: ZoneLike = None) -> None:
        self.override = parse_zone(override)
        self.learnt: tzinfo | None = None

    def zone(self, home: HomeInfo | None, *, awaiting_home: bool) -> SiteZone:
        if self.override is not None:
            return SiteZone(self.override, False)
        said = home.timezone if home is not None else None
        found = zone(said)
        if found is not None:
            self.learnt = found
        if self.learnt is not None:
            return SiteZone(self.learnt, False)
        if home is not None:
            return SiteZone(
                None,
                True,
                f"the gateway's /home gives no usable time zone ({said!r}): today's values "
                "are null (give the site's zone with timezone=)",
            )
        if awaiting_home:
            return SiteZone(
                None,
                True,
                "gateway time zone not known yet (/home not read): today's values are null "
                "until it is",
            )
        return SiteZone(None, False)

    def window_zone(self, home: HomeInfo | None, *, awaiting_home: bool) -> tzinfo | None:
        """The zone of the nightly restart window and of the production re-read at a new day.

        The site's when known; until then the host's stands in (a wrong guess
        there costs a gentler update, not a wrong number), never for "today".
        """
        site = self.zone(home, awaiting_home=awaiting_home).tz
        return site or gateway_zone(home, awaiting_home=awaiting_home)[0]


def local_day(t: float, tz: tzinfo) -> date:
    """The site's calendar day at `t`."""
    return datetime.fromtimestamp(t, tz).date()


def same_day(a: float, b: float, tz: tzinfo) -> bool:
    return local_day(a, tz) == local_day(b, tz)


def midnight(day: date, tz: tzinfo) -> float:
    """Epoch seconds of the start of `day` in `tz`."""
    return datetime.combine(day, time(), tzinfo=tz).timestamp()


@dataclass(slots=True)
class DayStart:
    """Where one lifetime counter stood at the site's last midnight, so today = now - that.

    Crossing midnight between two readings, the value at midnight is
    interpolated between them. A counter first seen within a day has a known
    start only when the gateway gives its own today value (`own_today`);
    otherwise its today is unknown (None) until the next midnight: never a
    "since we started" figure passed off as the day's.
    """

    zone_key: str | None = None
    day: date | None = None
    start_wh: float | None = None
    last_t: float | None = None
    last_wh: float | None = None

    def today(
        self, lifetime: float | None, t: float, tz: tzinfo | None, own_today: float | None = None
    ) -> float | None:
        if tz is None or lifetime is None:
            return None
        key, day = zone_name(tz), datetime.fromtimestamp(t, tz).date()
        if key != self.zone_key:
            self.zone_key, self.day, self.last_t = key, None, None
        if self.day is None:
            self.day = day
            self.start_wh = None if own_today is None else lifetime - max(0.0, own_today)
        elif day != self.day:
            start = midnight(day, tz)
            last_t, last_wh = self.last_t, self.last_wh
            if last_t is not None and last_wh is not None and last_t < start <= t:
                share = (start - last_t) / (t - last_t)
                self.start_wh = last_wh + (lifetime - last_wh) * share
            else:
                self.start_wh = None if own_today is None else lifetime - max(0.0, own_today)
            self.day = day
        if self.start_wh is None and own_today is not None:
            self.start_wh = lifetime - max(0.0, own_today)
        self.last_t, self.last_wh = t, lifetime
        return None if self.start_wh is None else max(0.0, lifetime - self.start_wh)

    def restore(self, zone_key: str, day: date, start_wh: float) -> None:
        """Continue a day whose start was kept elsewhere (the collector's history)."""
        self.zone_key, self.day, self.start_wh = zone_key, day, start_wh


def without_today(reading: EnergyReading | None) -> EnergyReading | None:
    """`reading` with its today counter None: the site's day is not known yet."""
    if reading is None or reading.wh_today is None:
        return reading
    return dataclasses.replace(reading, wh_today=None)

"""The inputs of a simulated site: seeded noise, the calendar, sun, cloud and load curves.

Apart from the physics (`physics.PhysicsModel`, which integrates batteries, grid and
counters) because these curves depend on nothing but the site, the seed and
the instant: no state, no history. That is what makes the model
deterministic: noise is a hash of (seed, stream, index) (splitmix64), never a
global random state, so the same seed and the same time give the same sun,
cloud and load whatever the request pattern.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .config import SiteConfig

__all__ = ["Curves", "hash_unit", "smooth"]

_M64 = (1 << 64) - 1


def _mix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def hash_unit(seed: int, *keys: int) -> float:
    """A uniform number in [0, 1) fixed by `seed` and `keys` (splitmix64)."""
    h = _mix(seed & _M64)
    for k in keys:
        h = _mix(h ^ (k & _M64))
    return (h >> 11) / float(1 << 53)


def smooth(seed: int, stream: int, t: float, period: float) -> float:
    """Smooth value noise in [0, 1): seeded knots every `period` s, eased between."""
    x = t / period
    i = math.floor(x)
    f = x - i
    f = f * f * (3 - 2 * f)
    a, b = hash_unit(seed, stream, i), hash_unit(seed, stream, i + 1)
    return a + (b - a) * f


class Curves:
    """A site's exogenous inputs at any instant: PV per inverter and household load, in W.

    Per-inverter and per-phase shares are drawn once from the seed, so the
    array and the house are the same every time the site is built.
    """

    def __init__(self, cfg: SiteConfig, seed: int) -> None:
        self.cfg, self.seed = cfg, seed
        self.tz = ZoneInfo(cfg.timezone)
        self.nph = cfg.phase_count
        inv = cfg.inverters
        raw = [1.0 + 0.06 * (hash_unit(seed, 10, i) - 0.5) for i in range(inv.count)]
        total = sum(raw) or 1.0
        self.shares = [r * inv.count / total for r in raw]
        self.pv_frac = self._fractions(11, 0.03)
        self.load_frac = self._fractions(12, 0.25)

    # --- calendar ------------------------------------------------------------------------
    def local(self, t: float) -> datetime:
        return datetime.fromtimestamp(t, self.tz)

    def day_of(self, t: float) -> int:
        return self.local(t).date().toordinal()

    def midnight_of(self, t: float) -> float:
        """Epoch of local midnight starting the day that contains `t`."""
        return datetime.combine(self.local(t).date(), time(0), tzinfo=self.tz).timestamp()

    # --- exogenous inputs --------------------------------------------------------------
    def _fractions(self, stream: int, spread: float) -> tuple[float, ...]:
        if self.nph == 1:
            return (1.0,)
        raw = [1.0 + spread * (hash_unit(self.seed, stream, p) - 0.5) * 2 for p in range(self.nph)]
        return tuple(r / sum(raw) for r in raw)

    def clear_sky(self, t: float) -> float:
        """Fraction of the array's peak the sun allows at `t` under a clear sky."""
        lt = self.local(t)
        doy = lt.timetuple().tm_yday
        dst = lt.dst()
        hour = (
            lt.hour + lt.minute / 60 + lt.second / 3600 - (dst.total_seconds() / 3600 if dst else 0)
        )
        lat = math.radians(self.cfg.latitude)
        dec = math.radians(23.44) * math.sin(2 * math.pi * (284 + doy) / 365)
        ha = math.radians(15 * (hour - 12.25))
        sin_el = math.sin(lat) * math.sin(dec) + math.cos(lat) * math.cos(dec) * math.cos(ha)
        return sin_el**1.2 if sin_el > 0 else 0.0

    def cloud(self, t: float) -> float:
        day = self.day_of(t)
        cover = max(0.0, hash_unit(self.seed, 1, day) - 0.35) / 0.65 * 0.75
        return 1.0 - cover * smooth(self.seed, 2, t, 600.0)

    def inverter_watts(self, t: float) -> list[float]:
        """What each microinverter puts out at `t` (W, capped at its rating)."""
        inv = self.cfg.inverters
        avail = inv.rating_w * 1.1 * self.clear_sky(t)
        if avail <= 0:
            return [0.0] * inv.count
        avail *= self.cloud(t)
        return [min(float(inv.rating_w), avail * s) for s in self.shares]

    def peak_watts(self, t: float) -> list[float]:
        """Each inverter's clear-sky output at solar noon of `t`'s day (its day maximum)."""
        noon = self.midnight_of(t) + 12.25 * 3600 + (3600 if self.local(t).dst() else 0)
        avail = self.cfg.inverters.rating_w * 1.1 * self.clear_sky(noon)
        return [min(float(self.cfg.inverters.rating_w), avail * s) for s in self.shares]

    def load_watts(self, t: float) -> float:
        lc = self.cfg.load
        lt = self.local(t)
        h = lt.hour + lt.minute / 60 + lt.second / 3600
        base = lc.base_w + lc.morning_peak_w * math.exp(-(((h - 7.5) / 1.1) ** 2))
        base += lc.evening_peak_w * math.exp(-(((h - 19.0) / 1.6) ** 2))
        wobble = 1 + lc.noise * (2 * smooth(self.seed, 3, t, 120.0) - 1)
        spike = 1500.0 if smooth(self.seed, 4, t, 900.0) > 0.85 else 0.0
        return base * wobble + spike

    def midnight_before(self, t: float, days: int) -> float:
        d = self.local(t).date() - timedelta(days=days)
        return datetime.combine(d, time(0), tzinfo=self.tz).timestamp()

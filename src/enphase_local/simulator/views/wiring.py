"""Wiring faults: a CT installed backwards, as every view that carries its values shows it.

Why here, on the `SiteState`: a CT clamped the wrong way round changes what
the gateway *measures*, not what the site does. Rewriting the one frozen
picture every view renders keeps ``/ivp/meters/readings``,
``/ivp/meters/reports``, production.json's eim lines (and the consumption
the gateway computes from its CTs), livedata and ``/stream/meter`` agreeing
with each other, as a real miswired gateway's endpoints do, while the
physics (and the inverters' own reports) stay true.

From `since` on, the reversed phase's power is sign-flipped and its energy
accumulates on the other register: delivered stops where it was and the
energy that flowed since counts as received (and the other way round).
Only production and net-consumption CTs are modelled: those are the ones an
installer clamps on a conductor whose direction matters most often.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..site.physics import PhysicsModel
from .state import SiteState

__all__ = ["REVERSIBLE", "CtReversal", "rewired"]

# The CT type -> its (delivered, received) counters in the site's energy tables.
REVERSIBLE: Mapping[str, tuple[str, str]] = {
    "production": ("prod", "prod_rcvd"),
    "net-consumption": ("imp", "exp"),
}


@dataclass(frozen=True, slots=True)
class CtReversal:
    """One CT channel clamped backwards from `since` (epoch seconds); `phase` counts from 1."""

    meter: str
    phase: int
    since: float

    def __post_init__(self) -> None:
        if self.meter not in REVERSIBLE:
            raise ValueError(f"a reversed CT is one of {', '.join(REVERSIBLE)}, not {self.meter!r}")
        if not 1 <= self.phase <= 3:
            raise ValueError(f"a phase is 1, 2 or 3, not {self.phase}")
        if not math.isfinite(self.since):
            raise ValueError("the time a CT was reversed must be a finite epoch")

    @classmethod
    def parse(cls, value: str, now: float) -> CtReversal:
        """``production:1[:EPOCH]`` (from now when no time is given)."""
        meter, _, rest = value.partition(":")
        phase, _, since = rest.partition(":")
        return cls(meter, int(phase or 1), float(since) if since else now)


def _swap(
    table: Mapping[str, tuple[float, ...]],
    anchor: Mapping[str, Sequence[float]],
    keys: tuple[str, str],
    ph: int,
) -> dict[str, tuple[float, ...]]:
    """`table` with phase `ph` of the pair `keys` counting on the other register since `anchor`."""
    d_key, r_key = keys
    n = len(table[d_key])
    d, r = list(table[d_key]), list(table.get(r_key, (0.0,) * n))
    d0, r0 = anchor[d_key][ph], (anchor[r_key][ph] if r_key in anchor else 0.0)
    d[ph], r[ph] = d0 + max(0.0, r[ph] - r0), r0 + max(0.0, d[ph] - d0)
    return {**table, d_key: tuple(d), r_key: tuple(r)}


def _counters(
    raw_table: Mapping[str, Sequence[float]],
    at: float,
    rev: CtReversal,
    anchor: Mapping[str, Sequence[float]],
) -> dict[str, tuple[float, ...]]:
    """Counters read at `at` as the reversed CT would have counted them."""
    raw = {k: tuple(v) for k, v in raw_table.items()}
    keys = REVERSIBLE[rev.meter]
    if at <= rev.since:
        n = len(raw[keys[0]])
        return {**raw, keys[1]: raw.get(keys[1], (0.0,) * n)}
    return _swap(raw, anchor, keys, rev.phase - 1)


def rewired(s: SiteState, model: PhysicsModel, rev: CtReversal | None) -> SiteState:
    """`s` as the gateway measures it with `rev`'s CT backwards (unchanged before `since`)."""
    if rev is None or s.t < rev.since or rev.phase > s.cfg.phase_count:
        return s
    if not s.cfg.ct_enabled(rev.meter) or s.rebooting:
        return s
    ph = rev.phase - 1
    keys = REVERSIBLE[rev.meter]
    anchor = model.energy_at(rev.since)
    flows = s.flows
    if rev.meter == "production":
        pv = tuple(-w if i == ph else w for i, w in enumerate(flows.pv))
        flows = dataclasses.replace(flows, pv=pv)
    else:
        grid = tuple(-w if i == ph else w for i, w in enumerate(flows.grid))
        flows = dataclasses.replace(flows, grid=grid)
    energy = _swap(s.energy, anchor, keys, ph)
    late = s.cfg.quirks.late_midnight_reset
    day0 = _counters(model.day_start_for(s.t, late), _day_start_time(model, s.t, late), rev, anchor)
    week_t = model.midnight_before(s.t, 6) + 1
    week0 = _counters(model.day_start_for(week_t), week_t, rev, anchor)
    return dataclasses.replace(
        s, flows=flows, energy=energy, today=_diff(energy, day0), week=_diff(energy, week0)
    )


def _day_start_time(model: PhysicsModel, t: float, late_s: float) -> float:
    """When `t`'s local day started for the today counters (the day before, in a late reset)."""
    midnight = float(model.midnight_of(t))
    if late_s and t < midnight + late_s:
        return float(model.midnight_before(t, 1))
    return midnight


def _diff(
    a: Mapping[str, tuple[float, ...]], b: Mapping[str, tuple[float, ...]]
) -> dict[str, tuple[float, ...]]:
    return {k: tuple(max(0.0, x - y) for x, y in zip(a[k], b[k], strict=True)) for k in a}

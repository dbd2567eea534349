"""A site of several gateways as one: the sums of their flows and counters. Pure, no I/O.

Why sums and not a merge: each gateway measures its own part of the house
(two or three gateways on one big roof, a garage on its own meter), so the
site's solar, house, grid and battery are the sums of what each counted. A
sum is marked as one (`LiveFrame.source` ``"site"``, readings' `source`
``site:...``): it is never a gateway's own reading.

What is summed, and what is not:

- Power: solar, house and grid are unknown (None) when any gateway does not
  measure them (a partial sum would be wrong); battery and generator sum the
  gateways that have one (a gateway without a battery adds nothing).
- Counters (Wh lifetime, today, last 7 days): None when any gateway lacks
  the counter, for the same reason; the six flows (`sum_energy`) follow the
  power's rule: battery and generator energy sum the gateways that have them.
- Phases are summed per phase only where every gateway reports the same
  phases; otherwise the site has none (L1 of one is not L1 of the other).
- Battery state of charge: weighted by capacity where every bank gives one,
  the plain mean of the banks otherwise.
- Inverters and battery units are the union, keyed by their own serials.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..models.battery import BatterySummary
from ..models.energy import EnergyReading, PhaseReadings
from ..models.energy_flows import ENERGY_FLOWS, EnergyFlows, SiteEnergy
from ..models.live_frame import LiveFrame, LivePhase
from ..models.snapshot import GatewaySummary, Snapshot

if TYPE_CHECKING:
    from ..models.snapshot import InverterView

__all__ = [
    "SITE_SOURCE",
    "site_members",
    "site_serial",
    "sum_energy",
    "sum_frames",
    "sum_readings",
    "sum_snapshots",
]

SITE_SOURCE = "site"
_EVERY_GATEWAY = ("solar", "house", "grid_import", "grid_export")  # a gateway without: unknown


def site_serial(name: str) -> str:
    """The serial a site goes by in every sink: ``site-<name>``, in topic-safe letters."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-") or "site"
    return f"site-{slug}"


def site_members(snapshot: Snapshot) -> list[str] | None:
    """The serials a site's snapshot sums (`sum_snapshots` marks it); None for a gateway's own."""
    gw = snapshot.gateway
    if gw.firmware != SITE_SOURCE or not gw.serial.startswith("site-"):
        return None
    return sorted(m for m in gw.host.split("+") if m)


def _all(values: Sequence[float | None]) -> float | None:
    """The sum, or None when any part is unknown."""
    if not values or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def _present(values: Sequence[float | None]) -> float | None:
    """The sum of the known parts, None when none is known."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _mean_soc(socs: Sequence[float | None], weights: Sequence[float | None]) -> float | None:
    pairs = [(s, w) for s, w in zip(socs, weights, strict=True) if s is not None]
    if not pairs:
        return None
    if all(w is not None and w > 0 for _s, w in pairs):
        total = sum(w for _s, w in pairs if w is not None)
        return sum(s * w for s, w in pairs if w is not None) / total
    return sum(s for s, _w in pairs) / len(pairs)


def sum_frames(
    frames: Sequence[LiveFrame], capacities: Sequence[float | None] | None = None
) -> LiveFrame:
    """One frame of the whole site from one frame per gateway (`capacities`: Wh, for SoC).

    Its time is the oldest part's (the sum is as current as its oldest part);
    it is stale when any part is.
    """
    if not frames:
        raise ValueError("a site needs at least one frame")
    weights = list(capacities) if capacities is not None else [None] * len(frames)
    phase_sets = {frozenset(f.phases) for f in frames}
    phases: dict[str, LivePhase] = {}
    if len(phase_sets) == 1:
        for name in sorted(next(iter(phase_sets))):
            parts = [f.phases[name] for f in frames]
            phases[name] = LivePhase(
                solar_watts=_all([p.solar_watts for p in parts]),
                house_watts=_all([p.house_watts for p in parts]),
                grid_watts=_all([p.grid_watts for p in parts]),
                battery_watts=_present([p.battery_watts for p in parts]),
            )
    as_of: dict[str, float] = {}
    for f in frames:
        for flow, at in f.as_of.items():
            as_of[flow] = min(at, as_of.get(flow, at))
    return LiveFrame(
        taken_at=min(f.taken_at for f in frames),
        source=SITE_SOURCE,
        solar_watts=_all([f.solar_watts for f in frames]),
        house_watts=_all([f.house_watts for f in frames]),
        grid_watts=_all([f.grid_watts for f in frames]),
        battery_watts=_present([f.battery_watts for f in frames]),
        generator_watts=_present([f.generator_watts for f in frames]),
        soc_percent=_mean_soc([f.soc_percent for f in frames], weights),
        phases=phases,
        stale=any(f.stale for f in frames),
        as_of=as_of,
    )


def sum_readings(readings: Sequence[EnergyReading | None]) -> EnergyReading | None:
    """One reading of a flow from each gateway's; None when any gateway lacks it."""
    if not readings or any(r is None for r in readings):
        return None
    parts = [r for r in readings if r is not None]
    times = [r.reading_time for r in parts if r.reading_time is not None]
    return EnergyReading(
        watts=sum(r.watts for r in parts),
        wh_today=_all([r.wh_today for r in parts]),
        wh_last_7_days=_all([r.wh_last_7_days for r in parts]),
        wh_lifetime=_all([r.wh_lifetime for r in parts]),
        source=f"{SITE_SOURCE}:" + "+".join(r.source for r in parts),
        reading_time=min(times) if len(times) == len(parts) else None,
    )


def _sum_phases(snapshots: Sequence[Snapshot]) -> dict[str, PhaseReadings]:
    names = {frozenset(s.phases) for s in snapshots}
    if len(names) != 1:
        return {}
    out: dict[str, PhaseReadings] = {}
    for name in sorted(next(iter(names))):
        parts = [s.phases[name] for s in snapshots]
        out[name] = PhaseReadings(
            production=sum_readings([p.production for p in parts]),
            consumption=sum_readings([p.consumption for p in parts]),
            net_consumption=sum_readings([p.net_consumption for p in parts]),
        )
    return out


def _sum_battery(snapshots: Sequence[Snapshot]) -> BatterySummary | None:
    banks = [s.battery for s in snapshots if s.battery is not None]
    if not banks:
        return None
    units = {serial: u for b in banks for serial, u in b.units.items()}
    reserves = [b.reserve_soc_percent for b in banks]
    return BatterySummary(
        soc_percent=_mean_soc([b.soc_percent for b in banks], [b.capacity_wh for b in banks]),
        available_wh=_all([b.available_wh for b in banks]),
        capacity_wh=_all([b.capacity_wh for b in banks]),
        reserve_soc_percent=reserves[0] if len(set(reserves)) == 1 else None,
        units=units,
    )


def sum_energy(energies: Sequence[SiteEnergy | None]) -> SiteEnergy | None:
    """The site's flows (`Snapshot.energy`) from each gateway's; None when any lacks them.

    Solar, house and grid are counted by every gateway: the sum is unknown
    when one gateway does not know its part. Battery and generator flows are
    summed over the gateways that have them (a lifetime value; a garage
    without a battery adds nothing), as the power is. Today's values only when
    every gateway counts its day in the same zone. `derived` names the flows
    any gateway derived (the sum is as derived as its parts).
    """
    if not energies or any(e is None for e in energies):
        return None
    parts = [e for e in energies if e is not None]
    same_day = len({e.zone for e in parts}) == 1
    lifetime: dict[str, float | None] = {}
    today: dict[str, float | None] = {}
    for flow in ENERGY_FLOWS:
        having = parts
        if flow not in _EVERY_GATEWAY:
            having = [e for e in parts if e.lifetime_wh.get(flow) is not None]
        lifetime[flow] = _all([e.lifetime_wh.get(flow) for e in having])
        today[flow] = _all([e.today_wh.get(flow) for e in having]) if same_day else None
    return SiteEnergy(
        lifetime_wh=EnergyFlows(**lifetime),
        today_wh=EnergyFlows(**today),
        derived=tuple(f for f in ENERGY_FLOWS if any(f in e.derived for e in parts)),
        zone=parts[0].zone if same_day else None,
        gaps_s=sum(e.gaps_s for e in parts),
    )


def sum_snapshots(name: str, snapshots: Mapping[str, Snapshot]) -> Snapshot:
    """The site's snapshot from the latest snapshot of each gateway (by serial).

    Its gateway summary names the site (`site_serial`), its host lists the
    gateways' serials; freshness is the oldest part's, errors are prefixed
    with the serial they came from.
    """
    if not snapshots:
        raise ValueError("a site needs at least one snapshot")
    parts = [snapshots[k] for k in sorted(snapshots)]
    frames = [s.power_flow for s in parts]
    flow = None
    if all(f is not None for f in frames):
        capacities = [s.battery.capacity_wh if s.battery else None for s in parts]
        flow = sum_frames([f for f in frames if f is not None], capacities)
    freshness: dict[str, float] = {}
    for s in parts:
        for section, at in s.freshness.items():
            freshness[section] = min(at, freshness.get(section, at))
    inverters: dict[str, InverterView] = {}
    for s in parts:
        inverters.update(s.inverters)
    return Snapshot(
        energy=sum_energy([s.energy for s in parts]),
        taken_at=min(s.taken_at for s in parts),
        gateway=GatewaySummary(
            host="+".join(sorted(snapshots)),
            serial=site_serial(name),
            part_number=None,
            firmware=SITE_SOURCE,
            metered=all(s.gateway.metered for s in parts),
            auth="none",
        ),
        production=sum_readings([s.production for s in parts]),
        consumption=sum_readings([s.consumption for s in parts]),
        net_consumption=sum_readings([s.net_consumption for s in parts]),
        phases=_sum_phases(parts),
        inverters=inverters,
        battery=_sum_battery(parts),
        power_flow=flow,
        freshness=freshness,
        errors={
            f"{k}:{sec}": v for k in sorted(snapshots) for sec, v in snapshots[k].errors.items()
        },
    )

"""A `LiveFrame` derived from a snapshot, for Envoys without `live()`.

Why: the collector and every sink speak `LiveFrame`s (the balanced power
flow). Where the client gives a live stream (`Envoy.live()`), the collector
uses it; until then, and on gateways that have none, each snapshot gives one
frame here. This is the one place that knows how, so switching is trivial.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ..models.live_frame import LiveFrame, LivePhase

if TYPE_CHECKING:
    from ..models.energy import EnergyReading
    from ..models.snapshot import Snapshot

__all__ = ["frame_from_snapshot"]


def _watts(reading: EnergyReading | None) -> float | None:
    return None if reading is None else reading.watts


def _battery_watts(snapshot: Snapshot) -> float | None:
    """Signed battery power (+ discharge): live data, else the Encharge units, else the ACB."""
    live = snapshot.live
    if live is not None and "storage" in live.flows:
        return live.flows["storage"].watts
    battery = snapshot.battery
    if battery is not None:
        unit_watts = [u.watts for u in battery.units.values() if u.watts is not None]
        if unit_watts:
            return float(sum(unit_watts))
    if snapshot.acb is not None and snapshot.acb.watts is not None:
        return snapshot.acb.watts
    return None


def _soc(snapshot: Snapshot) -> float | None:
    if snapshot.battery is not None and snapshot.battery.soc_percent is not None:
        return snapshot.battery.soc_percent
    if snapshot.acb is not None:
        return snapshot.acb.soc_percent
    if snapshot.live is not None:
        return snapshot.live.soc_percent
    return None


def frame_from_snapshot(snapshot: Snapshot, *, stale: bool = False) -> LiveFrame:
    """The balanced flows of one snapshot: its `power_flow` (engine.balance, the one
    home of the balance) when it has one; else solar = production, house =
    consumption, grid = net consumption (+ import), battery from the batteries."""
    if snapshot.power_flow is not None:
        flow = snapshot.power_flow
        return flow if flow.stale == stale else dataclasses.replace(flow, stale=stale)
    phases = {
        name: LivePhase(
            solar_watts=_watts(p.production),
            house_watts=_watts(p.consumption),
            grid_watts=_watts(p.net_consumption),
        )
        for name, p in snapshot.phases.items()
    }
    generator = None
    if snapshot.live is not None and "generator" in snapshot.live.flows:
        generator = snapshot.live.flows["generator"].watts
    return LiveFrame(
        taken_at=snapshot.taken_at,
        source="snapshot",
        solar_watts=_watts(snapshot.production),
        house_watts=_watts(snapshot.consumption),
        grid_watts=_watts(snapshot.net_consumption),
        battery_watts=_battery_watts(snapshot),
        generator_watts=generator,
        soc_percent=_soc(snapshot),
        phases=phases,
        stale=stale,
    )

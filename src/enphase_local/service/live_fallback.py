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


def frame_from_snapshot(snapshot: Snapshot, *, stale: bool = False) -> LiveFrame:
    """The balanced flows of one snapshot: its `power_flow` (engine.balance, the one
    home of the balance and of battery power) when it has one; else only what the
    gateway itself reports, unbalanced: solar = production, house = consumption,
    grid = net consumption (+ import), and no battery flow (summing the units here
    was a second, disagreeing battery power)."""
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
    return LiveFrame(
        taken_at=snapshot.taken_at,
        source="snapshot",
        solar_watts=_watts(snapshot.production),
        house_watts=_watts(snapshot.consumption),
        grid_watts=_watts(snapshot.net_consumption),
        soc_percent=snapshot.battery.soc_percent if snapshot.battery is not None else None,
        phases=phases,
        stale=stale,
    )

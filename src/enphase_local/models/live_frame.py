"""One live power-flow frame: what `Envoy.live()` yields about once a second.

Apart from `LiveData` (the raw ``/ivp/livedata/status`` document) because a
frame is the *balanced* view a user reads: solar is PV production, the house
is what the site consumes, the grid is signed import (+) / export (-) and the
battery is signed discharge (+) / charge (-), so that

    solar + grid + battery + generator = house    (within measurement error)

whichever source produced the frame (livedata, ``/stream/meter`` or CT
readings). `source` names it; `stale` says nothing fresh came for a few
seconds, and `taken_at` is when the data was current, not when we read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._base import Model

__all__ = ["LiveFrame", "LivePhase"]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class LivePhase(Model):
    """The balanced flows on one phase (L1..L3), in watts; None where not measured."""

    solar_watts: float | None = None
    house_watts: float | None = None
    grid_watts: float | None = None
    battery_watts: float | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class LiveFrame(Model):
    """Live power of every flow at one instant (epoch seconds `taken_at`).

    Signs: `grid_watts` > 0 imports, < 0 exports; `battery_watts` > 0
    discharges, < 0 charges; `generator_watts` >= 0. None where the gateway
    has no such flow or the source does not measure it.
    """

    taken_at: float
    source: str  # "livedata" | "stream_meter" | "meters_readings"
    solar_watts: float | None = None
    house_watts: float | None = None
    grid_watts: float | None = None
    battery_watts: float | None = None
    generator_watts: float | None = None
    soc_percent: float | None = None
    phases: Mapping[str, LivePhase] = field(default_factory=dict)
    stale: bool = False

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
from typing import Any

from ._base import Model

__all__ = ["FRAME_SCHEMA", "FRAME_SOURCES", "LiveFrame", "LivePhase", "MeterFrame"]

FRAME_SCHEMA = "live/1"
"""The ``schema`` of a frame's JSON line (docs/json-contract.md, "Live frames")."""

FRAME_SOURCES = ("livedata", "stream_meter", "meters_readings", "snapshot")


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
    as_of: Mapping[str, float] = field(default_factory=dict)
    """Flows whose value is older than `taken_at` (battery power from the last update
    in a stream frame, say): flow name (``battery``) -> epoch seconds it was current."""

    def imbalance_watts(self) -> float | None:
        """house - (solar + grid + battery + generator): zero within measurement error.

        None when the house or every supply is unknown.
        """
        parts = [self.solar_watts, self.grid_watts, self.battery_watts, self.generator_watts]
        if self.house_watts is None or all(p is None for p in parts):
            return None
        return self.house_watts - sum(p for p in parts if p is not None)

    def to_json(self, *, now: float | None = None) -> dict[str, Any]:
        """One JSON line of ``enphase watch --json`` (schema `FRAME_SCHEMA`).

        With `now`, ``age_s`` says how old the data is (and ``ages_s`` per older flow).
        """
        out: dict[str, Any] = {"schema": FRAME_SCHEMA}
        out.update(self.to_dict())
        if now is not None:
            out["age_s"] = round(max(0.0, now - self.taken_at), 3)
            out["ages_s"] = {k: round(max(0.0, now - t), 3) for k, t in self.as_of.items()}
        return out


@dataclass(frozen=True, slots=True)
class MeterFrame(Model):
    """One ``/stream/meter`` event: active power in watts per flow and phase (L1..L3).

    The stream sends ``production``, ``net-consumption`` and
    ``total-consumption`` with ``p q s v i pf f`` per phase; only the active
    power is kept (signed as the gateway gives it: net < 0 exports).
    """

    production: Mapping[str, float] = field(default_factory=dict)
    net_consumption: Mapping[str, float] = field(default_factory=dict)
    total_consumption: Mapping[str, float] = field(default_factory=dict)

"""Battery models: Encharge units, AC Battery (ACB), and their aggregates.

`AcbStorage` is the AC Battery aggregate that production.json reports in its
``storage[]`` section (the production parser builds it); the per-unit and
Encharge models are built by the ensemble and inventory parsers.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._base import FlexEnum, Model

__all__ = ["AcbState", "AcbStorage"]


class AcbState(FlexEnum):
    """State of the AC Battery bank as production.json reports it."""

    IDLE = "idle"
    CHARGING = "charging"
    DISCHARGING = "discharging"
    FULL = "full"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class AcbStorage(Model):
    """AC Battery bank aggregate from production.json ``storage[type=acb]``.

    Only entries with `percentFull` are batteries: a storage entry with an
    `activeCount` but no `percentFull` is not one.
    """

    watts: float  # positive: discharging into the house
    wh_now: float
    soc_percent: float
    state: AcbState
    active_count: int
    reading_time: int | None = None

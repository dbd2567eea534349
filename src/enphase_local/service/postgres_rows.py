"""The PostgreSQL sink's rows: the SQLite history's `RowMaker`, plus two habits of its own.

The rows themselves are built in one place, `history_rows.RowMaker` (columns
in `history_schema.TABLES` order, times as epoch seconds), so either store
takes them unchanged. What the PostgreSQL sink adds:

- live frames are thinned to one per `live_interval_s` per gateway: a
  database shared by hundreds of sites keeps power at a few seconds' rate,
  not every frame (Grafana plots minutes);
- a gateway without a live source gets its power samples from snapshots, at
  the update rhythm, so its Grafana panels are not empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .history_rows import COUNTER_FLOWS, Rows, bank_watts
from .history_rows import RowMaker as _SharedRowMaker

if TYPE_CHECKING:
    from ..models.live_frame import LiveFrame
    from ..models.snapshot import Snapshot

__all__ = ["COUNTER_FLOWS", "RowMaker", "Rows"]


class RowMaker(_SharedRowMaker):
    """The shared row maker, with live frames thinned and power from snapshots."""

    def __init__(self, live_interval_s: float = 5.0) -> None:
        super().__init__()
        self.live_interval_s = live_interval_s
        self._live_at: dict[str, float] = {}

    def snapshot_rows(self, serial: str, snapshot: Snapshot, rows: Rows) -> None:
        super().snapshot_rows(serial, snapshot, rows)
        if serial not in self._live_at:  # no live source: power at the update rhythm
            self._power_from_snapshot(serial, snapshot, rows)

    @staticmethod
    def _power_from_snapshot(serial: str, snapshot: Snapshot, rows: Rows) -> None:
        prod, cons, net = snapshot.production, snapshot.consumption, snapshot.net_consumption
        if prod is None and cons is None and net is None:
            return
        battery = snapshot.battery
        rows.setdefault("power_samples", []).append(
            (
                serial,
                snapshot.taken_at,
                "",
                prod.watts if prod else None,
                cons.watts if cons else None,
                net.watts if net else None,
                bank_watts(battery) if battery is not None else None,
                None,
                battery.soc_percent if battery is not None else None,
            )
        )

    def frame_rows(self, serial: str, frame: LiveFrame, rows: Rows) -> None:
        last = self._live_at.get(serial)
        if last is not None and frame.taken_at - last < self.live_interval_s:
            return
        self._live_at[serial] = frame.taken_at
        super().frame_rows(serial, frame, rows)

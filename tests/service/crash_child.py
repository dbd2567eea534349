"""Child process of the kill -9 test: writes history, then freezes inside a write batch.

Run as ``python -m tests.service.crash_child DB MARKER``. Frames at 1 Hz of
simulated time go through the real `HistorySink` (flushing every 20 ms);
the fifth batch executes half its rows inside its transaction, creates
MARKER and sleeps, so the parent can kill it at exactly that point.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from enphase_local.models.live_frame import LiveFrame
from enphase_local.service import sqlite_store
from enphase_local.service.history_sink import HistorySink

START = 1_781_395_200.0


class FreezingStore(sqlite_store.HistoryStore):
    batches = 0
    marker = Path()

    def write(self, batch: Mapping[str, Sequence[tuple[Any, ...]]]) -> int:
        FreezingStore.batches += 1
        if FreezingStore.batches < 5:
            return super().write(batch)
        rows = batch["power_samples"]
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany(sqlite_store.insert_sql("power_samples"), rows[: len(rows) // 2])
        self.marker.write_text(str(rows[0][1]))  # the first instant of the frozen batch
        time.sleep(3600)
        return 0


async def main(db: Path, marker: Path) -> None:
    FreezingStore.marker = marker
    sink = HistorySink(db, flush_every_s=0.02)
    sink.store = FreezingStore(db)
    await sink.start(None)  # type: ignore[arg-type]
    at = START
    while True:
        for _ in range(50):
            frame = LiveFrame(taken_at=at, source="test", solar_watts=at - START, house_watts=1.0)
            await sink.on_live("SERIAL", frame)
            at += 1
        await asyncio.sleep(0.01)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))

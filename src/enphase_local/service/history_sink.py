"""The SQLite history sink: batches rows, writes them on its own thread, never blocks.

Why batches: one transaction per few seconds costs the disk far less than
one per sample, and a ``kill -9`` then loses at most the batch in memory
(WAL makes every committed batch durable and the file always consistent).
Why a thread of its own: sqlite3 blocks; the event loop must keep reading
gateways and serving the dashboard while the disk is slow.

When a write fails (disk full, file locked by another program), the batch
is held, one clear line is logged, and the next flush tries again; the held
data is bounded (`max_held_rows`), oldest dropped first and counted, so a
disk that stays full cannot exhaust memory. While writes fail, each retry
first checkpoints the WAL (`HistoryStore.checkpoint`): a WAL grown while the
disk filled gives its space back only then, so freeing a little space is
enough to resume. `stats()` is what /metrics and /healthz show. Downsampling and retention run
every `maintain_every_s` of the collector's clock, a bounded step each time.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .history_rows import RowMaker, Rows
from .live_thin import LiveThinner
from .sqlite_store import HistoryStore, explain

if TYPE_CHECKING:
    from ..models.live_frame import LiveFrame
    from ..models.snapshot import Snapshot
    from .sinks import Event, Hub

__all__ = ["HistorySink"]

_LOGGER = logging.getLogger("enphase_local.service.history")
_T = TypeVar("_T")

DAY = 86_400.0


class HistorySink:
    """Keeps everything collected in a SQLite file (see `history_schema`)."""

    name = "sqlite"

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Callable[[], float] = time.time,
        flush_every_s: float = 2.0,
        max_batch_rows: int = 20_000,
        max_held_rows: int = 500_000,
        keep_live_s: float = 7 * DAY,
        maintain_every_s: float = 60.0,
        busy_timeout_s: float = 5.0,
        live_step_s: float = 0.0,
    ) -> None:
        """`live_step_s`: one power row per that many s per gateway (`live_thin`; 0: all)."""
        self.path = Path(path)
        self.store = HistoryStore(self.path, timeout_s=busy_timeout_s)
        self._clock = clock
        self._flush_every_s = flush_every_s
        self._max_batch_rows = max_batch_rows
        self._max_held_rows = max_held_rows
        self._keep_live_s = keep_live_s
        self._maintain_every_s = maintain_every_s
        self._maker = RowMaker()
        self._thin = LiveThinner(live_step_s)
        self._pending: Rows = {}
        self._pending_count = 0
        self._held: deque[tuple[Rows, int]] = deque()
        self._held_count = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="enphase-history")
        self._flusher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._last_maintenance: float | None = None
        self.rows_written = 0
        self.rows_dropped = 0
        self.last_error: str | None = None
        self.last_write_at: float | None = None  # collector clock of the last good write
        self.unwritten = 0  # rows still held when the sink stopped (lost)

    async def _run(self, func: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    # -- Sink ---------------------------------------------------------------------

    async def start(self, hub: Hub) -> None:
        del hub
        await self._run(self.store.open)
        self._flusher = asyncio.create_task(self._flush_loop(), name="history-flush")

    async def on_snapshot(self, serial: str, snapshot: Snapshot) -> None:
        before = sum(len(v) for v in self._pending.values())
        self._maker.snapshot_rows(serial, snapshot, self._pending)
        await self._added(before)

    async def on_live(self, serial: str, frame: LiveFrame) -> None:
        kept = self._thin.add(serial, frame)
        if not kept:
            return
        before = sum(len(v) for v in self._pending.values())
        for one in kept:
            self._maker.frame_rows(serial, one, self._pending)
        await self._added(before)

    async def on_event(self, event: Event) -> None:
        before = sum(len(v) for v in self._pending.values())
        self._maker.event_rows(event, self._pending)
        await self._added(before)

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            try:
                await self._flusher
            except asyncio.CancelledError:
                pass
            self._flusher = None
        for serial, frame in self._thin.drain():  # the buckets still open
            self._maker.frame_rows(serial, frame, self._pending)
            self._pending_count += 1 + len(frame.phases)
        await self.flush()
        self.unwritten = self._held_count
        if self._held_count:
            _LOGGER.error(
                "history: %d rows could not be written before shutdown (%s)",
                self._held_count,
                self.last_error,
            )
        elif self.rows_written:
            await self._run(self.store.checkpoint)  # leave no WAL behind on a clean stop
        await self._run(self.store.close)
        self._executor.shutdown(wait=True)

    # -- batching -------------------------------------------------------------------

    async def _added(self, before: int) -> None:
        self._pending_count += sum(len(v) for v in self._pending.values()) - before
        if self._pending_count >= self._max_batch_rows:
            await self.flush()

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self._flush_every_s)
            try:
                await self.flush()
                await self.maintain()
            except Exception:  # a sink must not die of one bad batch
                _LOGGER.exception("history: flush failed")

    async def flush(self) -> None:
        """Write what is pending (after anything held from failed writes)."""
        async with self._lock:
            if self._pending_count:
                self._held.append((self._pending, self._pending_count))
                self._held_count += self._pending_count
                self._pending, self._pending_count = {}, 0
            recovering = self.last_error is not None
            if recovering and self._held:
                await self._run(self.store.checkpoint)  # give the WAL's space back first
            while self._held:
                # held batches go together, up to a batch's bound: one transaction
                # each would write the same index pages again and again into the WAL
                batch, count, parts = self._next_batch()
                try:
                    await self._run(self.store.write, batch)
                except sqlite3.Error as err:
                    self._failed(err)
                    return
                for _ in range(parts):
                    self._held.popleft()
                self._held_count -= count
                self.rows_written += count
                self.last_write_at = self._clock()
                if recovering:
                    await self._run(self.store.checkpoint)
            if recovering:
                await self._run(self.store.checkpoint)
                _LOGGER.warning(
                    "history: writing again to %s; every held row written (%d dropped in all)",
                    self.path,
                    self.rows_dropped,
                )
                self.last_error = None

    def _next_batch(self) -> tuple[Rows, int, int]:
        """The oldest held batches merged, up to `max_batch_rows`: rows, count, batches."""
        merged: Rows = {}
        count = parts = 0
        for batch, n in self._held:
            if parts and count + n > self._max_batch_rows:
                break
            for table, rows in batch.items():
                merged.setdefault(table, []).extend(rows)
            count, parts = count + n, parts + 1
        return merged, count, parts

    def _failed(self, err: sqlite3.Error) -> None:
        message = explain(err, self.path)
        if message != self.last_error:
            _LOGGER.error("history: %s", message)
        self.last_error = message
        while self._held_count > self._max_held_rows and len(self._held) > 1:
            _, count = self._held.popleft()
            self._held_count -= count
            self.rows_dropped += count
            _LOGGER.error("history: dropped %d oldest rows held in memory", count)

    async def maintain(self, *, force: bool = False) -> None:
        """Downsample complete minutes and forget live samples past the window."""
        now = self._clock()
        last = self._last_maintenance
        if not force and last is not None and now - last < self._maintain_every_s:
            return
        self._last_maintenance = now
        try:
            await self._run(self.store.downsample)
            await self._run(self.store.forget, now, self._keep_live_s)
        except sqlite3.Error as err:
            _LOGGER.warning("history: maintenance postponed: %s", explain(err, self.path))

    def stats(self) -> dict[str, Any]:
        """The history's health, for /metrics and /healthz."""
        return {
            "pending_rows": self.held_rows,
            "dropped_rows": self.rows_dropped,
            "written_rows": self.rows_written,
            "last_write_at": self.last_write_at,
            "error": self.last_error,
        }

    @property
    def held_rows(self) -> int:
        """Rows in memory not yet written (pending and held after failures)."""
        return self._pending_count + self._held_count

"""The PostgreSQL sink: the history of many sites, from many collectors, in one database.

    [sinks.postgres]
    dsn_env = "ENPHASE_PG_DSN"       # or dsn = "postgresql://user@db.lan/enphase"
    collector = "garage-pi"          # owns the gateways it writes
    flush_interval_s = 2.0           # one transaction per flush
    live_interval_s = 5.0            # power rows at most every 5 s per gateway

Rows (see `postgres_rows`) collect in memory and go to the database in one
transaction per flush, one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO
NOTHING`` per table. When the database is unreachable the rows wait (up to
`max_buffer_rows`, oldest dropped first and counted) and the flush is
retried with backoff; since inserts are idempotent, retrying a batch whose
commit was lost with the connection writes nothing twice.

Several collectors, one database: each claims its gateways in ``gateways``
(column ``collector``). Rows for a gateway that another collector wrote
within `takeover_s` are dropped with one warning: a gateway configured in two
collectors by mistake is not written twice with two clocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import asyncpg

from ..models.live_frame import LiveFrame
from ..models.snapshot import Snapshot
from ..net.backoff import backoff_delay
from .config import sink_settings
from .postgres_migrate import migrate
from .postgres_rows import RowMaker, Rows
from .postgres_schema import GATEWAY_UPSERT, ROLLUP_MINUTES, TABLES, TRIM_SAMPLES, insert_sql
from .sinks import Event, Hub

__all__ = ["PostgresSettings", "PostgresSink"]

_LOG = logging.getLogger("enphase_local.service.postgres")
_DB_ERRORS = (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


@dataclass(frozen=True, slots=True)
class PostgresSettings:
    """Where the sink writes and how often (see the module docstring)."""

    dsn: str = field(default="postgresql://localhost/enphase", repr=False)
    collector: str = field(
        default_factory=lambda: socket.gethostname().split(".")[0] or "collector"
    )
    flush_interval_s: float = 2.0
    live_interval_s: float = 5.0
    max_buffer_rows: int = 500_000
    takeover_s: float = 600.0
    timescale: bool = True
    pool_size: int = 2
    keep_live_days: float = 7.0

    def __post_init__(self) -> None:
        if not self.dsn.startswith(("postgres://", "postgresql://")):
            raise ValueError("the PostgreSQL dsn must start with postgresql:// (or postgres://)")
        if self.flush_interval_s <= 0 or self.max_buffer_rows <= 0 or self.pool_size < 1:
            raise ValueError("flush_interval_s, max_buffer_rows and pool_size must be positive")

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> PostgresSettings:
        data = sink_settings(
            table, kind="PostgreSQL", secret="dsn", known=(f.name for f in fields(cls))
        )
        return cls(**data)


class PostgresSink:
    """Writes the history of every gateway of this collector to PostgreSQL."""

    name = "postgres"

    def __init__(self, settings: PostgresSettings | None = None, **options: Any) -> None:
        self.settings = settings if settings is not None else PostgresSettings(**options)
        self._rows: Rows = {}
        self._maker = RowMaker(self.settings.live_interval_s)
        self._pool: asyncpg.Pool | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._foreign: set[str] = set()
        self._rng = random.Random()
        self.timescale = False
        self.written = 0
        self.dropped = 0
        self.failures = 0
        self._newest_sample = 0.0  # epoch s of the newest power sample written
        self._folded_to = 0.0  # power_minutes are complete before this minute
        self._down_since: float | None = None  # loop time the current outage began

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> PostgresSink:
        """Build the sink from the collector's ``[sinks.postgres]`` TOML table."""
        return cls(PostgresSettings.from_config(table))

    # -- the Sink protocol ---------------------------------------------------

    async def start(self, hub: Hub) -> None:
        """Connect and migrate; raises `ConnectionError` with advice when the database is away."""
        del hub  # writes only
        s = self.settings
        try:
            self._pool = await asyncpg.create_pool(
                s.dsn, min_size=1, max_size=s.pool_size, command_timeout=60
            )
            async with self._pool.acquire() as conn:
                self.timescale = await migrate(conn, timescale=s.timescale)
        except _DB_ERRORS as err:
            if self._pool is not None:
                await self._pool.close()
                self._pool = None
            raise ConnectionError(
                f"cannot open the PostgreSQL history ({_brief(err)}); "
                "check the dsn, that the server runs and that this user may create tables"
            ) from None
        self._flusher = asyncio.create_task(self._flush_loop(), name="postgres-sink")

    async def on_snapshot(self, serial: str, snapshot: Snapshot) -> None:
        try:
            self._maker.snapshot_rows(serial, snapshot, self._rows)
        except Exception:  # one odd snapshot must not stop the collector
            _LOG.exception("PostgreSQL: could not turn the snapshot of %s into rows", serial)
        self._bound()

    async def on_live(self, serial: str, frame: LiveFrame) -> None:
        self._maker.frame_rows(serial, frame, self._rows)
        self._bound()

    async def on_event(self, event: Event) -> None:
        self._maker.event_rows(event, self._rows)

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        if self._pool is not None:
            try:
                await asyncio.wait_for(self.flush(), 30)
                self._outage(None)
            except Exception as err:
                _LOG.error(
                    "PostgreSQL: %d rows not written at shutdown: %s", self.pending, _brief(err)
                )
            await self._pool.close()
            self._pool = None

    # -- writing -----------------------------------------------------------------

    @property
    def pending(self) -> int:
        return sum(len(v) for v in self._rows.values())

    def _bound(self) -> None:
        """Keep memory bounded while the database is away: drop the oldest rows."""
        excess = self.pending - self.settings.max_buffer_rows
        if excess <= 0:
            return
        for table in ("power_samples", "battery_samples", "energy_counters", "inverter_reports"):
            rows = self._rows.get(table, [])
            cut = min(excess, len(rows))
            del rows[:cut]
            self.dropped += cut
            excess -= cut
            if excess <= 0:
                return

    async def flush(self) -> int:
        """Write every buffered row now in one transaction; returns the rows sent."""
        if self._pool is None:
            raise RuntimeError("the PostgreSQL sink is not started")
        async with self._lock:
            rows, self._rows = self._rows, {}
            if not rows:
                return 0
            try:
                sent = await self._write(rows)
            except BaseException:
                self._restore(rows)
                raise
            self.written += sent
            await self._fold_minutes()
            return sent

    async def _fold_minutes(self) -> None:
        """Fold whole minutes of power samples into power_minutes; trim the live window.

        Idempotent (an upsert over whole minutes), so collectors sharing a
        database, a retry or a restart never count a sample twice. The minute
        before the last one folded is folded again, for late samples.
        """
        upto = self._newest_sample // 60 * 60
        if upto <= self._folded_to or self._pool is None:
            return
        start = max(self._folded_to - 60, 0.0)
        keep_s = self.settings.keep_live_days * 86_400
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(ROLLUP_MINUTES, start, upto)
            await conn.execute(TRIM_SAMPLES, min(upto, self._newest_sample - keep_s))
        self._folded_to = upto

    def _restore(self, rows: Rows) -> None:
        for table, batch in rows.items():
            self._rows[table] = batch + self._rows.get(table, [])
        self._bound()

    async def _write(self, rows: Rows) -> int:
        assert self._pool is not None
        sent = 0
        async with self._pool.acquire() as conn, conn.transaction():
            await self._claim(conn, rows.pop("gateways", []))
            foreign = self._foreign
            for table, batch in rows.items():
                keep = [r for r in batch if r[0] not in foreign] if foreign else batch
                if keep:
                    await conn.execute(insert_sql(table), *_columns(table, keep))
                    sent += len(keep)
                    if table == "power_samples":
                        at = TABLES[table].index("at")
                        self._newest_sample = max(self._newest_sample, *(r[at] for r in keep))
        return sent

    async def _claim(self, conn: Any, gateways: list[tuple[Any, ...]]) -> None:
        """Upsert this collector's gateways; note those another collector owns."""
        latest: dict[str, tuple[Any, ...]] = {}
        for row in gateways:
            latest[row[0]] = row
        if not latest:
            return
        serial, host, firmware, first, last = zip(*latest.values(), strict=True)
        claimed = await conn.fetch(
            GATEWAY_UPSERT,
            list(serial),
            list(host),
            list(firmware),
            list(first),
            list(last),
            self.settings.collector,
            self.settings.takeover_s,
        )
        won = {r["serial"] for r in claimed}
        for lost in set(latest) - won - self._foreign:
            _LOG.warning(
                "PostgreSQL: gateway %s is written by another collector; "
                "this one (%s) skips it. Remove it from one of the two configurations",
                lost,
                self.settings.collector,
            )
        self._foreign |= set(latest) - won
        self._foreign -= won

    async def _flush_loop(self) -> None:
        """Flush on the interval; an outage is one line when it starts, one when it ends."""
        attempt = 0
        while True:
            await asyncio.sleep(self.settings.flush_interval_s)
            try:
                await self.flush()
            except Exception as err:  # the sink must outlive any failure
                self.failures += 1
                self._outage(err)
                delay = backoff_delay(attempt, base=1.0, cap=60.0, rng=self._rng)
                attempt += 1
                await asyncio.sleep(delay)
                continue
            attempt = 0
            self._outage(None)

    def _outage(self, err: BaseException | None) -> None:
        """Note a failed (`err`) or good write: log only the start and the end of an outage."""
        now = asyncio.get_running_loop().time()
        if err is not None and self._down_since is None:
            self._down_since = now
            _LOG.warning(
                "PostgreSQL: cannot write (%s); rows are kept in memory (at most %d, "
                "oldest dropped first) and written when the database is back",
                _brief(err),
                self.settings.max_buffer_rows,
            )
        elif err is None and self._down_since is not None:
            _LOG.warning(
                "PostgreSQL: writing again after %.0f s; %d rows dropped meanwhile",
                now - self._down_since,
                self.dropped,
            )
            self._down_since = None


def _brief(err: BaseException) -> str:
    """One line about a database error, without a traceback or a class name alone."""
    text = " ".join(str(err).split())
    return text[:200] if text else type(err).__name__


def _columns(table: str, rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    """Row tuples to one list per column (the unnest parameters)."""
    width = len(TABLES[table])
    return [list(col) for col in zip(*rows, strict=True)] if rows else [[]] * width

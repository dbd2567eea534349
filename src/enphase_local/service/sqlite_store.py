"""The SQLite history file: open, migrate, write batches, downsample, forget.

Why plain `sqlite3` in WAL mode: it ships with Python, a crash (even
``kill -9``) in the middle of a transaction leaves the file as it was before
that transaction, and readers (`enphase history`, the dashboard) never block
the writer. Every method here is blocking and meant to run on one thread
(`HistorySink` gives the store its own thread); nothing here knows asyncio.

Downsampling and retention are incremental: each call folds the minutes that
are complete since the last call (a watermark per gateway in ``progress``)
and deletes at most a bounded number of old live samples, so a year-old
backlog never stalls the writer.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .history_schema import FLOWS, MIGRATIONS, SCHEMA_VERSION, TABLES, for_sqlite

__all__ = ["HistoryError", "HistoryInUse", "HistoryStore", "insert_sql"]

Row = tuple[Any, ...]

# live samples of a minute are folded once the newest sample is this far past its end
_SETTLE_S = 5.0
_DELETE_SPAN_S = 86_400.0


class HistoryError(Exception):
    """The history file cannot be opened or written; the message says what to do."""


class HistoryInUse(HistoryError):
    """Another collector writes this history file (the lock beside it is held)."""


def insert_sql(table: str) -> str:
    """``INSERT OR IGNORE`` of every column of `table` (a re-sent row is not an error)."""
    columns = TABLES[table]
    marks = ", ".join("?" for _ in columns)
    return f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def explain(err: sqlite3.Error, path: Path) -> str:
    """A sentence a user can act on, from a sqlite3 error."""
    text = str(err).lower()
    if "full" in text:
        return f"the disk holding {path} is full: free some space; collected data is held meanwhile"
    if "locked" in text or "busy" in text:
        return (
            f"{path} is locked by another program (another collector?): stop it; "
            "collected data is held meanwhile"
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return f"cannot write {path}: check its folder exists and is writable ({err})"
    if "malformed" in text or "not a database" in text:
        return f"{path} is not a readable history database ({err}): move it aside to start anew"
    return f"history database {path}: {err}"


class HistoryStore:
    """One SQLite history file, used from a single thread."""

    def __init__(self, path: Path | str, *, timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self._timeout_s = timeout_s
        self._db: sqlite3.Connection | None = None
        self._lock_fd: int | None = None

    # -- lifecycle ----------------------------------------------------------------

    def open(self) -> None:
        """Create or open the file, in WAL mode, at the newest schema version.

        Takes the file's writer lock first (`HistoryInUse` when another
        collector holds it): two collectors on one file would double every
        sample and the load on every gateway.
        """
        if str(self.path) != ":memory:":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise HistoryError(
                    f"cannot create the folder of {self.path} ({err.strerror}): "
                    "create it, or choose another file with --db"
                ) from None
            self._lock()
        try:
            db = sqlite3.connect(
                self.path, timeout=self._timeout_s, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._db = db
            self._migrate(db)
        except sqlite3.Error as err:
            self.close()
            raise HistoryError(explain(err, self.path)) from None

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None

    def _lock(self) -> None:
        """Hold ``<file>.lock`` (flock: released by the kernel even on ``kill -9``)."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise HistoryError(f"cannot create {lock_path} ({err.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise HistoryInUse(
                f"{self.path} is already written by another `enphase collect` (pid {holder}): "
                "stop it, or give this one another --db"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def checkpoint(self) -> bool:
        """Move the WAL into the file and truncate it; True when it could (disk space).

        After a full disk the WAL holds everything written since; until it is
        checkpointed its space is not given back and every write needs more.
        """
        try:
            busy, _log, _done = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error:
            return False
        return not busy

    def wal_bytes(self) -> int:
        try:
            return self.path.with_name(self.path.name + "-wal").stat().st_size
        except OSError:
            return 0

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise HistoryError("the history store is not open")
        return self._db

    def _migrate(self, db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        version = int(row[0]) if row and row[0] is not None else 0
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"{self.path} was written by a newer enphase-local (schema {version}, this "
                f"one knows {SCHEMA_VERSION}): upgrade enphase-local"
            )
        if version == SCHEMA_VERSION:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            for step in MIGRATIONS[version:]:
                for statement in step.split(";"):
                    if statement.strip():
                        db.execute(for_sqlite(statement))
            db.execute("DELETE FROM schema_version")
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back (quietly) on any exception, which goes on."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise

    # -- writing -------------------------------------------------------------------

    def write(self, batch: Mapping[str, Sequence[Row]]) -> int:
        """Write every row of `batch` (table -> rows) in one transaction; rows written.

        Raises `sqlite3.Error` untouched (the caller keeps the batch and retries).
        """
        db = self.db
        count = 0
        with self._transaction():
            for table, rows in batch.items():
                if not rows:
                    continue
                if table == "gateways":
                    db.executemany(
                        "INSERT INTO gateways (serial, host, firmware, first_seen, last_seen) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (serial) DO UPDATE SET "
                        "host = excluded.host, firmware = excluded.firmware, "
                        "last_seen = MAX(gateways.last_seen, excluded.last_seen)",
                        rows,
                    )
                else:
                    db.executemany(insert_sql(table), rows)
                count += len(rows)
        return count

    # -- downsampling and retention -----------------------------------------------

    def downsample(self, *, max_minutes: int = 24 * 60) -> int:
        """Fold complete minutes of live samples into ``power_minutes``; minutes written.

        A minute is complete once a newer sample is `_SETTLE_S` past its end.
        At most `max_minutes` per gateway per call, so a backlog is worked off
        in steps. Re-folding a minute (after a crash) replaces it.
        """
        db = self.db
        written = 0
        for (serial,) in db.execute("SELECT DISTINCT serial FROM gateways").fetchall():
            newest = db.execute(
                "SELECT MAX(at) FROM power_samples WHERE serial = ?", (serial,)
            ).fetchone()[0]
            if newest is None:
                continue
            mark_row = db.execute(
                "SELECT value FROM progress WHERE name = 'downsampled' AND serial = ?", (serial,)
            ).fetchone()
            if mark_row is None:
                oldest = db.execute(
                    "SELECT MIN(at) FROM power_samples WHERE serial = ?", (serial,)
                ).fetchone()[0]
                mark = int(oldest // 60 * 60)
            else:
                mark = int(mark_row[0])
            end = int((newest - _SETTLE_S) // 60 * 60)  # first minute not yet complete
            end = min(end, mark + max_minutes * 60)
            if end <= mark:
                continue
            stats = ", ".join(f"MIN({f}_w), AVG({f}_w), MAX({f}_w)" for f in FLOWS)
            with self._transaction():
                cursor = db.execute(
                    "INSERT OR REPLACE INTO power_minutes "
                    f"SELECT serial, phase, CAST(at / 60 AS INTEGER) * 60, COUNT(*), {stats} "
                    "FROM power_samples WHERE serial = ? AND at >= ? AND at < ? "
                    "GROUP BY serial, phase, CAST(at / 60 AS INTEGER)",
                    (serial, mark, end),
                )
                written += max(cursor.rowcount, 0)
                db.execute(
                    "INSERT OR REPLACE INTO progress (name, serial, value) "
                    "VALUES ('downsampled', ?, ?)",
                    (serial, end),
                )
        return written

    def forget(self, now: float, window_s: float) -> int:
        """Delete live samples older than `window_s` that are already folded; rows deleted.

        Never deletes a sample whose minute is not yet in ``power_minutes``.
        """
        db = self.db
        deleted = 0
        cutoff = now - window_s
        marks = db.execute(
            "SELECT serial, value FROM progress WHERE name = 'downsampled'"
        ).fetchall()
        for serial, mark in marks:
            limit = min(cutoff, float(mark))
            oldest = db.execute(
                "SELECT MIN(at) FROM power_samples WHERE serial = ?", (serial,)
            ).fetchone()[0]
            if oldest is None or oldest >= limit:
                continue
            # a bounded step: about a day of 1 Hz samples at most per call
            step_end = min(limit, oldest + _DELETE_SPAN_S)
            cursor = db.execute(
                "DELETE FROM power_samples WHERE serial = ? AND at < ?", (serial, step_end)
            )
            deleted += max(cursor.rowcount, 0)
        return deleted

    # -- reading (tests, tools) ----------------------------------------------------

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return list(self.db.execute(sql, tuple(params)).fetchall())

"""The history file's schema: created once, reopened as is, refused when newer or not SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from enphase_local.service.history_schema import SCHEMA_VERSION, TABLES
from enphase_local.service.sqlite_store import HistoryError, HistoryStore


def test_schema_has_every_table_and_column_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    store = HistoryStore(path)
    store.open()
    store.write({"events": [("S", 1.0, "connected", "hello", "{}")]})
    store.close()
    store.open()  # a second open migrates nothing and keeps the data
    assert store.query("SELECT message FROM events") == [("hello",)]
    assert store.query("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    assert store.query("PRAGMA journal_mode") == [("wal",)]
    for table, columns in TABLES.items():
        got = tuple(row[1] for row in store.query(f"PRAGMA table_info({table})"))
        assert got == columns, table
    store.close()


def test_newer_schema_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    first = HistoryStore(path)
    first.open()
    first.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(HistoryError, match="upgrade enphase-local"):
        HistoryStore(path).open()


def test_a_file_that_is_not_a_database_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(HistoryError, match="move it aside"):
        HistoryStore(path).open()


def test_one_writer_per_history_file(tmp_path: Path) -> None:
    """A second store on the same file is refused with who holds it; a closed one frees it."""
    import os

    from enphase_local.service.sqlite_store import HistoryInUse

    path = tmp_path / "h.db"
    first = HistoryStore(path)
    first.open()
    second = HistoryStore(path)
    with pytest.raises(HistoryInUse, match=f"pid {os.getpid()}.*another --db"):
        second.open()
    first.close()
    second.open()
    second.close()

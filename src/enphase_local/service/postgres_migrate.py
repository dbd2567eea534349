"""Bring a PostgreSQL database to the current history schema, and to TimescaleDB when present.

Run by every collector at start. The transaction takes an advisory lock
first, so collectors starting together apply each migration once; a
database newer than this code is refused rather than written into with the
wrong columns.

TimescaleDB: when the extension is installed on the server (it must be in
``shared_preload_libraries``), the time-keyed tables become hypertables
(existing rows migrated) with compression segmented by gateway serial and a
policy compressing chunks older than 7 days. When it is absent, or this user
may not create it, the plain tables with their time indexes serve: same
columns, same queries.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from .postgres_schema import HYPERTABLES, MIGRATION_LOCK, MIGRATIONS, SCHEMA_VERSION

__all__ = ["migrate", "schema_version"]

_LOG = logging.getLogger("enphase_local.service.postgres")


async def schema_version(conn: Any) -> int:
    """The version recorded in ``schema_version`` (0 for an empty database)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    value = await conn.fetchval("SELECT max(version) FROM schema_version")
    return int(value or 0)


async def migrate(conn: Any, *, timescale: bool = True) -> bool:
    """Apply missing migrations; True when the tables are TimescaleDB hypertables."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        current = await schema_version(conn)
        if current > SCHEMA_VERSION:
            raise asyncpg.InvalidSchemaNameError(
                f"the database has history schema version {current}, newer than this "
                f"enphase-local's {SCHEMA_VERSION}: upgrade enphase-local on this collector"
            )
        for version in range(current, SCHEMA_VERSION):
            await conn.execute(MIGRATIONS[version])
            await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version + 1)
            _LOG.info("PostgreSQL history: migrated to schema version %d", version + 1)
    if not timescale:
        return False
    return await _timescale(conn)


async def _timescale(conn: Any) -> bool:
    available = await conn.fetchval(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'"
    )
    if not available:
        return False
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            for table, column in HYPERTABLES.items():
                await conn.execute(
                    f"SELECT create_hypertable('{table}', '{column}', "
                    "if_not_exists => TRUE, migrate_data => TRUE)"
                )
                compressed = await conn.fetchval(
                    "SELECT compression_enabled FROM timescaledb_information.hypertables "
                    "WHERE hypertable_name = $1",
                    table,
                )
                if not compressed:
                    await conn.execute(
                        f"ALTER TABLE {table} SET (timescaledb.compress, "
                        "timescaledb.compress_segmentby = 'serial')"
                    )
                    await conn.execute(
                        f"SELECT add_compression_policy('{table}', INTERVAL '7 days', "
                        "if_not_exists => TRUE)"
                    )
    except asyncpg.PostgresError as err:
        _LOG.warning(
            "PostgreSQL: TimescaleDB is available but could not be used (%s); "
            "plain tables with time indexes serve",
            err,
        )
        return False
    return True

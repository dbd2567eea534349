"""The PostgreSQL history's tables: the SQLite history's, in PostgreSQL's dialect.

Same table names, same columns in the same order as the SQLite history
(`TABLES` is taken from `history_schema.TABLES`), so that one query works
on either store and the rows a collector makes go to either unchanged. The
dialects part in two places only:

- time columns (``at``, ``first_seen``, ``last_seen``, ``last_report``) are
  ``timestamptz`` here, not epoch ``REAL``: Grafana and TimescaleDB want a
  real time type. Rows still carry epoch seconds; the INSERT converts them
  with ``to_timestamp`` so the row tuples stay identical;
- ``gateways`` has a ``collector`` column: which collector process owns the
  gateway, for deployments where several collectors share the database;
  ``events`` has a primary key so that a retried batch never repeats one.

Every table keyed by gateway serial and time has a primary key that makes
inserts idempotent (``ON CONFLICT DO NOTHING``): a restart, or a batch
retried after a lost connection, never duplicates a sample.

Migrations are numbered: ``MIGRATIONS[n]`` takes the schema from version n to
n + 1, applied in one transaction under an advisory lock, so collectors
starting together never race. With the TimescaleDB extension available, the
time-keyed tables become hypertables with compression (segment by serial).
"""

from __future__ import annotations

from typing import Final

from . import history_schema

__all__ = [
    "HYPERTABLES",
    "MIGRATIONS",
    "MIGRATION_LOCK",
    "ROLLUP_MINUTES",
    "SCHEMA_VERSION",
    "TABLES",
    "TRIM_SAMPLES",
]

TABLES: Final[dict[str, tuple[str, ...]]] = {
    name: history_schema.TABLES[name]
    for name in (
        "gateways",
        "power_samples",
        "energy_counters",
        "inverter_reports",
        "battery_samples",
        "events",
    )
}
"""Tables this sink writes: the SQLite history's, whose `TABLES` is the one home of the
columns (the order of the row tuples). The dialect differences live in the DDL below
and in `TIME_COLUMNS` / `TEXT_COLUMNS`."""

TIME_COLUMNS: Final = frozenset({"at", "first_seen", "last_seen", "last_report"})
TEXT_COLUMNS: Final = frozenset(
    {"serial", "host", "firmware", "phase", "flow", "inverter", "unit", "kind", "message"}
)

HYPERTABLES: Final[dict[str, str]] = {
    "power_samples": "at",
    "energy_counters": "at",
    "inverter_reports": "last_report",
    "battery_samples": "at",
    "events": "at",
}
"""Table -> time column, for TimescaleDB (when present)."""

MIGRATION_LOCK: Final = 0x456E7068  # pg_advisory_xact_lock key ("Enph")

_V1: Final = """
CREATE TABLE gateways (
    serial TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    firmware TEXT,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    collector TEXT NOT NULL
);
CREATE TABLE power_samples (
    serial TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    phase TEXT NOT NULL,
    solar_w DOUBLE PRECISION,
    house_w DOUBLE PRECISION,
    grid_w DOUBLE PRECISION,
    battery_w DOUBLE PRECISION,
    generator_w DOUBLE PRECISION,
    soc_percent DOUBLE PRECISION,
    PRIMARY KEY (serial, at, phase)
);
CREATE TABLE energy_counters (
    serial TEXT NOT NULL,
    flow TEXT NOT NULL,
    phase TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    wh_lifetime DOUBLE PRECISION,
    wh_today DOUBLE PRECISION,
    PRIMARY KEY (serial, flow, phase, at)
);
CREATE TABLE inverter_reports (
    serial TEXT NOT NULL,
    inverter TEXT NOT NULL,
    last_report TIMESTAMPTZ NOT NULL,
    watts DOUBLE PRECISION NOT NULL,
    max_watts DOUBLE PRECISION,
    wh_lifetime DOUBLE PRECISION,
    PRIMARY KEY (serial, inverter, last_report)
);
CREATE TABLE battery_samples (
    serial TEXT NOT NULL,
    unit TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    soc_percent DOUBLE PRECISION,
    watts DOUBLE PRECISION,
    available_wh DOUBLE PRECISION,
    capacity_wh DOUBLE PRECISION,
    temperature_c DOUBLE PRECISION,
    PRIMARY KEY (serial, unit, at)
);
CREATE TABLE events (
    serial TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    detail JSONB NOT NULL,
    PRIMARY KEY (serial, at, kind, message)
);
CREATE INDEX power_samples_by_time ON power_samples (at);
CREATE INDEX energy_counters_by_time ON energy_counters (at);
CREATE INDEX inverter_reports_by_time ON inverter_reports (last_report);
CREATE INDEX battery_samples_by_time ON battery_samples (at);
CREATE INDEX events_by_time ON events (at);
"""

# Version 2: the 1-minute min/mean/max of power_samples, kept for ever as in SQLite (the
# samples themselves are trimmed to the live window once folded in).
_V2: Final = (
    """
CREATE TABLE power_minutes (
    serial TEXT NOT NULL,
    phase TEXT NOT NULL,
    minute TIMESTAMPTZ NOT NULL,
    samples INTEGER NOT NULL,
"""
    + "".join(
        f"    {flow}_{stat} DOUBLE PRECISION,\n"
        for flow in history_schema.FLOWS
        for stat in ("min", "mean", "max")
    )
    + """    PRIMARY KEY (serial, phase, minute)
);
CREATE INDEX power_minutes_by_time ON power_minutes (minute);
"""
)

MIGRATIONS: Final[tuple[str, ...]] = (_V1, _V2)

_STATS = ", ".join(f"min({flow}_w), avg({flow}_w), max({flow}_w)" for flow in history_schema.FLOWS)
_UPDATES = ", ".join(
    f"{flow}_{stat} = EXCLUDED.{flow}_{stat}"
    for flow in history_schema.FLOWS
    for stat in ("min", "mean", "max")
)
ROLLUP_MINUTES: Final = f"""
INSERT INTO power_minutes
SELECT serial, phase, date_trunc('minute', at), count(*), {_STATS}
FROM power_samples
WHERE at >= to_timestamp($1) AND at < to_timestamp($2)
GROUP BY serial, phase, date_trunc('minute', at)
ON CONFLICT (serial, phase, minute) DO UPDATE SET samples = EXCLUDED.samples, {_UPDATES}
"""
"""Fold the samples of whole minutes in [$1, $2) (epoch s) into power_minutes; idempotent."""

TRIM_SAMPLES: Final = "DELETE FROM power_samples WHERE at < to_timestamp($1)"
"""Drop samples older than the live window (they were folded into power_minutes first)."""
SCHEMA_VERSION: Final = len(MIGRATIONS)


def insert_sql(table: str) -> str:
    """An idempotent batch INSERT: one array parameter per column, epoch seconds converted.

    ``unnest`` over arrays sends a whole batch as one statement (far fewer
    round trips than executemany), and ``ON CONFLICT DO NOTHING`` makes a
    retried or repeated batch harmless.
    """
    columns = TABLES[table]
    params = ", ".join(f"${i}::{_array_type(c)}" for i, c in enumerate(columns, 1))
    select = ", ".join(f"to_timestamp({c})" if c in TIME_COLUMNS else c for c in columns)
    names = ", ".join(columns)
    return (
        f"INSERT INTO {table} ({names}) SELECT {select} "
        f"FROM unnest({params}) AS u({names}) ON CONFLICT DO NOTHING"
    )


def _array_type(column: str) -> str:
    if column == "detail":
        return "jsonb[]"
    if column in TEXT_COLUMNS:
        return "text[]"
    return "float8[]"


GATEWAY_UPSERT: Final = """
INSERT INTO gateways (serial, host, firmware, first_seen, last_seen, collector)
SELECT serial, host, firmware, to_timestamp(first_seen), to_timestamp(last_seen), $6
FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[])
    AS u(serial, host, firmware, first_seen, last_seen)
ON CONFLICT (serial) DO UPDATE SET
    host = EXCLUDED.host,
    firmware = EXCLUDED.firmware,
    last_seen = GREATEST(gateways.last_seen, EXCLUDED.last_seen),
    collector = EXCLUDED.collector
WHERE gateways.collector = EXCLUDED.collector
    OR gateways.last_seen < EXCLUDED.last_seen - make_interval(secs => $7)
RETURNING serial
"""
"""Claims gateways for this collector: a gateway another collector wrote within the takeover
window stays theirs (no row returned for it), so two collectors never both write one site."""

"""The history's tables: one place that names them, for SQLite and its mirrors.

Why a module of its own: the SQLite store (the embedded default) and the
PostgreSQL sink keep the same tables with the same columns, so that
`enphase history` and the dashboard ask the same questions of either. The
DDL below is written in the subset both dialects accept (``TEXT``, ``REAL``,
``INTEGER``, composite primary keys, no AUTOINCREMENT); `TABLES` lists every
table and its columns in order, for a mirror to build its own DDL or
``COPY`` lists from.

Units follow the models: watts, watt-hours, percent, epoch seconds (``at``
is when the data was current, the collector's clock). ``phase`` is ``''``
for the whole site and ``L1``..``L3`` per phase, so that it can be part of a
primary key. Migrations are numbered: `MIGRATIONS[n]` takes a database from
version ``n`` to ``n + 1``; the store applies the missing ones in one
transaction at start and records the version in ``schema_version``.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FLOWS", "MIGRATIONS", "SCHEMA_VERSION", "TABLES", "for_sqlite"]

# The balanced power flows of a LiveFrame, in the order of their columns.
FLOWS: Final = ("solar", "house", "grid", "battery", "generator")

# table -> columns in order (the first ones form the primary key, see the DDL)
TABLES: Final[dict[str, tuple[str, ...]]] = {
    "schema_version": ("version",),
    "gateways": ("serial", "host", "firmware", "first_seen", "last_seen"),
    # live rate (about 1 Hz, or one per update without live data); kept for a window
    "power_samples": (
        "serial",
        "at",
        "phase",
        "solar_w",
        "house_w",
        "grid_w",
        "battery_w",
        "generator_w",
        "soc_percent",
    ),
    # 1-minute min/mean/max of power_samples, kept for ever; minute = epoch of its start
    "power_minutes": (
        "serial",
        "phase",
        "minute",
        "samples",
        *(f"{flow}_{stat}" for flow in FLOWS for stat in ("min", "mean", "max")),
    ),
    # energy counters of each flow at every read (flow: production, consumption, net_consumption)
    "energy_counters": ("serial", "flow", "phase", "at", "wh_lifetime", "wh_today"),
    # one row per microinverter report (they come every 5 minutes)
    "inverter_reports": ("serial", "inverter", "last_report", "watts", "max_watts", "wh_lifetime"),
    # the battery bank (unit = '') and each unit, at every read
    "battery_samples": (
        "serial",
        "unit",
        "at",
        "soc_percent",
        "watts",
        "available_wh",
        "capacity_wh",
        "temperature_c",
    ),
    # connected / stale / recovered / unreachable / warning / error / write
    "events": ("serial", "at", "kind", "message", "detail"),
    # bookkeeping of incremental jobs (downsampling watermark per gateway)
    "progress": ("name", "serial", "value"),
}

_V1: Final = """
CREATE TABLE gateways (
    serial TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    firmware TEXT,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE power_samples (
    serial TEXT NOT NULL,
    at REAL NOT NULL,
    phase TEXT NOT NULL,
    solar_w REAL,
    house_w REAL,
    grid_w REAL,
    battery_w REAL,
    generator_w REAL,
    soc_percent REAL,
    PRIMARY KEY (serial, at, phase)
);
CREATE TABLE power_minutes (
    serial TEXT NOT NULL,
    phase TEXT NOT NULL,
    minute INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    solar_min REAL, solar_mean REAL, solar_max REAL,
    house_min REAL, house_mean REAL, house_max REAL,
    grid_min REAL, grid_mean REAL, grid_max REAL,
    battery_min REAL, battery_mean REAL, battery_max REAL,
    generator_min REAL, generator_mean REAL, generator_max REAL,
    PRIMARY KEY (serial, phase, minute)
);
CREATE TABLE energy_counters (
    serial TEXT NOT NULL,
    flow TEXT NOT NULL,
    phase TEXT NOT NULL,
    at REAL NOT NULL,
    wh_lifetime REAL,
    wh_today REAL,
    PRIMARY KEY (serial, flow, phase, at)
);
CREATE TABLE inverter_reports (
    serial TEXT NOT NULL,
    inverter TEXT NOT NULL,
    last_report INTEGER NOT NULL,
    watts REAL NOT NULL,
    max_watts REAL,
    wh_lifetime REAL,
    PRIMARY KEY (serial, inverter, last_report)
);
CREATE TABLE battery_samples (
    serial TEXT NOT NULL,
    unit TEXT NOT NULL,
    at REAL NOT NULL,
    soc_percent REAL,
    watts REAL,
    available_wh REAL,
    capacity_wh REAL,
    temperature_c REAL,
    PRIMARY KEY (serial, unit, at)
);
CREATE TABLE events (
    serial TEXT NOT NULL,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX events_by_time ON events (serial, at);
CREATE TABLE progress (
    name TEXT NOT NULL,
    serial TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (name, serial)
);
"""

# MIGRATIONS[n]: statements that take the schema from version n to n + 1.
MIGRATIONS: Final[tuple[str, ...]] = (_V1,)
SCHEMA_VERSION: Final = len(MIGRATIONS)


def for_sqlite(statement: str) -> str:
    """The SQLite form of one DDL statement: tables with a primary key are WITHOUT ROWID.

    Why: rows then live in the primary key's b-tree, clustered by gateway and
    time, instead of a rowid table plus an index repeating every key (about
    40 % of the file, and a lookup per row for every range query).
    PostgreSQL has no such clause; its tables are heap + index anyway.
    """
    text = statement.strip()
    if text.upper().startswith("CREATE TABLE") and "PRIMARY KEY" in text.upper():
        return text + " WITHOUT ROWID"
    return text

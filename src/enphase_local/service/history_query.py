"""Questions asked of the history: energy, power and inverters over a range, in buckets.

Why energy comes from counter differences: the gateway's lifetime counters
are what the utility and the installer see; integrating sampled power drifts
with every missed sample. The energy of a bucket is the sum of the counter's
increases between consecutive reads whose later read falls in it, so the
buckets of any range add up to the counter's change over that range.
Production and consumption counters only grow (a drop is a counter reset
and is skipped); the net-consumption counter is signed (export lowers it).

Buckets are calendar periods in local time (``tz="localtime"``, the
machine's) or UTC (``tz="utc"``), named by their start (``2026-06-15``,
``2026-06``, ``2026-06-15T13:00``). Every function takes an open
`sqlite3.Connection` and returns plain rows, for the CLI and the dashboard.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from .history_schema import FLOWS

__all__ = [
    "BUCKETS",
    "COUNTER_NAMES",
    "EnergyRow",
    "InverterRow",
    "PowerRow",
    "bucket_sql",
    "energy",
    "inverters",
    "power",
]

# --every -> strftime pattern of the bucket's name (15m is special-cased)
BUCKETS: Final = {
    "15m": None,
    "1h": "%Y-%m-%dT%H:00",
    "1d": "%Y-%m-%d",
    "1mo": "%Y-%m",
    "1y": "%Y",
}
# counter flow (as stored) -> the name users read
COUNTER_NAMES: Final = {"production": "solar", "consumption": "house", "net_consumption": "grid"}
_SIGNED: Final = frozenset({"net_consumption"})


@dataclass(frozen=True, slots=True)
class EnergyRow:
    bucket: str
    serial: str
    flow: str
    wh: float


@dataclass(frozen=True, slots=True)
class PowerRow:
    bucket: str
    serial: str
    flow: str
    mean_w: float | None
    min_w: float | None
    max_w: float | None


@dataclass(frozen=True, slots=True)
class InverterRow:
    bucket: str
    serial: str
    inverter: str
    reports: int
    mean_w: float
    max_w: float
    wh: float | None  # from the inverter's own lifetime counter, where the gateway gives it


def bucket_sql(every: str, column: str, tz: str = "localtime") -> str:
    """An SQL expression naming the bucket of epoch-seconds `column`."""
    if every not in BUCKETS:
        raise ValueError(f"unknown bucket {every!r}: use one of {', '.join(BUCKETS)}")
    if tz not in ("localtime", "utc"):
        raise ValueError("tz must be 'localtime' or 'utc'")
    modifiers = f"{column}, 'unixepoch'" + (", 'localtime'" if tz == "localtime" else "")
    pattern = BUCKETS[every]
    if pattern is None:
        minute = f"CAST(strftime('%M', {modifiers}) AS INTEGER) / 15 * 15"
        return f"strftime('%Y-%m-%dT%H:', {modifiers}) || printf('%02d', {minute})"
    return f"strftime('{pattern}', {modifiers})"


def _serial_filter(serials: Sequence[str]) -> tuple[str, list[str]]:
    if not serials:
        return "", []
    return f" AND serial IN ({', '.join('?' for _ in serials)})", list(serials)


def energy(
    db: sqlite3.Connection,
    start: float,
    end: float,
    every: str,
    *,
    serials: Sequence[str] = (),
    tz: str = "localtime",
) -> list[EnergyRow]:
    """Energy of each flow per bucket in ``(start, end]``, from lifetime counter differences."""
    where, params = _serial_filter(serials)
    # a read closes the interval before it: one exactly at midnight belongs to the day before
    bucket = bucket_sql(every, "(at - 0.001)", tz)
    pairs = db.execute(
        f"SELECT DISTINCT serial, flow FROM energy_counters WHERE phase = ''{where}", params
    ).fetchall()
    out: list[EnergyRow] = []
    for serial, flow in pairs:
        # the last read at or before `start` is where the first difference starts from
        lower = db.execute(
            "SELECT MAX(at) FROM energy_counters WHERE serial = ? AND flow = ? AND phase = '' "
            "AND at <= ?",
            (serial, flow, start),
        ).fetchone()[0]
        lower = start if lower is None else lower
        keep = "delta" if flow in _SIGNED else "CASE WHEN delta > 0 THEN delta ELSE 0 END"
        rows = db.execute(
            f"WITH d AS (SELECT at, wh_lifetime - LAG(wh_lifetime) OVER (ORDER BY at) AS delta "
            "FROM energy_counters WHERE serial = ? AND flow = ? AND phase = '' "
            "AND wh_lifetime IS NOT NULL AND at >= ? AND at <= ?) "
            f"SELECT {bucket}, SUM({keep}) FROM d WHERE delta IS NOT NULL AND at > ? "
            "GROUP BY 1 ORDER BY 1",
            (serial, flow, lower, end, start),
        ).fetchall()
        name = COUNTER_NAMES.get(flow, flow)
        out.extend(EnergyRow(b, serial, name, float(wh)) for b, wh in rows)
    out.sort(key=lambda r: (r.bucket, r.serial, r.flow))
    return out


def power(
    db: sqlite3.Connection,
    start: float,
    end: float,
    every: str,
    *,
    serials: Sequence[str] = (),
    tz: str = "localtime",
    flows: Sequence[str] = FLOWS,
) -> list[PowerRow]:
    """Mean, min and max power of each flow per bucket, whole site (phase ``''``).

    Folded minutes come from ``power_minutes``; the minutes not yet folded
    from the live samples themselves, so the newest data is always there.
    """
    where, params = _serial_filter(serials)
    minute_bucket = bucket_sql(every, "minute", tz)
    sample_bucket = bucket_sql(every, "at", tz)
    out: list[PowerRow] = []
    for flow in flows:
        if flow not in FLOWS:
            raise ValueError(f"unknown flow {flow!r}")
        sql = (
            "WITH m AS ("
            f"SELECT {minute_bucket} AS b, serial, samples AS n, {flow}_mean * samples AS total, "
            f"{flow}_min AS lo, {flow}_max AS hi FROM power_minutes "
            f"WHERE phase = '' AND minute >= ? AND minute < ? AND {flow}_mean IS NOT NULL{where} "
            "UNION ALL "
            f"SELECT {sample_bucket}, serial, 1, {flow}_w, {flow}_w, {flow}_w FROM power_samples s "
            f"WHERE phase = '' AND at >= ? AND at < ? AND {flow}_w IS NOT NULL{where} "
            "AND at >= COALESCE((SELECT value FROM progress WHERE name = 'downsampled' "
            "AND progress.serial = s.serial), 0)) "
            "SELECT b, serial, SUM(total) / SUM(n), MIN(lo), MAX(hi) FROM m "
            "GROUP BY b, serial ORDER BY b, serial"
        )
        rows = db.execute(sql, [start, end, *params, start, end, *params]).fetchall()
        out.extend(PowerRow(b, serial, flow, mean, lo, hi) for b, serial, mean, lo, hi in rows)
    out.sort(key=lambda r: (r.bucket, r.serial, r.flow))
    return out


def inverters(
    db: sqlite3.Connection,
    start: float,
    end: float,
    every: str,
    *,
    serials: Sequence[str] = (),
    tz: str = "localtime",
) -> list[InverterRow]:
    """Reports, mean and peak power of each microinverter per bucket (by report time)."""
    where, params = _serial_filter(serials)
    bucket = bucket_sql(every, "last_report", tz)
    rows = db.execute(
        f"SELECT {bucket}, serial, inverter, COUNT(*), AVG(watts), MAX(watts), "
        "MAX(wh_lifetime) - MIN(wh_lifetime) FROM inverter_reports "
        f"WHERE last_report > ? AND last_report <= ?{where} "
        "GROUP BY 1, serial, inverter ORDER BY 1, serial, inverter",
        [start, end, *params],
    ).fetchall()
    return [
        InverterRow(b, s, i, n, float(mean), float(hi), wh) for b, s, i, n, mean, hi, wh in rows
    ]

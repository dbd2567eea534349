"""Questions asked of the history: energy, power and inverters over a range, in buckets.

Why energy comes from counter differences: the gateway's lifetime counters
are what the utility and the installer see; integrating sampled power drifts
with every missed sample. The energy of a bucket is the sum of the counter's
increases between consecutive reads whose later read falls in it, so the
buckets of any range add up to the counter's change over that range.
Production and consumption counters only grow (a drop is a counter reset
and is skipped); the net-consumption counter is signed (export lowers it).

Buckets are calendar periods in local time (``tz="localtime"``, the
machine's), UTC (``tz="utc"``) or any IANA zone, named by their start
(``2026-06-15``, ``2026-06``, ``2026-06-15T13:00``). Why the work is split:
SQLite sums a year of reads into fixed UTC slots (15 minutes, or an hour
where the zone's offsets are whole hours) with integer arithmetic, and
Python names the few thousand slots' calendar buckets with the zone rules
(DST included): every zone offset is a multiple of 15 minutes, so a slot
never straddles two buckets. Every function takes an open
`sqlite3.Connection` and returns plain rows, for the CLI and the dashboard.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .history_rows import DERIVED_PREFIX, ENERGY_PREFIX, ZONE_EVENT
from .history_schema import FLOWS

__all__ = [
    "BUCKETS",
    "COUNTER_NAMES",
    "EnergyRow",
    "InverterRow",
    "PowerRow",
    "bucket_namer",
    "derived_state",
    "energy",
    "inverters",
    "power",
    "site_zone",
]

# --every -> strftime pattern of the bucket's name (15m adds its quarter)
BUCKETS: Final = {
    "15m": "%Y-%m-%dT%H:",
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


def _zone(tz: str) -> dt.tzinfo | None:
    """None for the machine's local time (the C library's rules, DST included)."""
    if tz == "localtime":
        return None
    if tz.lower() == "utc":
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r}: use localtime, utc or an IANA name") from None


def _local(ts: float, zone: dt.tzinfo | None) -> dt.datetime:
    return (
        dt.datetime.fromtimestamp(ts, zone) if zone else dt.datetime.fromtimestamp(ts).astimezone()
    )


def bucket_namer(every: str, tz: str = "localtime") -> Callable[[float], str]:
    """A function naming the bucket of an epoch time."""
    if every not in BUCKETS:
        raise ValueError(f"unknown bucket {every!r}: use one of {', '.join(BUCKETS)}")
    zone = _zone(tz)
    pattern = BUCKETS[every]
    if every == "15m":
        return lambda ts: (d := _local(ts, zone)).strftime(pattern) + f"{d.minute // 15 * 15:02d}"
    return lambda ts: _local(ts, zone).strftime(pattern)


def _slot_seconds(every: str, tz: str, start: float, end: float) -> int:
    """3600 when whole hours cannot straddle a bucket edge in `tz` over the range, else 900."""
    if every == "15m":
        return 900
    zone = _zone(tz)
    for ts in (start, (start + end) / 2, end):
        offset = _local(max(ts, 0.0), zone).utcoffset()
        if offset is None or offset.total_seconds() % 3600:
            return 900
    return 3600


def _plan(
    every: str, tz: str, start: float, end: float, serials: Sequence[str]
) -> tuple[Callable[[float], str], int, str, list[str]]:
    """What every query needs: bucket namer, slot seconds, serial filter and its parameters."""
    name_of = bucket_namer(every, tz)
    slot = _slot_seconds(every, tz, start, end)
    if not serials:
        return name_of, slot, "", []
    return name_of, slot, f" AND serial IN ({', '.join('?' for _ in serials)})", list(serials)


def _lower(a: Any, b: Any) -> Any:
    """The smaller of two values where None means "none yet"."""
    return b if a is None else a if b is None else min(a, b)


def _higher(a: Any, b: Any) -> Any:
    """The larger of two values where None means "none yet"."""
    return b if a is None else a if b is None else max(a, b)


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
    name_of, slot, where, params = _plan(every, tz, start, end, serials)
    pairs = _energy_flows(
        db.execute(
            f"SELECT DISTINCT serial, flow FROM energy_counters WHERE phase = ''{where}", params
        ).fetchall()
    )
    totals: dict[tuple[str, str, str], float] = {}
    for serial, flow in pairs:
        # the last read at or before `start` is where the first difference starts from
        lower = db.execute(
            "SELECT MAX(at) FROM energy_counters WHERE serial = ? AND flow = ? AND phase = '' "
            "AND at <= ?",
            (serial, flow, start),
        ).fetchone()[0]
        lower = start if lower is None else lower
        keep = "delta" if flow in _SIGNED else "CASE WHEN delta > 0 THEN delta ELSE 0 END"
        # a read closes the interval before it: one exactly at midnight belongs to the day before
        rows = db.execute(
            "WITH d AS (SELECT at, wh_lifetime - LAG(wh_lifetime) OVER (ORDER BY at) AS delta "
            "FROM energy_counters WHERE serial = ? AND flow = ? AND phase = '' "
            "AND wh_lifetime IS NOT NULL AND at >= ? AND at <= ?) "
            f"SELECT CAST((at - 0.001) / {slot} AS INTEGER), SUM({keep}) FROM d "
            "WHERE delta IS NOT NULL AND at > ? GROUP BY 1",
            (serial, flow, lower, end, start),
        ).fetchall()
        name = COUNTER_NAMES.get(flow, flow.removeprefix(ENERGY_PREFIX))
        for index, wh in rows:
            key = (name_of(index * slot), serial, name)
            totals[key] = totals.get(key, 0.0) + float(wh)
    out = [EnergyRow(b, serial, flow, wh) for (b, serial, flow), wh in totals.items()]
    out.sort(key=lambda r: (r.bucket, r.serial, r.flow))
    return out


def _energy_flows(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The flows to answer with: a gateway's six flows where stored, else its three counters.

    The six (``e:solar``...) are the real house load and every grid and battery
    direction; the gateway's consumption counter counts battery charging as house
    use, so it never stands beside them as "house". The derived counters' state
    (``d:...``) is bookkeeping, not a flow.
    """
    with_six = {serial for serial, flow in pairs if flow.startswith(ENERGY_PREFIX)}
    return [
        (serial, flow)
        for serial, flow in pairs
        if not flow.startswith(DERIVED_PREFIX)
        and (flow.startswith(ENERGY_PREFIX) or serial not in with_six)
    ]


Kept = tuple[dict[str, tuple[float, float]], float | None, dict[str, tuple[float, float, float]]]


def site_zone(db: sqlite3.Connection, serials: Sequence[str] = ()) -> str | None:
    """The sites' own zone, when the history knows it and every site shares it (else None).

    Why: days and months are the site's, not the host's (a collector on UTC,
    a site in California); the collector writes a ``zone`` event per site.
    """
    where = f" AND serial IN ({', '.join('?' for _ in serials)})" if serials else ""
    rows = db.execute(
        "SELECT serial, message FROM events e WHERE kind = ?" + where + " AND at = "
        "(SELECT MAX(at) FROM events WHERE serial = e.serial AND kind = e.kind)",
        (ZONE_EVENT, *serials),
    ).fetchall()
    zones = {message for _, message in rows}
    return zones.pop() if len(zones) == 1 else None


def derived_state(db: sqlite3.Connection, serial: str) -> Kept:
    """What `EnergyBook.restore` takes: the derived counters a gateway last reached, its
    derived house, and each flow's last (when, lifetime, today) to go on with its day."""
    rows = db.execute(
        "SELECT flow, wh_lifetime, at, wh_today FROM energy_counters e WHERE serial = ? "
        "AND phase = '' AND (flow LIKE 'd:%' OR flow LIKE 'e:%') AND at = (SELECT MAX(at) "
        "FROM energy_counters WHERE serial = e.serial AND flow = e.flow AND phase = '')",
        (serial,),
    ).fetchall()
    values = {flow: float(wh) for flow, wh, _, _ in rows if wh is not None}
    days = {
        flow.removeprefix(ENERGY_PREFIX): (float(at), float(wh), float(today))
        for flow, wh, at, today in rows
        if flow.startswith(ENERGY_PREFIX) and wh is not None and today is not None
    }
    state: dict[str, tuple[float, float]] = {}
    for flow, wh in values.items():
        if flow.startswith(DERIVED_PREFIX) and flow.endswith("+"):
            name = flow[len(DERIVED_PREFIX) : -1]
            state[name] = (wh, values.get(f"{DERIVED_PREFIX}{name}-", 0.0))
    return state, values.get(ENERGY_PREFIX + "house"), days


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
    for flow in flows:
        if flow not in FLOWS:
            raise ValueError(f"unknown flow {flow!r}")
    name_of, slot, where, params = _plan(every, tz, start, end, serials)
    minute_stats = ", ".join(
        f"SUM({f}_mean * samples), SUM(CASE WHEN {f}_mean IS NOT NULL THEN samples END), "
        f"MIN({f}_min), MAX({f}_max)"
        for f in flows
    )
    sample_stats = ", ".join(f"SUM({f}_w), COUNT({f}_w), MIN({f}_w), MAX({f}_w)" for f in flows)
    sql = (
        f"SELECT CAST(minute / {slot} AS INTEGER), serial, {minute_stats} FROM power_minutes "
        f"WHERE phase = '' AND minute >= ? AND minute < ?{where} GROUP BY 1, 2 "
        "UNION ALL "
        f"SELECT CAST(at / {slot} AS INTEGER), serial, {sample_stats} FROM power_samples s "
        f"WHERE phase = '' AND at >= ? AND at < ?{where} "
        "AND at >= COALESCE((SELECT value FROM progress WHERE name = 'downsampled' "
        "AND progress.serial = s.serial), 0) GROUP BY 1, 2"
    )
    acc: dict[tuple[str, str, str], list[float | None]] = {}
    for row in db.execute(sql, [start, end, *params, start, end, *params]):
        bucket, serial = name_of(row[0] * slot), row[1]
        for i, flow in enumerate(flows):
            total, n, lo, hi = row[2 + 4 * i : 6 + 4 * i]
            if not n:
                continue
            cur = acc.setdefault((bucket, serial, flow), [0.0, 0.0, None, None])
            cur[0] = (cur[0] or 0.0) + total
            cur[1] = (cur[1] or 0.0) + n
            cur[2] = _lower(cur[2], lo)
            cur[3] = _higher(cur[3], hi)
    out = [
        PowerRow(b, serial, flow, (v[0] or 0.0) / (v[1] or 1.0), v[2], v[3])
        for (b, serial, flow), v in acc.items()
    ]
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
    name_of, slot, where, params = _plan(every, tz, start, end, serials)
    rows = db.execute(
        f"SELECT CAST((last_report - 0.001) / {slot} AS INTEGER), serial, inverter, COUNT(*), "
        "SUM(watts), MAX(watts), MIN(wh_lifetime), MAX(wh_lifetime) FROM inverter_reports "
        f"WHERE last_report > ? AND last_report <= ?{where} GROUP BY 1, 2, 3",
        [start, end, *params],
    )
    acc: dict[tuple[str, str, str], list[Any]] = {}
    for index, serial, inverter, n, total, hi, wh_lo, wh_hi in rows:
        key = (name_of(index * slot), serial, inverter)
        cur = acc.get(key)
        if cur is None:
            acc[key] = [n, total, hi, wh_lo, wh_hi]
            continue
        cur[0] += n
        cur[1] += total
        cur[2] = max(cur[2], hi)
        cur[3] = _lower(cur[3], wh_lo)
        cur[4] = _higher(cur[4], wh_hi)
    out = [
        InverterRow(
            b,
            serial,
            inverter,
            v[0],
            float(v[1]) / v[0],
            float(v[2]),
            None if v[3] is None or v[4] is None else float(v[4] - v[3]),
        )
        for (b, serial, inverter), v in acc.items()
    ]
    out.sort(key=lambda r: (r.bucket, r.serial, r.inverter))
    return out

"""What the dashboard shows, as plain JSON documents: live state and history series.

Kept apart from the HTTP routes so that each document is a pure function
of the collector's state or of a read-only database connection, easy to
test without a browser. History reads open their own short-lived
connection (WAL readers never block the writer) and run in a thread.
A gateway's live flows and its inverters' power and report time are read
through the feature table (`enphase_local.features`), so the page shows the
numbers MQTT, Home Assistant and /metrics show; the documents keep their keys.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..features import Readings, by_id
from ..models.energy_flows import ENERGY_FLOWS
from ..models.live_frame import LiveFrame
from ..models.snapshot import Snapshot
from . import history_query as hq
from .site_sum import site_members

if TYPE_CHECKING:
    from .collector import GatewayState

__all__ = ["battery_series", "energy_bars", "inverter_table", "live_document", "today_series"]

_SPANS = {"1d": 31, "1mo": 366, "1y": 3653}  # days of bars per granularity


def live_document(
    states: Mapping[str, GatewayState], now: float, stale_after_s: float
) -> dict[str, Any]:
    """The server-sent event of one tick: every gateway's flows, state and data age."""
    gateways = []
    for state in states.values():
        age = None if state.last_ok is None else max(0.0, now - state.last_ok)
        snap = state.snapshot
        flows = None if state.frame is None or snap is None else _flows(snap, state.frame)
        stale = state.state != "connected" or age is None or age > stale_after_s
        gateways.append(
            {
                "name": state.name,
                "serial": state.serial,
                "state": state.state,
                "stale": stale,
                "age_s": age,
                "error": state.last_error,
                "flows": flows,
                "live": state.follows_live,  # following live data now (`live_demand`)
                "sum_of": None if snap is None else site_members(snap),  # a [[site]]: its serials
            }
        )
    return {"now": now, "gateways": gateways}


_FLOWS = {f: by_id(f"live_{f}_power") for f in ("solar", "house", "grid", "battery", "generator")}


def _flows(snap: Snapshot, frame: LiveFrame) -> dict[str, Any]:
    """The live flow as the feature table reads it (the same numbers as MQTT and /metrics).

    ``soc`` is the frame's own state of charge (the balance's, AC Battery included), which
    no feature of the table reads; ``taken_at`` says when the frame was measured.
    """
    readings = Readings(snap, frame)
    flows: dict[str, Any] = {key: f.value(readings) for key, f in _FLOWS.items()}
    flows.update(soc=frame.soc_percent, taken_at=frame.taken_at)
    return flows


def _local_midnight(now: float) -> float:
    day = dt.datetime.fromtimestamp(now).date()
    return dt.datetime.combine(day, dt.time()).timestamp()


def today_series(db: sqlite3.Connection, serial: str, now: float) -> dict[str, Any]:
    """Per-minute mean power of each flow since local midnight (folded and live minutes)."""
    start = _local_midnight(now)
    rows = db.execute(
        "SELECT minute, solar_mean, house_mean, grid_mean, battery_mean FROM power_minutes "
        "WHERE serial = ? AND phase = '' AND minute >= ? "
        "UNION ALL "
        "SELECT CAST(at / 60 AS INTEGER) * 60, AVG(solar_w), AVG(house_w), AVG(grid_w), "
        "AVG(battery_w) FROM power_samples WHERE serial = ? AND phase = '' AND at >= MAX(?, "
        "COALESCE((SELECT value FROM progress WHERE name = 'downsampled' AND serial = ?), 0)) "
        "GROUP BY 1 ORDER BY 1",
        (serial, start, serial, start, serial),
    ).fetchall()
    rows.sort(key=lambda r: r[0])
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return {
        "start": start,
        "t": list(columns[0]),
        "solar": list(columns[1]),
        "house": list(columns[2]),
        "grid": list(columns[3]),
        "battery": list(columns[4]),
    }


BAR_FLOWS = (*ENERGY_FLOWS, "grid")  # grid: histories from before the six flows (net counter)


def _zone_midnight(now: float, zone: str | None) -> float:
    """The start of `now`'s day in the site's zone (the host's when not known)."""
    if zone is None:
        return _local_midnight(now)
    tz = ZoneInfo(zone)
    day = dt.datetime.fromtimestamp(now, tz).date()
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).timestamp()


def energy_bars(
    db: sqlite3.Connection, serial: str, now: float, every: str, zone: str | None = None
) -> dict[str, Any]:
    """Energy per day, month or year of every flow, and today's and this month's totals.

    Buckets, today and this month follow the site's `zone` (``Snapshot.energy.zone``).
    """
    if every not in _SPANS:
        raise ValueError(f"every must be one of {', '.join(_SPANS)}")
    tz = zone or "localtime"
    midnight = _zone_midnight(now, zone)
    rows = hq.energy(db, midnight - _SPANS[every] * 86_400.0, now, every, serials=(serial,), tz=tz)
    buckets = sorted({r.bucket for r in rows})
    by = {(r.bucket, r.flow): r.wh for r in rows}
    local = dt.datetime.fromtimestamp(midnight, ZoneInfo(zone)) if zone else None
    month_day = (local or dt.datetime.fromtimestamp(midnight)).replace(day=1)
    month_start = _zone_midnight(month_day.timestamp() + 3600, zone)
    totals = {}
    for name, since in (("today", midnight), ("month", month_start)):
        found = hq.energy(db, since, now, "1y", serials=(serial,), tz=tz)
        totals[name] = {r.flow: r.wh for r in found}
    doc: dict[str, Any] = {"every": every, "buckets": buckets, "zone": zone, "totals": totals}
    doc.update({flow: [by.get((b, flow)) for b in buckets] for flow in BAR_FLOWS})
    return doc


def battery_series(db: sqlite3.Connection, serial: str, now: float) -> dict[str, Any]:
    """The bank's state of charge over the last 7 days (one point per 10 minutes)."""
    rows = db.execute(
        "SELECT CAST(at / 600 AS INTEGER) * 600, AVG(soc_percent) FROM battery_samples "
        "WHERE serial = ? AND unit = '' AND at >= ? AND soc_percent IS NOT NULL "
        "GROUP BY 1 ORDER BY 1",
        (serial, now - 7 * 86_400.0),
    ).fetchall()
    return {"t": [r[0] for r in rows], "soc": [r[1] for r in rows]}


_INVERTER_POWER, _INVERTER_REPORT = by_id("inverter_power"), by_id("inverter_last_report")


def inverter_table(state: GatewayState | None, now: float) -> dict[str, Any]:
    """Every microinverter's last report, highest power first, with the report's age."""
    if state is None or state.snapshot is None:
        return {"inverters": []}
    readings = Readings(state.snapshot)
    rows: list[dict[str, Any]] = [
        {
            "serial": serial,
            "watts": _INVERTER_POWER.value(readings, serial),
            "max_watts": inv.max_watts,  # no feature of the table: the dashboard's own column
            "age_s": max(0.0, now - _INVERTER_REPORT.value(readings, serial)),
        }
        for serial, inv in state.snapshot.inverters.items()
    ]
    rows.sort(key=lambda r: (-float(r["watts"]), str(r["serial"])))
    return {"inverters": rows}

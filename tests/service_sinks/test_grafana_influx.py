"""docs/grafana/enphase-influx.json: its InfluxQL, with Grafana's macros expanded, on real points.

The sink writes a simulated gateway's day to a real ``influxd``; every
panel, variable and annotation query of the dashboard is run there and must
find what was written (a misspelt field or tag finds nothing).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from enphase_local.models.live_frame import LiveFrame, LivePhase
from enphase_local.service.influx import InfluxSink
from enphase_local.service.sinks import Event

from .helpers import TinyHub
from .influx_server import InfluxServer
from .test_postgres_sink import read_site

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "enphase-influx.json"


def expand(query: str, start: float, end: float, site: str, serials: list[str]) -> str:
    """Grafana's InfluxDB macros and variables, as its documentation defines them."""
    query = query.replace("$timeFilter", f"time >= {int(start)}s AND time <= {int(end)}s")
    query = query.replace("$__interval", "1m")
    query = query.replace("$site", re.escape(site))
    query = query.replace("$serial", "(" + "|".join(re.escape(s) for s in serials) + ")")
    assert "$" not in query.replace("$/", "/"), query
    return query


def queries(dashboard: dict[str, Any]) -> dict[str, str]:
    out = {f"panel {p['title']}": t["query"] for p in dashboard["panels"] for t in p["targets"]}
    for a in dashboard["annotations"]["list"]:
        out[f"annotation {a['name']}"] = a["query"]
    for v in dashboard["templating"]["list"]:
        if v["type"] == "query":
            out[f"variable {v['name']}"] = v["query"]
    return out


def test_the_dashboard_is_a_grafana_dashboard_over_a_chosen_influxdb() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["schemaVersion"] >= 36
    assert {v["name"] for v in dashboard["templating"]["list"]} == {"datasource", "site", "serial"}
    for panel in dashboard["panels"]:
        assert panel["datasource"] == {"type": "influxdb", "uid": "${datasource}"}
        assert {"x", "y", "w", "h"} <= panel["gridPos"].keys()


async def test_every_query_finds_the_points(influx_server: InfluxServer) -> None:
    snaps = await read_site("battery-backup", 4, step_s=6 * 3600)  # across two days
    serial = snaps[0].gateway.serial
    sink = InfluxSink(url=influx_server.url, database="dash", live_interval_s=0.0)
    sink.use_sites({serial: "house"})
    await sink.start(TinyHub())
    for snap in snaps:
        await sink.on_snapshot(serial, snap)
        frame = LiveFrame(
            taken_at=snap.taken_at,
            source="livedata",
            solar_watts=1000.0,
            house_watts=600.0,
            grid_watts=-400.0,
            phases={"L1": LivePhase(500.0, 300.0, -200.0)},
        )
        await sink.on_live(serial, frame)
    await sink.on_event(Event(snaps[1].taken_at, serial, "stale", "production data is old"))
    assert await sink.flush()
    await sink.stop()
    start, end = snaps[0].taken_at - 60, snaps[-1].taken_at + 60
    dashboard = json.loads(DASHBOARD.read_text())
    for name, query in queries(dashboard).items():
        rows = influx_server.query("dash", expand(query, start, end, "house", [serial]))
        assert rows, f"{name} found nothing"
        if name == "variable site":
            assert [r["value"] for r in rows] == ["house"]
        if name == "variable serial":
            assert [r["value"] for r in rows] == [serial]
        if name.startswith("panel Energy per day"):
            # reads at 18:00, then 00:00, 06:00, 12:00 UTC: a day's spread is its counter change
            life = [s.production.wh_lifetime for s in snaps if s.production is not None]
            assert [r["solar"] for r in rows] == [0.0, life[3] - life[1]]  # type: ignore[operator]

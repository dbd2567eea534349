"""The Grafana dashboard's SQL, with Grafana's macros expanded, run against real rows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import asyncpg

from enphase_local.service.postgres import PostgresSink

from .helpers import TinyHub
from .test_postgres_sink import feed, read_site

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "enphase-sites.json"
_DURATION = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(text: str) -> int:
    text = text.strip().strip("'")
    return int(text[:-1]) * _DURATION[text[-1]]


def expand(sql: str, start: float, end: float, serials: list[str]) -> str:
    """Grafana's PostgreSQL macros, as its documentation defines them."""
    sql = sql.replace("$__interval", "'1m'")

    def group(m: re.Match[str]) -> str:
        step = seconds(m[2])
        return f"to_timestamp(floor(extract(epoch FROM {m[1]}) / {step}) * {step})"

    sql = re.sub(r"\$__timeGroup\((\w+),\s*('[^']+')\)", group, sql)
    sql = re.sub(
        r"\$__timeFilter\((\w+)\)",
        lambda m: f"{m[1]} BETWEEN to_timestamp({start}) AND to_timestamp({end})",
        sql,
    )
    sql = sql.replace("$serial", ", ".join(f"'{s}'" for s in serials))
    assert "$" not in sql, sql
    return sql


def queries(dashboard: dict[str, Any]) -> dict[str, str]:
    out = {
        f"panel {p['id']}: {p['title']}": t["rawSql"]
        for p in dashboard["panels"]
        for t in p["targets"]
    }
    for a in dashboard["annotations"]["list"]:
        out[f"annotation {a['name']}"] = a["target"]["rawSql"]
    for v in dashboard["templating"]["list"]:
        if v["type"] == "query":
            out[f"variable {v['name']}"] = v["query"]
    return out


def test_dashboard_is_a_grafana_dashboard_over_a_chosen_database() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["schemaVersion"] >= 36
    names = {v["name"] for v in dashboard["templating"]["list"]}
    assert names == {"datasource", "serial"}
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"
        assert {"x", "y", "w", "h"} <= panel["gridPos"].keys()
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for wanted in ("power flows", "energy per day", "microinverter", "state of charge"):
        assert wanted in titles


async def test_every_query_runs_and_finds_the_rows(pg_dsn: str) -> None:
    snaps = await read_site("battery-backup", 4, step_s=6 * 3600)  # across two days
    sink = PostgresSink(dsn=pg_dsn, collector="g")
    await sink.start(TinyHub())
    await feed(sink, snaps, live=3)
    await sink.stop()
    serial = snaps[0].gateway.serial
    start, end = snaps[0].taken_at - 60, snaps[-1].taken_at + 60
    dashboard = json.loads(DASHBOARD.read_text())
    conn = await asyncpg.connect(pg_dsn)
    try:
        results = {
            name: await conn.fetch(expand(sql, start, end, [serial]))
            for name, sql in queries(dashboard).items()
        }
    finally:
        await conn.close()
    empty = [name for name, rows in results.items() if not rows and "annotation" not in name]
    assert empty == []
    power = results[next(n for n in results if n.startswith("panel 1"))]
    assert power[0]["solar"] == snaps[0].production.watts  # type: ignore[union-attr]
    energy = results[next(n for n in results if n.startswith("panel 2"))]
    produced = sum(r["kwh"] for r in energy if r["metric"] == "production")
    expected = (snaps[-1].production.wh_lifetime - snaps[0].production.wh_lifetime) / 1000  # type: ignore[union-attr,operator]
    assert produced > 1 and abs(produced - expected) < 1e-6

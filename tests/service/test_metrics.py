"""/metrics and /healthz over HTTP, parsed by prometheus_client's own parser."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import pytest

from tests.service.helpers import collecting, run_for, web_for

parser = pytest.importorskip("prometheus_client.parser")


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in parser.text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


async def test_metrics_names_labels_and_values(tmp_path: Path) -> None:
    async with collecting(tmp_path / "h.db", "battery-backup") as (collector, sink, gw, clock):
        async with web_for(collector, clock, sink) as web:
            await run_for(collector, clock, 600, 60)
            async with aiohttp.ClientSession() as session:
                async with session.get(web.url + "metrics") as resp:
                    assert resp.status == 200
                    assert resp.headers["Content-Type"].startswith("text/plain; version=")
                    text = await resp.text()
                async with session.get(web.url + "healthz") as resp:
                    health = await resp.json()
                    assert resp.status == 200, health
    snap = collector.states[gw.serial].snapshot
    assert snap is not None
    got = samples(text)
    serial = gw.serial
    rows = got["enphase_power_watts"]
    power = {(lab["flow"], lab["phase"]): v for lab, v in rows if lab["serial"] == serial}
    assert snap.production is not None and snap.consumption is not None
    assert power[("solar", "total")] == pytest.approx(snap.production.watts)
    assert power[("house", "total")] == pytest.approx(snap.consumption.watts)
    assert ("grid", "total") in power and ("battery", "total") in power
    energy = {(lab["flow"], lab["phase"]): v for lab, v in got["enphase_energy_joules_total"]}
    assert energy[("production", "total")] == pytest.approx(snap.production.wh_lifetime * 3600)
    inverters = {lab["inverter"]: v for lab, v in got["enphase_inverter_power_watts"]}
    assert set(inverters) == set(snap.inverters) and inverters
    assert {lab["serial"] for lab, _ in got["enphase_inverter_power_watts"]} == {serial}
    soc = {lab["unit"]: v for lab, v in got["enphase_battery_soc_percent"]}
    assert snap.battery is not None and soc[""] == pytest.approx(snap.battery.soc_percent)
    assert got["enphase_up"] == [({"serial": serial}, 1.0)]
    sections = {lab["section"] for lab, _ in got["enphase_section_age_seconds"]}
    assert "production" in sections
    requests = {lab["path"]: v for lab, v in got["enphase_requests_total"]}
    assert requests["/info"] >= 1
    assert sum(requests.values()) > 0 and "enphase_request_failures_total" in got
    assert health["status"] == "ok" and health["gateways"][0]["serial"] == serial
    assert got["enphase_history_pending_rows"] == [({}, float(health["history"]["pending_rows"]))]
    assert got["enphase_history_dropped_rows_total"] == [({}, 0.0)]
    assert got["enphase_history_healthy"] == [({}, 1.0)]
    assert health["history"]["dropped_rows"] == 0 and "last_write_at" in health["history"]
    from tests.service.test_metrics_table import promtool_lint

    await asyncio.to_thread(promtool_lint, text)  # the Prometheus project's own lint
    for name in got:  # its base-unit rule, where promtool is not installed
        assert not re.search(r"_(watt_hours|hours|milliseconds|kilo\w+)(_|$)", name), name


async def test_healthz_and_up_say_when_a_gateway_is_stale(tmp_path: Path) -> None:
    async with collecting(tmp_path / "h.db", "standard") as (collector, sink, gw, clock):
        async with web_for(collector, clock, sink) as web:
            await run_for(collector, clock, 120, 60)
            gw.faults.error_rate = 1.0
            await run_for(collector, clock, 600, 60)
            async with aiohttp.ClientSession() as session:
                async with session.get(web.url + "healthz") as resp:
                    status, health = resp.status, await resp.json()
                async with session.get(web.url + "metrics") as resp:
                    got = samples(await resp.text())
    assert status == 503 and health["status"] == "degraded"
    assert health["gateways"][0]["stale"] is True
    assert got["enphase_up"] == [({"serial": gw.serial}, 0.0)]
    assert got["enphase_update_age_seconds"][0][1] > 180
    # the last power values are not exported as if current; counters and moments stay
    assert "enphase_power_watts" not in got and "enphase_inverter_power_watts" not in got
    assert "enphase_ct_voltage_volts" not in got and "enphase_battery_soc_percent" not in got
    assert "enphase_energy_joules_total" in got and "enphase_energy_flow_joules_total" in got
    assert "enphase_inverter_last_report_timestamp_seconds" in got


async def test_dashboard_assets_are_served_offline(tmp_path: Path) -> None:
    """Every file the page loads is served by the collector itself (no CDN), uPlot's licence too."""
    import re

    from enphase_local.service.web import STATIC

    html = (STATIC / "index.html").read_text()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert len(assets) >= 4 and not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert "MIT" in (STATIC / "vendor" / "uPlot.LICENSE").read_text()
    async with collecting(tmp_path / "h.db", "standard") as (collector, sink, _gw, clock):
        async with web_for(collector, clock, sink) as web:
            async with aiohttp.ClientSession() as session:
                for path in ["/", *assets]:
                    async with session.get(web.url.rstrip("/") + path) as resp:
                        assert resp.status == 200, path
                        assert len(await resp.read()) > 100, path

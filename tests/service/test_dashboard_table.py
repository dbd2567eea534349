"""The dashboard's per-gateway values are the feature table's (as MQTT and /metrics show)."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from enphase_local.features import Readings, by_id
from enphase_local.service.dashboard_data import live_document
from tests.service.helpers import collecting, run_for, web_for


async def test_live_flows_and_inverters_read_the_feature_table(tmp_path: Path) -> None:
    async with collecting(tmp_path / "h.db", "generator") as (collector, sink, gw, clock):
        async with web_for(collector, clock, sink) as web:
            await run_for(collector, clock, 600, 60)
            async with aiohttp.ClientSession() as session:
                url = f"{web.url}api/inverters?serial={gw.serial}"
                async with session.get(url) as resp:
                    table = await resp.json()
            doc = live_document(collector.states, clock.now(), 10_000.0)
            state = collector.states[gw.serial]
    assert state.snapshot is not None and state.frame is not None
    readings = Readings(state.snapshot, state.frame)
    (shown,) = doc["gateways"]
    flows = shown["flows"]
    assert set(flows) == {"solar", "house", "grid", "battery", "generator", "soc", "taken_at"}
    for flow in ("solar", "house", "grid", "battery", "generator"):
        assert flows[flow] == by_id(f"live_{flow}_power").value(readings), flow
        assert flows[flow] == getattr(state.frame, f"{flow}_watts"), flow
    assert flows["generator"] is not None  # the generator site's fifth flow
    assert (flows["soc"], flows["taken_at"]) == (state.frame.soc_percent, state.frame.taken_at)
    rows = {r["serial"]: r for r in table["inverters"]}
    assert set(rows) == set(state.snapshot.inverters) and rows
    for serial, inv in state.snapshot.inverters.items():
        assert rows[serial]["watts"] == by_id("inverter_power").value(readings, serial) == inv.watts
        assert rows[serial]["max_watts"] == inv.max_watts
        assert rows[serial]["age_s"] == max(0.0, clock.now() - inv.last_report)

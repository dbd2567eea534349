"""The integration inside a real Home Assistant process (``hass -c CONFIGDIR``).

Home Assistant starts from a fresh configuration directory whose
``custom_components/enphase_local`` is this repository's, is onboarded
through its HTTP API, adds the simulated gateway through the config flow's
REST API, and is asked over REST and the websocket API for the entities: one
per feature-table instance, with the values the library reads from the same
simulator. Then a control is changed through a service call and the
simulated gateway is asked whether it holds the new value.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from enphase_local.features import FEATURES, Kind, Readings, instances
from tests.hass.realhass import RealHass
from tests.hass.simthread import SimThread

SKIP = {"data_age", "token_days_left", "last_update", "section_freshness"}  # when each side read


@pytest.fixture
def real_hass(tmp_path: Path, unused_tcp_port_factory: Any) -> Any:
    runner = RealHass(tmp_path / "config", unused_tcp_port_factory())
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


async def test_the_integration_in_a_real_home_assistant(
    hass: Any, real_hass: RealHass, sim: SimThread
) -> None:
    assert sim.gw is not None
    serial = sim.gw.serial
    async with aiohttp.ClientSession() as http:
        await real_hass.wait_ready(http)
        await real_hass.onboard(http)
        flow = await real_hass.post(
            http, "/api/config/config_entries/flow", {"handler": "enphase_local"}
        )
        path = f"/api/config/config_entries/flow/{flow['flow_id']}"
        step = await real_hass.post(http, path, {"host": sim.host})
        assert step["type"] == "menu", step
        step = await real_hass.post(http, path, {"next_step_id": "token"})
        step = await real_hass.post(http, path, {"token": sim.token()})
        assert step["step_id"] == "trust", step
        assert len(step["description_placeholders"]["fingerprint"].replace(":", "")) == 64
        step = await real_hass.post(http, path, {})
        assert step["type"] == "create_entry", step

        expected = await asyncio.to_thread(sim.snapshot)
        readings = Readings(expected)
        want = {
            f"{serial}_{i.uid}": i
            for i in instances(FEATURES, readings)
            if i.feature.id not in SKIP
        }
        async with asyncio.timeout(60):
            while True:  # entities appear once the entry's first refresh is done
                entries = [
                    e for e in await real_hass.registry(http) if e["platform"] == "enphase_local"
                ]
                if len(entries) >= len(want):
                    break
                await asyncio.sleep(0.5)
        by_uid = {e["unique_id"]: e for e in entries}
        assert set(want) <= set(by_uid), sorted(set(want) - set(by_uid))[:10]
        states = {s["entity_id"]: s for s in await real_hass.get(http, "/api/states")}
        compared = 0
        for uid, inst in want.items():
            entity = by_uid[uid]
            f = inst.feature
            if not f.enabled_by_default:
                assert entity["disabled_by"] == "integration"
                continue
            state = states[entity["entity_id"]]["state"]
            value = inst.value(readings)
            if f.kind in (Kind.SENSOR, Kind.NUMBER) and isinstance(value, float):
                assert float(state) == pytest.approx(value), uid
                compared += 1
            elif f.kind in (Kind.SWITCH, Kind.BINARY_SENSOR):
                assert state == ("on" if value else "off"), uid
                compared += 1
            elif f.kind is Kind.SELECT:
                assert state == value, uid
                compared += 1
        assert compared > 30

        reserve = by_uid[f"{serial}_reserve_soc"]["entity_id"]
        await real_hass.post(
            http, "/api/services/number/set_value", {"entity_id": reserve, "value": 37}
        )
        shown = await real_hass.get(http, f"/api/states/{reserve}")
        assert float(shown["state"]) == 37
        assert shown["attributes"]["last_write"] == "confirmed"
        after = await asyncio.to_thread(sim.snapshot)
        assert after.tariff is not None and after.tariff.reserve_soc_percent == 37

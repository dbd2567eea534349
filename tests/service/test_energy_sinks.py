"""Issue 23 in the sinks: MQTT's house is the real house load, and the six counters go out.

On a battery site the gateway's consumption counter counts charging as
house use and leaves discharge out (`read` showed House 2.62 kW while the
house drew 332 W); MQTT's ``house_w`` was that counter.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from enphase_local.features import FEATURES, Readings, instances
from enphase_local.service.hass_entities import place
from enphase_local.service.mqtt_payloads import documents
from enphase_local.simulator import PRESETS
from tests.energy_day import run_day
from tests.service.helpers import collecting, run_for, web_for
from tests.service.test_metrics import samples


def _local(preset: str, hour: int) -> float:
    tz = ZoneInfo(PRESETS[preset].timezone)
    return datetime(2026, 6, 15, hour, tzinfo=tz).timestamp()


async def test_mqtt_house_is_the_balanced_load_and_energy_has_the_derived_battery() -> None:
    run = await run_day("battery-no-storage-ct", step_s=120.0, hours=3.0)  # night: discharging
    snap = run.last
    assert snap is not None and snap.power_flow is not None and snap.consumption is not None
    battery = snap.power_flow.battery_watts or 0.0
    assert abs(battery) > 100  # charging or discharging: the two figures differ
    readings = Readings(snap)
    docs = documents("s", readings, [place("s", i) for i in instances(FEATURES, readings)])
    power, energy = docs["state"], docs["energy"]
    assert power["house_w"] == snap.power_flow.house_watts  # the engine's, not a second sum
    assert abs(power["house_w"] - snap.consumption.watts) > 50
    assert snap.energy is not None
    assert energy["battery_charge_wh"] == pytest.approx(snap.energy.lifetime_wh.battery_charge)
    assert energy["battery_discharge_wh"] > 0  # no storage CT: derived, no longer missing
    assert energy["house_wh"] == pytest.approx(snap.energy.lifetime_wh.house, abs=0.1)


async def test_prometheus_has_the_six_flows(tmp_path: Path) -> None:
    start = _local("battery-backup", 9)
    async with collecting(tmp_path / "h.db", "battery-backup", start=start) as (
        collector,
        sink,
        gw,
        clock,
    ):
        async with web_for(collector, clock, sink) as web:
            await run_for(collector, clock, 600, 60)
            async with aiohttp.ClientSession() as session:
                async with session.get(web.url + "metrics") as resp:
                    text = await resp.text()
    snap = collector.states[gw.serial].snapshot
    assert snap is not None and snap.energy is not None
    got = {lab["flow"]: v for lab, v in samples(text)["enphase_energy_flow_joules_total"]}
    expected = {k: v for k, v in snap.energy.lifetime_wh.to_dict().items() if v is not None}
    assert set(got) == set(expected) >= {"solar", "house", "grid_import", "battery_charge"}
    for name, value in expected.items():
        assert got[name] == pytest.approx(value * 3600)  # joules, as the other families

"""A real Home Assistant over MQTT: the real `enphase collect` announces a simulated site.

A Mosquitto of this test on a free port; a real ``hass -c DIR`` onboarded
through its HTTP API, with the MQTT integration added through the config
flow's REST API, the recorder and the energy integration; the real
``enphase collect`` process with the configuration docs/mqtt.md shows,
reading a simulated battery site on real time. Then, through Home
Assistant's REST and websocket APIs:

- every entity the feature table says this site has exists with the table's
  component, unit, device class, state class and category (tests/hass/mqtt_expect.py);
- with the simulator's clock stopped, every value equals the simulator's own
  snapshot of that moment;
- ``energy/validate`` finds nothing wrong with the table's energy counters
  but that their statistics do not exist yet: the recorder compiles them every
  5 minutes (on the clock), longer than this test; ``recorder/validate_statistics``
  and ``recorder/list_statistic_ids`` say they will be compiled, as sums;
- a battery reserve and a storage mode set from Home Assistant are confirmed
  and the simulator holds them;
- the entities go unavailable when the gateway dies, come back with it, and
  go unavailable when the collector is killed (SIGKILL: the broker sends its
  last will);
- Home Assistant's log has no MQTT warning or error.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from enphase_local.features import Readings, by_id
from tests.hass.mqtt_expect import (
    DEVICE_DISCOVERY,
    Expected,
    attribute_problems,
    expected_instances,
    match,
    required,
    value_problem,
)
from tests.hass.realhass import RealHass, Websocket, quiet_port
from tests.hass.simthread import SimThread
from tests.service_sinks.services import Broker, own_broker

HASS_CONFIG = """\
recorder:
  commit_interval: 1
history:
energy:
"""
INTERVAL_S = 2  # the collector's reads: the gateway is unreachable after 3 of them
COMMANDS = ("storage_mode", "reserve_soc")
ENERGY_SOURCES = {  # energy dashboard slot -> the table's counter
    "grid_in": "energy_grid_import_lifetime",
    "grid_out": "energy_grid_export_lifetime",
    "solar": "production_lifetime",
    "battery_out": "energy_battery_discharge_lifetime",
    "battery_in": "energy_battery_charge_lifetime",
}
NO_PRICE = {"entity_energy_price": None, "number_energy_price": None}
MQTT_LOG = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) .*(mqtt|template)", re.I | re.M)


@pytest.fixture
def broker() -> Iterator[Broker]:
    with own_broker("a real Home Assistant over MQTT needs a broker") as own:
        yield own


@pytest.fixture
def real_hass(tmp_path: Path) -> Iterator[RealHass]:
    runner = RealHass(tmp_path / "config", quiet_port(), HASS_CONFIG)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


class Collector:
    """`enphase collect --config FILE`, the configuration docs/mqtt.md shows, as a process."""

    def __init__(self, tmp: Path, sim: SimThread, broker: Broker) -> None:
        gw = sim.gw
        assert gw is not None
        self.config = tmp / "collect.toml"
        self.config.write_text(
            f'[collect]\ninterval = {INTERVAL_S}\nport = 0\ndb = "{tmp / "h.db"}"\n\n'
            f'[[gateway]]\nhost = "{gw.https_host}"\n'
            f'token = "{gw.owner_token()}"\ntoken_store = "{tmp / "tokens.json"}"\n\n'
            f'[sinks.mqtt]\nurl = "{broker.url}"\nbase = "enphase"\n'
            'discovery_prefix = "homeassistant"\ncollector = "ci"\n'
            f"commands = {list(COMMANDS)!r}\ncommand_spacing_s = 1.0\n".replace("'", '"')
            # the table's own enabled_by_default for every inverter: the site has 35,
            # more than the sink's default limit of 16 enabled
            + "inverter_entities_limit = 100\n"
        )
        self.config.chmod(0o600)
        self.log = tmp / "collect.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENPHASE_")}
        env.update(HOME=str(tmp), XDG_DATA_HOME=str(tmp / "data"), XDG_CONFIG_HOME=str(tmp))
        enphase = Path(sys.executable).parent / "enphase"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(enphase), "collect", "--config", str(self.config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=tmp,
            )

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


async def until(what: str, check: Callable[[], Awaitable[list[str]]], within: float = 30.0) -> None:
    """Poll `check` (Home Assistant's API) until nothing is left wrong; fail naming what is."""
    left: list[str] = []
    try:
        async with asyncio.timeout(within):
            while True:
                left = await check()
                if not left:
                    return
                await asyncio.sleep(0.3)  # Home Assistant's API has no wait-for-state
    except TimeoutError:
        pytest.fail(f"after {within} s, {what}: {left[:20]}")


async def test_a_real_home_assistant_over_mqtt(
    tmp_path: Path, broker: Broker, live_sim: SimThread, real_hass: RealHass
) -> None:
    sim = live_sim
    assert sim.gw is not None
    serial = sim.gw.serial
    # the simulator's clock stands still until the values are compared: a value the collector
    # reads less often than every update (each battery's power: every 5 minutes beside a storage
    # CT, engine.rhythm) is then the simulator's value at the same moment, not one from earlier
    sim.call(lambda: sim.clock.set_speed(0))
    collector = Collector(tmp_path, sim, broker)
    try:
        async with aiohttp.ClientSession() as http:
            await _run(http, real_hass, sim, serial, collector, broker.port)
    finally:
        collector.stop()
    logged = [m.group(0) for m in MQTT_LOG.finditer(real_hass.log())]
    assert not logged, "\n".join(logged[:20])


async def _run(
    http: aiohttp.ClientSession,
    hass: RealHass,
    sim: SimThread,
    serial: str,
    collector: Collector,
    broker_port: int,
) -> None:
    await hass.wait_ready(http)
    await hass.onboard(http)
    flow = await hass.post(http, "/api/config/config_entries/flow", {"handler": "mqtt"})
    path = f"/api/config/config_entries/flow/{flow['flow_id']}"
    step = await hass.post(http, path, {"broker": "127.0.0.1", "port": broker_port})
    assert step["type"] == "create_entry", step

    readings = Readings(await asyncio.to_thread(sim.snapshot))
    insts = expected_instances(readings, COMMANDS)

    async def all_there() -> list[str]:
        found = match(serial, insts, await hass.registry(http))
        return [f.inst.uid for f in found if required(f) and f.entity is None]

    await until("entities the table has and Home Assistant lacks", all_there, 60)
    found = [f for f in match(serial, insts, await hass.registry(http)) if required(f)]
    print(f"{len(found)} of {len(insts)} table instances on MQTT (device: {DEVICE_DISCOVERY})")
    assert len(found) > 20

    states = await _states(http, hass)
    problems = [p for f in found for p in attribute_problems(f, states.get(f.entity["entity_id"]))]
    assert not problems, "\n".join(problems)

    # the same moment: the simulator's clock has stood still since before the collector started
    frozen = Readings(await asyncio.to_thread(sim.snapshot))
    enabled = [f for f in found if f.entity and f.entity.get("disabled_by") is None]

    async def values_differ() -> list[str]:
        now = await _states(http, hass)
        return [
            p
            for f in enabled
            if (p := value_problem(f, frozen, now[f.entity["entity_id"]]["state"])) is not None
        ]

    await until("values that differ from the simulator's", values_differ, 30)
    await _energy(http, hass, serial, found)
    await _commands(http, hass, sim, serial, found)
    await asyncio.to_thread(sim.call, lambda: sim.clock.set_speed(1))
    await _availability(http, hass, sim, collector, enabled)


async def _states(http: aiohttp.ClientSession, hass: RealHass) -> dict[str, Any]:
    return {s["entity_id"]: s for s in await hass.get(http, "/api/states")}


def _entity(found: list[Expected], feature_id: str) -> str:
    for f in found:
        if f.inst.feature.id == feature_id and f.entity is not None:
            return str(f.entity["entity_id"])
    raise AssertionError(f"no entity for {feature_id}")


async def _energy(
    http: aiohttp.ClientSession, hass: RealHass, serial: str, found: list[Expected]
) -> None:
    ids = {slot: _entity(found, fid) for slot, fid in ENERGY_SOURCES.items()}
    async with hass.websocket(http) as ws:
        await _validate(ws, ids)


async def _validate(ws: Websocket, ids: dict[str, str]) -> None:
    prefs = {
        "energy_sources": [
            {
                "type": "grid",
                "flow_from": [{"stat_energy_from": ids["grid_in"], "stat_cost": None, **NO_PRICE}],
                "flow_to": [
                    {"stat_energy_to": ids["grid_out"], "stat_compensation": None, **NO_PRICE}
                ],
                "cost_adjustment_day": 0,
            },
            {"type": "solar", "stat_energy_from": ids["solar"]},
            {
                "type": "battery",
                "stat_energy_from": ids["battery_out"],
                "stat_energy_to": ids["battery_in"],
            },
        ],
        "device_consumption": [],
    }
    await ws.call("energy/save_prefs", **prefs)
    result = await ws.call("energy/validate")
    issues = [i for source in result["energy_sources"] for i in source]
    # the one issue until the recorder's first 5-minute compile
    wrong = [i for i in issues if i["type"] != "statistics_not_defined"]
    assert not wrong, wrong
    pending = {e[0] for i in issues for e in i["affected_entities"]}
    assert pending <= set(ids.values()), issues
    listed = await ws.call("recorder/list_statistic_ids", statistic_type="sum")
    sums = {s["statistic_id"] for s in listed}
    assert set(ids.values()) <= sums, sorted(set(ids.values()) - sums)
    problems = await ws.call("recorder/validate_statistics")
    assert not {k: v for k, v in problems.items() if k in ids.values()}, problems


async def _commands(
    http: aiohttp.ClientSession, hass: RealHass, sim: SimThread, serial: str, found: list[Expected]
) -> None:
    """A reserve and a storage mode from Home Assistant: confirmed, and the simulator has them.

    Each control's outcome sensor is the entity whose unique id is the control's and
    ``_result`` (docs/mqtt.md, Commands).
    """
    registry = {e["unique_id"]: e["entity_id"] for e in await hass.registry(http)}
    reserve, mode = _entity(found, "reserve_soc"), _entity(found, "storage_mode")
    outcomes = [
        registry[f"{f.entity['unique_id']}_result"]
        for f in found
        if f.entity is not None and f.entity["entity_id"] in (reserve, mode)
    ]
    assert len(outcomes) == 2, outcomes
    now = await hass.get(http, f"/api/states/{mode}")
    option = next(o for o in now["attributes"]["options"] if o != now["state"])
    await hass.post(http, "/api/services/number/set_value", {"entity_id": reserve, "value": 37})
    await hass.post(
        http, "/api/services/select/select_option", {"entity_id": mode, "option": option}
    )

    async def not_confirmed() -> list[str]:
        states = await _states(http, hass)
        waiting = [
            f"{e} {states[e]['state']}" for e in outcomes if states[e]["state"] != "confirmed"
        ]
        if float(states[reserve]["state"]) != 37:
            waiting.append(f"{reserve} {states[reserve]['state']}")
        if states[mode]["state"] != option:
            waiting.append(f"{mode} {states[mode]['state']}")
        return waiting

    await until("commands not confirmed", not_confirmed, 30)
    after = Readings(await asyncio.to_thread(sim.snapshot))  # as the table reads the gateway
    assert by_id("reserve_soc").value(after) == 37
    assert by_id("storage_mode").value(after) == option


async def _availability(
    http: aiohttp.ClientSession,
    hass: RealHass,
    sim: SimThread,
    collector: Collector,
    enabled: list[Expected],
) -> None:
    ids = [str(f.entity["entity_id"]) for f in enabled if f.entity is not None]

    def shown(unavailable: bool) -> Callable[[], Awaitable[list[str]]]:
        async def check() -> list[str]:  # the entities not yet as wanted
            states = await _states(http, hass)
            return [e for e in ids if (states[e]["state"] == "unavailable") != unavailable]

        return check

    gw = sim.gw
    assert gw is not None
    await asyncio.to_thread(sim.call, lambda: gw.faults.set_rate("drop", 1.0))
    await until("still available with the gateway dead", shown(True), 30)
    await asyncio.to_thread(sim.call, gw.faults.reset)
    # back within a minute: with no live data followed (the collector's default, `live =
    # "auto"` and no dashboard open) the gateway is seen back at the first update whose reads
    # get through, and after a run of dropped connections the engine spaces its retries
    # (net/backoff.py): 28 s was measured here, so 30 s was a race
    await until("still unavailable with the gateway back", shown(False), 60)
    await asyncio.to_thread(collector.kill)
    await until("still available with the collector killed", shown(True), 30)

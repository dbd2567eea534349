"""Writes read back as real gateways show them: AC Battery sleep, the 8.3.6000+ grid relay.

A client confirms a write by reading the device state back; these tests
check that the simulator shows what was written where the client looks
(``/inventory.json`` for AC Battery sleep; ``mains_oper_state`` in the
ensemble inventory and status for the relay), over real sockets with the
library's own control actions where they exist.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
import pytest

from enphase_local.control import Outcome
from enphase_local.simulator import PRESETS, SimClock, SimulatedGateway, SiteBackend
from tests.simkit import NOON, envoy_for, gateway


def sim_sleep(clock: SimClock) -> Any:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    return sleep


def get(b: SiteBackend, path: str) -> Any:
    reply = b.handle("GET", path, {}, b"")
    assert reply is not None and reply.status == 200, path
    return orjson.loads(reply.body)


def post(b: SiteBackend, method: str, path: str, doc: Any) -> int:
    reply = b.handle(method, path, {}, orjson.dumps(doc))
    assert reply is not None
    return reply.status


def acb_units(b: SiteBackend) -> dict[str, dict[str, Any]]:
    groups = {g["type"]: g["devices"] for g in get(b, "/inventory.json")}
    return {d["serial_num"]: d for d in groups["ACB"]}


# -- AC Battery sleep ----------------------------------------------------------------------


def test_inventory_shows_the_sleep_window_written() -> None:
    clock = SimClock(start=NOON, speed=0)
    b = SiteBackend.from_preset("acb", clock=clock, seed=2)
    first, second, third = PRESETS["acb"].acb_serials()
    assert not any(u["sleep_enabled"] for u in acb_units(b).values())
    body = {"acb_sleep": [{"serial_num": second, "sleep_min_soc": 40, "sleep_max_soc": 55}]}
    assert post(b, "PUT", "/admin/lib/acb_config", body) == 200
    units = acb_units(b)
    assert units[second]["sleep_enabled"] is True
    assert (units[second]["sleep_min_soc"], units[second]["sleep_max_soc"]) == (40, 55)
    assert units[second]["charge_status"] == "idle" and units[second]["producing"] is False
    assert units[first]["sleep_enabled"] is False and units[third]["sleep_enabled"] is False
    assert post(b, "DELETE", "/admin/lib/acb_config", {"acb_sleep": [{"serial_num": second}]})
    assert acb_units(b)[second]["sleep_enabled"] is False


async def test_acb_sleep_is_confirmed_over_sockets() -> None:
    async with gateway("acb") as (gw, clock):
        serial = PRESETS["acb"].acb_serials()[0]
        async with envoy_for(gw, clock, sleep=sim_sleep(clock)) as envoy:
            asleep = await envoy.control.set_acb_sleep(serial, 20, 30, timeout_s=60)
            awake = await envoy.control.clear_acb_sleep([serial], timeout_s=60)
    assert asleep.outcome is Outcome.CONFIRMED and asleep.after == {serial: [20, 30]}
    assert awake.outcome is Outcome.CONFIRMED and awake.after == {serial: None}


# -- the grid relay on 8.3.6000 and later --------------------------------------------------


def relay_site(firmware: str) -> tuple[SiteBackend, SimClock]:
    clock = SimClock(start=NOON - 5 * 3600, speed=0)  # 7:00 local: the battery has room
    cfg = replace(PRESETS["battery-backup"], firmware=firmware)
    b = SiteBackend(cfg, clock, seed=3)
    b.handle("POST", "/ivp/livedata/stream", {}, b'{"enable": 1}')
    return b, clock


def relay_states(b: SiteBackend) -> tuple[str, str, int]:
    enpower = next(g for g in get(b, "/ivp/ensemble/inventory") if g["type"] == "ENPOWER")
    status = get(b, "/ivp/ensemble/status")["relay"]
    live = get(b, "/ivp/livedata/status")["meters"]
    assert enpower["devices"][0]["mains_oper_state"] == status["mains_oper_state"]
    return status["mains_admin_state"], status["mains_oper_state"], live["main_relay_state"]


def test_relay_opens_through_synchronizing_on_8_3_6000() -> None:
    b, clock = relay_site("D8.3.6086")
    assert relay_states(b) == ("closed", "closed", 1)
    soc = b.state()["soc_percent"]
    assert soc < 100
    assert post(b, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"}) == 200
    clock.advance(5)
    assert relay_states(b) == ("open", "open synchronizing", 1)  # still on grid
    state = b.state()
    assert state["battery_w"] < 0 and state["grid_w"] != 0  # topping off from grid and PV
    clock.advance(20)
    assert relay_states(b)[1] == "open synchronizing"
    assert b.state()["soc_percent"] > soc
    clock.advance(3)  # 28 s after the request
    assert relay_states(b) == ("open", "open synchronized", 0)
    assert b.state()["grid_w"] == 0  # off grid now
    clock.advance(600)
    assert relay_states(b)[1] == "open synchronized"  # never plain "open"
    assert post(b, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "closed"}) == 200
    clock.advance(5)
    assert relay_states(b) == ("closed", "open synchronized", 0)
    clock.advance(15)
    assert relay_states(b) == ("closed", "closed", 1)


@pytest.mark.parametrize("firmware", ["D8.3.5167", "D8.2.4345"])
def test_older_firmware_opens_plainly(firmware: str) -> None:
    b, clock = relay_site(firmware)
    assert post(b, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"}) == 200
    clock.advance(5)
    assert relay_states(b) == ("open", "closed", 1)
    clock.advance(15)
    assert relay_states(b) == ("open", "open", 0)


def test_repeated_open_does_not_restart_the_sequence() -> None:
    b, clock = relay_site("D8.3.6086")
    post(b, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"})
    clock.advance(30)
    post(b, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"})
    assert relay_states(b)[1] == "open synchronized"


def test_top_off_time_is_configurable() -> None:
    clock = SimClock(start=NOON, speed=0)
    cfg = replace(PRESETS["battery-backup"], firmware="D8.3.6086", relay_top_off_s=8.0)
    b = SiteBackend(cfg, clock)
    post(b, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"})
    clock.advance(9)
    assert relay_states(b)[1] == "open synchronized"
    with pytest.raises(ValueError, match="relay_top_off_s"):
        replace(cfg, relay_top_off_s=-1.0)


async def test_relay_states_over_sockets() -> None:
    b, clock = relay_site("D8.3.6086")
    async with SimulatedGateway(b, clock=clock) as gw, envoy_for(gw, clock) as envoy:
        body = {"mains_admin_state": "open"}
        sent = await envoy.request("POST", "/ivp/ensemble/relay", json=body)
        assert sent.status == 200
        clock.advance(10)
        early = await envoy.request("GET", "/ivp/ensemble/inventory")
        clock.advance(20)
        late = await envoy.request("GET", "/ivp/ensemble/status")
    enpower = next(g for g in orjson.loads(early.body) if g["type"] == "ENPOWER")["devices"][0]
    assert enpower["mains_oper_state"] == "open synchronizing"
    assert orjson.loads(late.body)["relay"]["mains_oper_state"] == "open synchronized"

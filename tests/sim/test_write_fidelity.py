"""Writes read back as real gateways show them: AC Battery sleep.

A client confirms a write by reading the device state back; these tests
check that the simulator shows what was written where the client looks
(``/inventory.json`` for AC Battery sleep; ``mains_oper_state`` in the
ensemble inventory and status for the relay), over real sockets with the
library's own control actions where they exist.
"""

from __future__ import annotations

from typing import Any

import orjson

from enphase_local.control import Outcome
from enphase_local.simulator import PRESETS, SimClock, SiteBackend
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

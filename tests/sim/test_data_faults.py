"""Data faults and restarts for soak tests: zero reads, inactive eim, half storage CT, updates.

Over real sockets against modelled sites (and a replayed capture for the
firmware change), through the Python API and the ``/__sim__/faults`` route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from enphase_local.simulator import Faults, ReplayBackend, SimClock, SimulatedGateway, SiteBackend
from tests.simkit import NOON
from tests.support import REAL

STORAGE_EID = 704643840


@pytest.fixture
async def battery() -> AsyncIterator[SimulatedGateway]:
    clock = SimClock(start=NOON, speed=0)
    backend = SiteBackend.from_preset("battery-backup", clock=clock, seed=2)
    async with SimulatedGateway(backend, clock=clock) as gw:
        yield gw


async def fetch(gw: SimulatedGateway, path: str) -> Any:
    headers = {"Authorization": f"Bearer {gw.owner_token()}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(gw.https_url + path, headers=headers, ssl=False) as resp,
    ):
        assert resp.status == 200, path
        return orjson.loads(await resp.read())


async def control(gw: SimulatedGateway, spec: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(gw.http_url + "/__sim__/faults", json={"spec": spec}) as resp,
    ):
        assert resp.status == 200, await resp.text()
        data: dict[str, Any] = await resp.json()
        return data


def eim(doc: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in doc["production"] if e["type"] == "eim")


def storage(readings: list[dict[str, Any]]) -> dict[str, Any]:
    return next(r for r in readings if r["eid"] == STORAGE_EID)


async def test_zero_next_spoils_each_data_endpoint_once(battery: SimulatedGateway) -> None:
    healthy = eim(await fetch(battery, "/production.json"))
    assert healthy["whLifetime"] > 0
    battery.faults.zero_next()
    zero = await fetch(battery, "/production.json")
    readings = await fetch(battery, "/ivp/meters/readings")
    for entry in zero["production"] + zero["consumption"]:
        assert entry["wNow"] == 0 and entry["whLifetime"] == 0
        assert entry["readingTime"] > 0  # times, ids and counts stay
    assert eim(zero)["activeCount"] == 1
    assert all(r["actEnergyDlvd"] == 0 and r["activePower"] == 0 for r in readings)
    assert all(r["eid"] > 0 and r["timestamp"] > 0 for r in readings)
    again = eim(await fetch(battery, "/production.json"))
    assert again["whLifetime"] == healthy["whLifetime"]  # once, then healthy
    assert (await fetch(battery, "/ivp/meters/readings"))[0]["actEnergyDlvd"] > 0
    assert [e.fault for e in battery.log.entries[1:3]] == ["zero", "zero"]


async def test_zero_next_for_one_path_over_the_control_route(battery: SimulatedGateway) -> None:
    state = await control(battery, "zero-next=2@/ivp/meters/readings")
    assert state["data_faults"] == [
        {"kind": "zero", "path": "/ivp/meters/readings", "remaining": 2}
    ]
    assert eim(await fetch(battery, "/production.json"))["whLifetime"] > 0
    for _ in range(2):
        assert storage(await fetch(battery, "/ivp/meters/readings"))["actEnergyRcvd"] == 0
    assert storage(await fetch(battery, "/ivp/meters/readings"))["actEnergyRcvd"] > 0


async def test_eim_inactive_for_one_read_while_readings_stay_healthy(
    battery: SimulatedGateway,
) -> None:
    healthy = eim(await fetch(battery, "/production.json?details=1"))
    battery.faults.eim_inactive_next()
    bad_doc = await fetch(battery, "/production.json?details=1")
    readings = await fetch(battery, "/ivp/meters/readings")
    bad = eim(bad_doc)
    assert bad["activeCount"] == 0 and bad["measurementType"] == "production"
    assert bad["whLifetime"] < 10_000 < healthy["whLifetime"]  # garbage, far below the truth
    assert bad["lines"][0]["whLifetime"] != healthy["lines"][0]["whLifetime"]
    inverters = bad_doc["production"][0]
    assert inverters["type"] == "inverters" and inverters["activeCount"] > 0
    assert readings[0]["actEnergyDlvd"] == pytest.approx(healthy["whLifetime"], rel=1e-3)
    assert eim(await fetch(battery, "/production.json"))["activeCount"] == 1


async def test_eim_garbage_is_seeded(battery: SimulatedGateway) -> None:
    async def garbage() -> float:
        battery.faults.reset()
        battery.faults.eim_inactive_next()
        return float(eim(await fetch(battery, "/production.json"))["wNow"])

    assert await garbage() == await garbage()


async def test_storage_ct_half_drops_phase_b(battery: SimulatedGateway) -> None:
    battery.clock.advance(9 * 3600)  # evening: the battery discharges on both phases
    healthy = storage(await fetch(battery, "/ivp/meters/readings"))
    assert all(c["activePower"] != 0 for c in healthy["channels"][:2])
    await control(battery, "storage-ct-half-next")
    half = storage(await fetch(battery, "/ivp/meters/readings"))
    first, lost = half["channels"][0], half["channels"][1]
    assert lost["activePower"] == 0 and lost["actEnergyDlvd"] == 0 and lost["voltage"] == 0
    assert lost["eid"] == healthy["channels"][1]["eid"]
    for key in ("activePower", "actEnergyDlvd", "actEnergyRcvd", "current", "voltage"):
        assert half[key] == first[key] == healthy["channels"][0][key]
    assert half["activePower"] == pytest.approx(healthy["activePower"] / 2, abs=0.01)
    assert storage(await fetch(battery, "/ivp/meters/readings")) == healthy


def test_data_fault_specs_are_checked() -> None:
    faults = Faults()
    with pytest.raises(ValueError, match="spoils only"):
        faults.apply_spec("zero-next=1@/info")
    with pytest.raises(ValueError, match="at least 1"):
        faults.apply_spec("eim-inactive-next=0")
    faults.apply_spec("eim-inactive-next=2")
    assert faults.to_dict()["data_faults"][0]["remaining"] == 2
    faults.reset()
    assert faults.to_dict()["data_faults"] == []


async def test_reboot_onto_new_firmware(battery: SimulatedGateway) -> None:
    assert battery.firmware == "D8.3.5167"
    battery.faults.apply_spec("reboot=60:D8.3.6086")
    assert battery.faults.to_dict()["reboot_firmware"] == "D8.3.6086"
    battery.clock.advance(61)
    async with aiohttp.ClientSession() as session, session.get(battery.http_url + "/info") as r:
        info = await r.text()
    assert "<software>D8.3.6086</software>" in info
    assert battery.firmware == "D8.3.6086"
    assert battery.backend.firmware == "D8.3.6086"
    assert eim(await fetch(battery, "/production.json"))["whLifetime"] > 0  # counters carry on


async def test_upgrade_to_token_firmware_changes_the_auth_scheme() -> None:
    clock = SimClock(start=NOON, speed=0)
    backend = SiteBackend.from_preset("legacy-5x", clock=clock)
    async with SimulatedGateway(backend, clock=clock) as gw, aiohttp.ClientSession() as session:
        assert gw.personality.scheme == "digest"
        gw.faults.reboot(30, firmware="D7.6.175")
        clock.advance(31)
        async with session.get(gw.http_url + "/info") as r:
            assert "D7.6.175" in await r.text()
        assert gw.personality.scheme == "token"
        async with session.get(gw.https_url + "/api/v1/production", ssl=False) as r:
            assert r.status == 401
        headers = {"Authorization": f"Bearer {gw.owner_token()}"}
        async with session.get(
            gw.https_url + "/api/v1/production", ssl=False, headers=headers
        ) as r:
            assert r.status == 200


async def test_replayed_capture_reboots_onto_new_firmware() -> None:
    folder = REAL / "7.6.175_with_cts"
    if not folder.is_dir():
        pytest.skip("the real captures (../shared/fixtures/real) are absent")
    clock = SimClock(start=NOON, speed=0)
    async with SimulatedGateway(ReplayBackend(folder), clock=clock) as gw:
        gw.faults.reboot(10, firmware="D8.2.4345")
        clock.advance(11)
        async with aiohttp.ClientSession() as session, session.get(gw.http_url + "/info") as r:
            assert "<software>D8.2.4345</software>" in await r.text()
        assert gw.personality.name == "token"


def test_reboot_firmware_is_checked() -> None:
    faults = Faults(clock=SimClock(start=NOON, speed=0))
    with pytest.raises(ValueError, match="firmware"):
        faults.reboot(10, firmware="banana")

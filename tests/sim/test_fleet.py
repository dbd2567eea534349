"""A fleet: many gateways in one process, one application, dispatch by local port."""

from __future__ import annotations

import resource

import aiohttp
import pytest

from enphase_local.simulator import ReplayBackend, SimClock, SimulatedFleet
from enphase_local.simulator.fleet import raise_open_file_limit
from tests.sim.test_server_kit import CLOCK_START, StubBackend
from tests.support import REAL, needs_real


async def test_two_hundred_gateways() -> None:
    backends = [
        StubBackend(serial=f"{122100000000 + i}", firmware="D8.2.4345" if i % 2 else "R3.9.36")
        for i in range(200)
    ]
    async with SimulatedFleet(backends, clock=SimClock(CLOCK_START, speed=0)) as fleet:
        assert len(fleet) == 200
        ports = {g.http_port for g in fleet} | {g.https_port for g in fleet}
        assert len(ports) == 400
        async with aiohttp.ClientSession() as session:
            for gateway in list(fleet)[::23]:
                async with session.get(gateway.https_url + "/info", ssl=False) as resp:
                    assert resp.status == 200
                    assert f"<sn>{gateway.serial}</sn>" in await resp.text()
                async with session.get(gateway.http_url + "/info") as resp:
                    assert f"<sn>{gateway.serial}</sn>" in await resp.text()
            token_gw, other = fleet[1], fleet[3]
            token = {"Authorization": f"Bearer {token_gw.owner_token()}"}
            async with session.get(
                token_gw.https_url + "/ivp/meters", headers=token, ssl=False
            ) as r:
                assert r.status == 200
            async with session.get(other.https_url + "/ivp/meters", headers=token, ssl=False) as r:
                assert r.status == 401  # a token names its gateway
            legacy = fleet[0]
            middleware = aiohttp.DigestAuthMiddleware("envoy", legacy.passwords["envoy"])
            async with (
                aiohttp.ClientSession(middlewares=(middleware,)) as digest,
                digest.get(legacy.http_url + "/ivp/meters") as r,
            ):
                assert r.status == 200
            fleet[5].faults.fail_next(1, status=503)
            async with session.get(fleet[5].http_url + "/info") as r:
                assert r.status == 503
            async with session.get(fleet[7].http_url + "/info") as r:
                assert r.status == 200
            async with session.get(fleet[5].http_url + "/__sim__/") as r:
                assert (await r.json())["serial"] == fleet[5].serial
        assert fleet[1].log.count("/ivp/meters") == 1
        assert fleet[3].log.count("/ivp/meters") == 1
        assert fleet[2].log.count() == 0
        assert fleet.by_serial(fleet[9].serial) is fleet[9]
        with pytest.raises(KeyError):
            fleet.by_serial("nope")


async def test_fleet_shares_the_cloud() -> None:
    fleet = SimulatedFleet([StubBackend(serial=f"{i:012d}") for i in range(1, 4)])
    async with fleet, aiohttp.ClientSession() as session:
        form = {"user[email]": "owner@example.com", "user[password]": "owner-password"}
        login_url = fleet.cloud_base_url.enlighten + "/login/login.json?"
        async with session.post(login_url, data=form) as resp:
            session_id = (await resp.json())["session_id"]
        body = {
            "session_id": session_id,
            "serial_num": fleet[2].serial,
            "username": form["user[email]"],
        }
        async with session.post(fleet.cloud_base_url.entrez + "/tokens", json=body) as resp:
            token = await resp.text()
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(
            fleet[2].https_url + "/auth/check_jwt", headers=headers, ssl=False
        ) as r:
            assert r.status == 200


async def test_fixed_base_ports() -> None:
    for _ in range(10):  # another process may take a neighbouring port: try other bases
        probe = SimulatedFleet([StubBackend()])
        async with probe:
            base = probe[0].http_port  # a port that was free a moment ago
        fleet = SimulatedFleet(
            [StubBackend(serial=f"{i:012d}") for i in range(1, 4)], http_port=base, https_port=0
        )
        try:
            async with fleet:
                assert [g.http_port for g in fleet] == [base, base + 1, base + 2]
                return
        except OSError:
            continue
    pytest.fail("ten bases in a row had a neighbouring port taken")


@needs_real
async def test_fleet_of_replays_with_own_serials() -> None:
    folder = REAL / "8.2.4345_with_device_data"
    backends = [ReplayBackend(folder, serial=f"{900000000000 + i}") for i in range(5)]
    async with SimulatedFleet(backends) as fleet, aiohttp.ClientSession() as session:
        for gateway in fleet:
            async with session.get(gateway.https_url + "/info", ssl=False) as resp:
                assert f"<sn>{gateway.serial}</sn>" in await resp.text()


def test_open_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert raise_open_file_limit(16) == soft  # enough already: unchanged
    wanted = soft + 1
    got = raise_open_file_limit(wanted)
    if hard == resource.RLIM_INFINITY or hard > soft:
        assert got >= wanted
    else:
        assert got == soft

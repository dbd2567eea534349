"""The request log: what was asked, how it was answered, and how many at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from enphase_local.simulator import LatencyProfile, SimClock, SimulatedGateway
from enphase_local.simulator.serve.reqlog import RequestLog
from tests.sim.test_server_kit import CLOCK_START, StubBackend


@pytest.fixture
async def gw() -> AsyncIterator[SimulatedGateway]:
    backend = StubBackend(firmware="D8.2.4345")
    gateway = SimulatedGateway(
        backend,
        clock=SimClock(CLOCK_START, speed=0),
        latency=LatencyProfile("test", ((r"^/ivp/", 0.1, 0.1),)),
    )
    async with gateway:
        yield gateway


async def test_entries_counts_roles(gw: SimulatedGateway) -> None:
    owner = {"Authorization": f"Bearer {gw.owner_token()}"}
    async with aiohttp.ClientSession() as session:
        for path, headers in (
            ("/info", {}),
            ("/production.json?details=1", owner),
            ("/production.json", {}),
            ("/ivp/meters/readings", owner),
            ("/nope", owner),
        ):
            async with session.get(gw.https_url + path, headers=headers, ssl=False) as resp:
                await resp.read()
    log = gw.log
    assert [(e.method, e.path, e.status, e.role) for e in log.entries] == [
        ("GET", "/info", 200, None),
        ("GET", "/production.json?details=1", 200, "owner"),
        ("GET", "/production.json", 401, None),
        ("GET", "/ivp/meters/readings", 200, "owner"),
        ("GET", "/nope", 404, "owner"),
    ]
    assert log.counts == {
        "/info": 1,
        "/production.json": 2,
        "/ivp/meters/readings": 1,
        "/nope": 1,
    }
    assert log.count() == 5 and log.count("/production.json") == 2
    assert log.statuses("/production.json") == [200, 401]
    assert all(e.sim_time == CLOCK_START for e in log.entries)
    assert all(e.started <= e.ended for e in log.entries)
    assert log.entries[3].duration_s >= 0.1  # the injected latency is inside the window
    starts = [e.started for e in log.entries]
    assert starts == sorted(starts)
    assert log.max_in_flight == 1


async def test_max_in_flight_sees_overlap(gw: SimulatedGateway) -> None:
    token = {"Authorization": f"Bearer {gw.owner_token()}"}

    async def one(session: aiohttp.ClientSession) -> int:
        async with session.get(gw.http_url + "/ivp/meters", headers=token) as resp:
            return resp.status

    async with aiohttp.ClientSession() as session:
        for _ in range(4):  # one at a time, as a well-behaved client does
            assert await one(session) == 200
        assert gw.log.max_in_flight == 1
        gw.log.reset()
        assert (gw.log.count(), gw.log.max_in_flight) == (0, 0)
        statuses = await asyncio.gather(*(one(session) for _ in range(5)))
    assert statuses == [200] * 5
    assert gw.log.max_in_flight == 5
    assert gw.log.in_flight == 0


async def test_control_log_endpoint(gw: SimulatedGateway) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            async with session.get(gw.http_url + "/info") as resp:
                await resp.read()
        async with session.get(gw.http_url + "/__sim__/log") as resp:
            data = await resp.json()
        assert data["count"] == 2 and data["counts"] == {"/info": 2}
        assert data["max_in_flight"] == 1
        assert [e["status"] for e in data["entries"]] == [200, 200]
        async with session.get(gw.http_url + "/__sim__/log?entries=0") as resp:
            assert "entries" not in await resp.json()
        async with session.post(gw.http_url + "/__sim__/log/reset") as resp:
            assert resp.status == 200
    assert gw.log.count() == 0


def test_log_keeps_most_recent_entries() -> None:
    log = RequestLog(maxlen=3)
    for i in range(5):
        started = log.begin()
        log.end(
            {
                "method": "GET",
                "path": f"/p{i}?x=1",
                "status": 200,
                "started": started,
                "sim_time": 0.0,
                "role": None,
            }
        )
    assert [e.path for e in log.entries] == ["/p2?x=1", "/p3?x=1", "/p4?x=1"]
    assert log.count() == 5  # counts survive trimming
    assert log.entries[0].endpoint == "/p2"

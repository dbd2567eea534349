"""Every fault knob, over real sockets, through the Python API and the control endpoint."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import zoneinfo
from collections.abc import AsyncIterator

import aiohttp
import orjson
import pytest

from enphase_local.simulator import (
    NO_LATENCY,
    REALISTIC_LATENCY,
    Faults,
    LatencyProfile,
    SimClock,
    SimulatedGateway,
)
from tests.sim.test_server_kit import CLOCK_START, StubBackend

DROPPED = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)


@pytest.fixture
async def gw() -> AsyncIterator[SimulatedGateway]:
    # Legacy firmware: /production is public, so these tests need no credentials.
    backend = StubBackend(firmware="R3.9.36", timezone="Europe/Amsterdam")
    async with SimulatedGateway(backend, clock=SimClock(CLOCK_START, speed=0)) as gateway:
        yield gateway


async def get(gw: SimulatedGateway, path: str = "/production") -> tuple[int, bytes, str]:
    """One request on a fresh connection (so aiohttp does not retry a dropped keep-alive)."""
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session,
        session.get(gw.http_url + path) as resp,
    ):
        return resp.status, await resp.read(), resp.headers.get("Content-Type", "")


async def control(gw: SimulatedGateway, path: str, data: object) -> tuple[int, object]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(gw.http_url + "/__sim__" + path, data=orjson.dumps(data)) as resp,
    ):
        body = await resp.read()
        kind = resp.headers.get("Content-Type", "")
        return resp.status, orjson.loads(body) if "json" in kind else body.decode()


# -- pure -------------------------------------------------------------------------------------


def test_spec_parsing() -> None:
    faults = Faults()
    for spec in (
        "error-rate=0.25:502",
        "fail-next=2:503@/production.json",
        "drop-next=1",
        "truncate-rate=0.1",
        "garbage-next=3@/ivp/meters",
        "html-error-rate=0.05",
        "latency=realistic",
        "latency-scale=0.5",
        "outage=2",
        "expire-tokens",
        "unauthorized=/ivp/ensemble/inventory,/ivp/meters",
        "production-401",
    ):
        faults.apply_spec(spec)
    state = faults.to_dict()
    assert state["rates"] == {"status": 0.25, "truncate": 0.1, "html": 0.05}
    assert state["error_status"] == 502
    assert state["pending"][0] == {
        "kind": "status",
        "remaining": 2,
        "status": 503,
        "path": "/production.json",
    }
    assert state["pending"][2]["path"] == "/ivp/meters"
    assert (state["latency"], state["latency_scale"]) == ("realistic", 0.5)
    assert state["outage_minutes"] == 2.0
    assert state["token_generation"] == 1
    assert state["unauthorized_paths"] == ["/ivp/ensemble/inventory", "/ivp/meters"]
    assert state["production_401"] is True
    faults.reset()
    assert faults.to_dict()["rates"] == {} and faults.latency is NO_LATENCY


@pytest.mark.parametrize(
    "spec", ["bogus", "error-rate=2", "fail-next=x", "latency=fast", "outage=9", "drop-next=0"]
)
def test_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError, match="bad fault spec"):
        Faults().apply_spec(spec)


def test_reboot_needs_a_clock() -> None:
    with pytest.raises(RuntimeError):
        Faults().reboot(10)


def test_realistic_latency_profile() -> None:
    import random

    rng = random.Random(1)
    assert all(
        0.05 <= REALISTIC_LATENCY.delay("/ivp/meters/readings", rng) <= 0.3 for _ in range(50)
    )
    assert all(0.3 <= REALISTIC_LATENCY.delay("/production.json", rng) <= 1.4 for _ in range(50))
    assert REALISTIC_LATENCY.delay("/inventory.json", rng) >= 3.0
    assert REALISTIC_LATENCY.delay("/home", rng) >= 5.0
    assert REALISTIC_LATENCY.scaled(0.1).delay("/home", rng) < 1.6
    assert NO_LATENCY.delay("/home", rng) == 0.0


def test_outage_window_in_local_time() -> None:
    faults = Faults()
    amsterdam = zoneinfo.ZoneInfo("Europe/Amsterdam")
    at = dt.datetime(2024, 6, 1, 23, 3, tzinfo=amsterdam).timestamp()
    assert not faults.in_outage(at, amsterdam)  # off until asked for
    faults.daily_outage(3)
    assert faults.in_outage(at, amsterdam)
    assert not faults.in_outage(at - 5 * 60, amsterdam)  # 22:58
    assert not faults.in_outage(at + 3 * 60, amsterdam)  # 23:06
    assert not faults.in_outage(at, dt.UTC)  # 21:03 UTC


# -- over sockets -----------------------------------------------------------------------------


async def test_fail_next_with_and_without_path(gw: SimulatedGateway) -> None:
    gw.faults.fail_next(2, status=503, path="/production.json")
    assert (await get(gw, "/production"))[0] == 200
    assert (await get(gw, "/production.json"))[0] == 503
    assert (await get(gw, "/production.json"))[0] == 503
    assert (await get(gw, "/production.json"))[0] == 200
    gw.faults.fail_next(1, status=500)
    assert (await get(gw, "/api/v1/production"))[0] == 500
    assert (await get(gw, "/api/v1/production"))[0] == 200


async def test_error_rate_is_seeded(gw: SimulatedGateway) -> None:
    async def run() -> list[int]:
        gw.faults.reset()
        gw.faults.set_rate("status", 0.5, status=502)
        return [(await get(gw))[0] for _ in range(30)]

    first = await run()
    assert set(first) == {200, 502}
    assert 5 <= first.count(502) <= 25
    assert await run() == first


async def test_drop_closes_without_answer(gw: SimulatedGateway) -> None:
    # aiohttp retries an idempotent request once after a disconnect: drop both attempts.
    gw.faults.drop_next(2, path="/production")
    with pytest.raises(DROPPED):
        await get(gw)
    assert (await get(gw))[0] == 200
    assert [(e.status, e.fault) for e in gw.log.entries] == [
        (None, "drop"),
        (None, "drop"),
        (200, None),
    ]
    gw.faults.drop_next(1)
    async with aiohttp.ClientSession() as session:  # POST is never retried
        with pytest.raises(DROPPED):
            await session.post(gw.http_url + "/production", data=b"x")
    gw.faults.set_rate("drop", 1.0)
    with pytest.raises(DROPPED):
        await get(gw)


async def test_truncated_body(gw: SimulatedGateway) -> None:
    gw.faults.truncate_next()
    with pytest.raises(aiohttp.ClientPayloadError):
        await get(gw)
    assert (await get(gw))[0] == 200


async def test_garbage_body(gw: SimulatedGateway) -> None:
    status, normal, _ = await get(gw)
    gw.faults.garbage_next()
    status, garbage, content_type = await get(gw)
    assert status == 200 and content_type.startswith("application/json")
    assert garbage != normal
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(garbage)


async def test_html_error_page_with_200(gw: SimulatedGateway) -> None:
    gw.faults.html_error_next(1, path="/api/v1/production")
    status, body, content_type = await get(gw, "/api/v1/production")
    assert status == 200 and content_type.startswith("text/html")
    assert body.startswith(b"<html>")


async def test_latency_per_endpoint(gw: SimulatedGateway) -> None:
    gw.faults.latency = LatencyProfile("test", ((r"^/production$", 0.3, 0.3),))
    started = time.monotonic()
    await get(gw, "/production")
    slow = time.monotonic() - started
    started = time.monotonic()
    await get(gw, "/api/v1/production")
    fast = time.monotonic() - started
    assert slow >= 0.3 > fast
    assert gw.log.entries[0].duration_s >= 0.3


async def test_daily_outage_by_clock(gw: SimulatedGateway) -> None:
    amsterdam = zoneinfo.ZoneInfo("Europe/Amsterdam")
    gw.faults.daily_outage(2)
    gw.clock.set(dt.datetime(2024, 6, 1, 22, 59, tzinfo=amsterdam).timestamp())
    assert (await get(gw))[0] == 200
    gw.clock.advance(4 * 60)  # 23:03
    with pytest.raises(DROPPED):
        await get(gw)
    gw.clock.advance(2 * 60)  # 23:05
    assert (await get(gw))[0] == 200
    assert gw.log.entries[1].fault == "outage"


async def test_reboot_then_backend_reboots(gw: SimulatedGateway) -> None:
    gw.faults.reboot(60, settle_s=300)
    assert (await get(gw))[0] == 503
    gw.clock.advance(30)
    assert (await get(gw))[0] == 503
    assert gw.backend.reboots == []  # type: ignore[attr-defined]
    gw.clock.advance(31)
    assert (await get(gw))[0] == 200
    assert gw.backend.reboots == [300]  # type: ignore[attr-defined]
    assert (await get(gw))[0] == 200
    assert gw.backend.reboots == [300]  # type: ignore[attr-defined]


async def test_control_endpoint_faults(gw: SimulatedGateway) -> None:
    assert (await control(gw, "/faults", {"spec": "fail-next=1:502"}))[0] == 200
    assert (await get(gw))[0] == 502
    status, answer = await control(gw, "/faults", {"spec": "nonsense"})
    assert status == 400 and "bad fault spec" in answer["error"]  # type: ignore[index]
    await control(gw, "/faults", {"specs": ["garbage-next=1", "html-error-next=1"]})
    assert (await get(gw))[2].startswith("application/json")
    assert (await get(gw))[1].startswith(b"<html>")
    await control(gw, "/faults", {"spec": "reboot=30"})
    assert (await get(gw))[0] == 503
    status, answer = await control(gw, "/reset", {})
    assert status == 200
    assert (await get(gw))[0] == 200
    assert gw.log.count() == 1  # reset emptied the log; control calls are not logged


async def test_control_endpoint_clock_and_tokens() -> None:
    clock = SimClock(CLOCK_START, speed=0)
    async with SimulatedGateway(StubBackend(firmware="D8.2.4345"), clock=clock) as gw:
        status, answer = await control(gw, "/clock", {"advance": 90})
        assert status == 200 and answer == {"now": CLOCK_START + 90, "speed": 0.0}
        assert (await control(gw, "/clock", {"advance": -1}))[0] == 400
        status, token = await control(gw, "/tokens", {"role": "installer"})
        assert status == 200
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                gw.http_url + "/ivp/peb/devstatus", headers={"Authorization": f"Bearer {token}"}
            ) as resp,
        ):
            assert resp.status == 200
        await control(gw, "/faults", {"spec": "expire-tokens"})
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                gw.http_url + "/ivp/peb/devstatus", headers={"Authorization": f"Bearer {token}"}
            ) as resp,
        ):
            assert resp.status == 401
        async with aiohttp.ClientSession() as session, session.get(gw.http_url + "/__sim__/") as r:
            state = await r.json()
        assert state["serial"] == gw.serial and state["personality"] == "token"


async def test_concurrent_requests_survive_latency(gw: SimulatedGateway) -> None:
    gw.faults.latency = LatencyProfile("test", ((r".", 0.05, 0.1),))
    results = await asyncio.gather(*(get(gw) for _ in range(8)))
    assert [r[0] for r in results] == [200] * 8


async def test_keepalive_reset_quirk(gw: SimulatedGateway) -> None:
    gw.faults.apply_spec("keepalive-reset")
    path = "/ivp/meters"
    middleware = aiohttp.DigestAuthMiddleware("envoy", gw.owner_password)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        # challenge, then the authorised retry on the same connection is reset;
        # aiohttp retries an idempotent request once on a fresh connection.
        async with session.get(gw.http_url + path) as resp:
            assert resp.status == 200
        with pytest.raises(DROPPED):
            await session.post(gw.http_url + path, data=b"{}")  # reused connection, no retry
    assert [e.fault for e in gw.log.entries] == [None, "drop", None, "drop"]
    gw.log.reset()
    connector = aiohttp.TCPConnector(force_close=True)  # the workaround: no keep-alive
    async with aiohttp.ClientSession(middlewares=(middleware,), connector=connector) as session:
        for _ in range(3):
            async with session.get(gw.http_url + path) as resp:
                assert resp.status == 200
    assert all(e.fault is None for e in gw.log.entries)

"""Legacy firmware (< 7) over real sockets: digest auth, users envoy and installer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from enphase_local.simulator import SimClock, SimulatedGateway
from tests.sim.test_server_kit import CLOCK_START, StubBackend, digest_header


@pytest.fixture
async def gw() -> AsyncIterator[SimulatedGateway]:
    backend = StubBackend(serial="122112123456", firmware="R3.9.36")
    async with SimulatedGateway(backend, clock=SimClock(CLOCK_START, speed=0)) as gateway:
        yield gateway


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_credentials_given(gw: SimulatedGateway) -> None:
    assert gw.personality.scheme == "digest"
    assert gw.passwords == {"envoy": "123456", "installer": "d525d2jh"}
    assert gw.owner_password == "123456"
    assert gw.installer_password == "d525d2jh"


@pytest.mark.parametrize("path", ["/info", "/info.xml", "/production", "/api/v1/production"])
async def test_public_paths_need_no_auth(
    gw: SimulatedGateway, session: aiohttp.ClientSession, path: str
) -> None:
    async with session.get(gw.http_url + path) as resp:
        assert resp.status == 200


async def test_fallback_info_names_serial_and_firmware(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    async with session.get(gw.http_url + "/info") as resp:
        text = await resp.text()
    assert "<sn>122112123456</sn>" in text
    assert "<software>R3.9.36</software>" in text
    assert "<web-tokens>false</web-tokens>" in text


@pytest.mark.parametrize(
    "path", ["/api/v1/production/inverters", "/ivp/meters", "/admin/lib/tariff", "/inventory.json"]
)
async def test_protected_paths_challenge(
    gw: SimulatedGateway, session: aiohttp.ClientSession, path: str
) -> None:
    async with session.get(gw.http_url + path) as resp:
        assert resp.status == 401
        challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith("Digest ")
    assert 'qop="auth"' in challenge
    assert 'realm="enphaseenergy.com"' in challenge
    assert gw.backend.calls == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(("user", "password"), [("envoy", "123456"), ("installer", "d525d2jh")])
async def test_aiohttp_digest_both_users(gw: SimulatedGateway, user: str, password: str) -> None:
    middleware = aiohttp.DigestAuthMiddleware(user, password)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as client:
        for _ in range(3):  # the middleware reuses the nonce with a growing nc
            async with client.get(gw.http_url + "/api/v1/production/inverters") as resp:
                assert resp.status == 200
                assert (await resp.json())["path"] == "/api/v1/production/inverters"
    expected_role = "installer" if user == "installer" else "owner"
    statuses = [(e.status, e.role) for e in gw.log.entries]
    assert statuses[0] == (401, None)
    assert statuses[1:] == [(200, expected_role)] * 3  # one challenge, then nonce reuse


async def test_wrong_password_refused(gw: SimulatedGateway) -> None:
    middleware = aiohttp.DigestAuthMiddleware("envoy", "000000")
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as client,
        client.get(gw.http_url + "/ivp/meters") as resp,
    ):
        assert resp.status == 401
    assert all(e.status == 401 for e in gw.log.entries)


async def test_nonce_reuse_by_hand_and_query(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    uri = "/inventory.json?deleted=1"
    async with session.get(gw.http_url + uri) as resp:
        challenge = resp.headers["WWW-Authenticate"]
    for nc in (1, 2, 3):
        header = digest_header(challenge, "GET", uri, "envoy", "123456", nc=nc)
        async with session.get(gw.http_url + uri, headers={"Authorization": header}) as resp:
            assert resp.status == 200
    wrong_uri = digest_header(challenge, "GET", "/ivp/meters", "envoy", "123456", nc=4)
    async with session.get(gw.http_url + uri, headers={"Authorization": wrong_uri}) as resp:
        assert resp.status == 401
    bearer = {"Authorization": f"Bearer {gw.owner_token()}"}
    async with session.get(gw.http_url + uri, headers=bearer) as resp:
        assert resp.status == 401  # legacy firmware knows nothing of tokens


async def test_installer_only_paths_refuse_envoy(gw: SimulatedGateway) -> None:
    for user, password, expected in (("envoy", "123456", 401), ("installer", "d525d2jh", 200)):
        middleware = aiohttp.DigestAuthMiddleware(user, password)
        async with aiohttp.ClientSession(middlewares=(middleware,)) as client:
            for path in ("/ivp/peb/devstatus", "/installer/setup", "/ivp/meters/cts"):
                async with client.get(gw.http_url + path) as resp:
                    assert resp.status == expected, (user, path)


async def test_production_401_quirk(gw: SimulatedGateway) -> None:
    gw.faults.production_401 = True
    middleware = aiohttp.DigestAuthMiddleware("installer", "d525d2jh")
    async with aiohttp.ClientSession(middlewares=(middleware,)) as client:
        async with client.get(gw.http_url + "/production") as resp:
            assert resp.status == 401
            assert "Digest" in resp.headers["WWW-Authenticate"]
        async with client.get(gw.http_url + "/production.json") as resp:
            assert resp.status == 200
    gw.faults.reset()
    async with aiohttp.ClientSession() as client, client.get(gw.http_url + "/production") as resp:
        assert resp.status == 200


async def test_digest_over_https_too(gw: SimulatedGateway) -> None:
    middleware = aiohttp.DigestAuthMiddleware("envoy", "123456")
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as client,
        client.get(gw.https_url + "/ivp/meters", ssl=False) as resp,
    ):
        assert resp.status == 200


async def test_unknown_path_is_404_after_auth(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    async with session.get(gw.http_url + "/nope") as resp:
        assert resp.status == 404
    async with session.get(gw.http_url + "/ivp/nope") as resp:
        assert resp.status == 401  # auth comes first

"""The Enlighten / Entrez emulation end to end: login -> token -> check_jwt on the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import jwt
import pytest

from enphase_local.simulator import SimClock, SimulatedGateway
from enphase_local.simulator.serve.cloud import CloudAccount, CloudEmulation
from tests.sim.test_server_kit import CLOCK_START, StubBackend


@pytest.fixture
async def gw() -> AsyncIterator[SimulatedGateway]:
    backend = StubBackend(serial="122112123456", firmware="D8.2.4345")
    async with SimulatedGateway(backend, clock=SimClock(CLOCK_START, speed=0)) as gateway:
        yield gateway


async def login(
    session: aiohttp.ClientSession, gw: SimulatedGateway, email: str, password: str
) -> aiohttp.ClientResponse:
    url = gw.cloud_base_url.enlighten + "/login/login.json?"
    resp = await session.post(url, data={"user[email]": email, "user[password]": password})
    await resp.read()
    return resp


async def entrez_token(
    session: aiohttp.ClientSession, gw: SimulatedGateway, session_id: str, serial: str, user: str
) -> aiohttp.ClientResponse:
    resp = await session.post(
        gw.cloud_base_url.entrez + "/tokens",
        json={"session_id": session_id, "serial_num": serial, "username": user},
    )
    await resp.read()
    return resp


async def test_cloud_urls(gw: SimulatedGateway) -> None:
    urls = gw.cloud_base_url
    assert urls.enlighten == f"{gw.http_url}/__cloud__/enlighten"
    assert urls.entrez == f"{gw.http_url}/__cloud__/entrez"


async def test_login_token_check_jwt(gw: SimulatedGateway) -> None:
    async with aiohttp.ClientSession() as session:
        resp = await login(session, gw, "owner@example.com", "owner-password")
        assert resp.status == 200
        answer = await resp.json()
        assert set(answer) >= {"session_id", "manager_token", "is_consumer"}
        assert answer["is_consumer"] is True
        resp = await entrez_token(session, gw, answer["session_id"], gw.serial, "owner@example.com")
        assert resp.status == 200
        token = (await resp.text()).strip()
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["enphaseUser"] == "owner"
        assert claims["aud"] == gw.serial
        assert claims["iat"] == int(CLOCK_START)
        async with session.get(
            gw.https_url + "/auth/check_jwt",
            headers={"Authorization": f"Bearer {token}"},
            ssl=False,
        ) as check:
            assert check.status == 200
            cookie = check.cookies["sessionId"].value
        async with session.get(
            gw.https_url + "/production.json", headers={"Cookie": f"sessionId={cookie}"}, ssl=False
        ) as data:
            assert data.status == 200
    assert gw.cloud is not None
    assert (gw.cloud.counters.logins, gw.cloud.counters.tokens) == (1, 1)


async def test_cloud_and_control_are_not_gateway_requests(gw: SimulatedGateway) -> None:
    async with aiohttp.ClientSession() as session:
        await login(session, gw, "owner@example.com", "owner-password")
    assert gw.log.count() == 0


async def test_mfa_account_gets_no_session(gw: SimulatedGateway) -> None:
    async with aiohttp.ClientSession() as session:
        resp = await login(session, gw, "mfa@example.com", "mfa-password")
        assert resp.status == 200
        answer = await resp.json()
        assert "session_id" not in answer
        assert answer == {"success": True, "isBlocked": False}  # as Enlighten answers it
        assert "login_otp_nonce" in resp.cookies and "XSRF-TOKEN" in resp.cookies


@pytest.mark.parametrize(
    ("email", "password"),
    [("owner@example.com", "wrong"), ("nobody@example.com", "owner-password"), ("", "")],
)
async def test_bad_credentials_401(gw: SimulatedGateway, email: str, password: str) -> None:
    async with aiohttp.ClientSession() as session:
        resp = await login(session, gw, email, password)
        assert resp.status == 401


async def test_token_needs_a_live_session_of_that_user(gw: SimulatedGateway) -> None:
    async with aiohttp.ClientSession() as session:
        resp = await entrez_token(session, gw, "made-up", gw.serial, "owner@example.com")
        assert resp.status == 401
        answer = await (await login(session, gw, "owner@example.com", "owner-password")).json()
        resp = await entrez_token(session, gw, answer["session_id"], gw.serial, "mfa@example.com")
        assert resp.status == 401
        bad = await session.post(gw.cloud_base_url.entrez + "/tokens", data=b"not json")
        assert bad.status == 400


async def test_installer_account_and_serial_restriction() -> None:
    clock = SimClock(CLOCK_START, speed=0)
    cloud = CloudEmulation(
        (
            CloudAccount("pro@example.com", "pw", installer=True),
            CloudAccount("mine@example.com", "pw", serials=frozenset({"111111111111"})),
        ),
        clock=clock,
    )
    async with (
        SimulatedGateway(StubBackend(), clock=clock, cloud=cloud) as gw,
        aiohttp.ClientSession() as session,
    ):
        answer = await (await login(session, gw, "pro@example.com", "pw")).json()
        assert answer["is_consumer"] is False
        resp = await entrez_token(session, gw, answer["session_id"], gw.serial, "pro@example.com")
        claims = jwt.decode(await resp.text(), options={"verify_signature": False})
        assert claims["enphaseUser"] == "installer"
        assert claims["exp"] - claims["iat"] == 12 * 3600
        answer = await (await login(session, gw, "mine@example.com", "pw")).json()
        resp = await entrez_token(session, gw, answer["session_id"], gw.serial, "mine@example.com")
        assert resp.status == 403


async def test_token_for_other_gateway_is_refused(gw: SimulatedGateway) -> None:
    async with aiohttp.ClientSession() as session:
        answer = await (await login(session, gw, "owner@example.com", "owner-password")).json()
        resp = await entrez_token(
            session, gw, answer["session_id"], "999999999999", "owner@example.com"
        )
        token = await resp.text()
        async with session.get(
            gw.https_url + "/auth/check_jwt",
            headers={"Authorization": f"Bearer {token}"},
            ssl=False,
        ) as check:
            assert check.status == 401


async def test_cloud_fail_next(gw: SimulatedGateway) -> None:
    assert gw.cloud is not None
    gw.cloud.fail_next(1, status=503)
    async with aiohttp.ClientSession() as session:
        assert (await login(session, gw, "owner@example.com", "owner-password")).status == 503
        assert (await login(session, gw, "owner@example.com", "owner-password")).status == 200


async def test_no_cloud() -> None:
    async with SimulatedGateway(StubBackend(), cloud=False) as gw:
        with pytest.raises(RuntimeError):
            _ = gw.cloud_base_url
        async with aiohttp.ClientSession() as session:
            url = gw.http_url + "/__cloud__/enlighten/login/login.json?"
            form = {"user[email]": "owner@example.com", "user[password]": "owner-password"}
            async with session.post(url, data=form) as resp:
                assert resp.status == 401  # no cloud: the gateway's own auth refuses the path

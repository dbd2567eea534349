"""Token firmware (>= 7) over real sockets: check_jwt, sessions, roles, HTTPS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import jwt
import pytest

from enphase_local.simulator import SimClock, SimulatedGateway
from tests.sim.test_server_kit import CLOCK_START, StubBackend


@pytest.fixture
async def gw() -> AsyncIterator[SimulatedGateway]:
    backend = StubBackend(serial="122112123456", firmware="D8.2.4345")
    async with SimulatedGateway(backend, clock=SimClock(CLOCK_START, speed=0)) as gateway:
        yield gateway


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def check_jwt(gw: SimulatedGateway, session: aiohttp.ClientSession, token: str) -> str:
    async with session.get(
        gw.https_url + "/auth/check_jwt", headers=bearer(token), ssl=False
    ) as resp:
        assert resp.status == 200
        assert "Valid token." in await resp.text()
        return resp.cookies["sessionId"].value


async def status(
    gw: SimulatedGateway,
    session: aiohttp.ClientSession,
    path: str,
    *,
    token: str | None = None,
    cookie: str | None = None,
) -> int:
    headers = bearer(token) if token else {}
    if cookie:
        headers["Cookie"] = f"sessionId={cookie}"
    async with session.get(gw.https_url + path, headers=headers, ssl=False) as resp:
        await resp.read()
        return resp.status


async def test_addresses_and_identity(gw: SimulatedGateway) -> None:
    assert gw.https_host == f"127.0.0.1:{gw.https_port}"
    assert gw.https_url == f"https://127.0.0.1:{gw.https_port}"
    assert gw.http_url == f"http://127.0.0.1:{gw.http_port}"
    assert gw.http_port != gw.https_port
    assert (gw.serial, gw.firmware) == ("122112123456", "D8.2.4345")


async def test_https_with_self_signed_certificate(gw: SimulatedGateway) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(gw.https_url + "/info", ssl=False) as resp:
            assert resp.status == 200
            assert "<web-tokens>true</web-tokens>" in await resp.text()
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.get(gw.https_url + "/info")  # verification on: self-signed


@pytest.mark.parametrize("path", ["/info", "/info.xml", "/home"])
async def test_public_paths(
    gw: SimulatedGateway, session: aiohttp.ClientSession, path: str
) -> None:
    assert await status(gw, session, path) == 200


@pytest.mark.parametrize(
    "path",
    ["/production.json", "/api/v1/production", "/ivp/meters/readings", "/ivp/livedata/status"],
)
async def test_data_needs_token(
    gw: SimulatedGateway, session: aiohttp.ClientSession, path: str
) -> None:
    assert await status(gw, session, path) == 401
    assert await status(gw, session, path, token=gw.owner_token()) == 200


async def test_check_jwt_then_cookie_only(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    cookie = await check_jwt(gw, session, gw.owner_token())
    for _ in range(3):
        assert await status(gw, session, "/production.json", cookie=cookie) == 200
    assert await status(gw, session, "/production.json", cookie="f" * 32) == 401
    assert [e.role for e in gw.log.entries[:4]] == ["owner"] * 4


async def test_check_jwt_refuses_without_or_with_bad_token(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    assert await status(gw, session, "/auth/check_jwt") == 401
    assert await status(gw, session, "/auth/check_jwt", token="garbage.token.here") == 401


async def test_refused_tokens(gw: SimulatedGateway, session: aiohttp.ClientSession) -> None:
    good = gw.owner_token()
    claims = jwt.decode(good, options={"verify_signature": False})
    expired = gw.owner_token(valid_for_s=-1)
    wrong_signature = jwt.encode(claims, "not-the-simulator-secret-" * 2, algorithm="HS256")
    other = SimulatedGateway(StubBackend(serial="999999999999"), clock=gw.clock)
    other_serial = other.owner_token()
    for token in (expired, wrong_signature, other_serial, "malformed", good[:-4] + "AAAA"):
        assert await status(gw, session, "/production.json", token=token) == 401, token[:12]
        assert await status(gw, session, "/auth/check_jwt", token=token) == 401
    assert await status(gw, session, "/production.json", token=good) == 200


async def test_token_expires_by_simulated_clock(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    token = gw.installer_token()
    assert await status(gw, session, "/production.json", token=token) == 200
    assert isinstance(gw.clock, SimClock)
    gw.clock.advance(12 * 3600 + 1)
    assert await status(gw, session, "/production.json", token=token) == 401


async def test_session_expires_after_ten_idle_minutes(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    cookie = await check_jwt(gw, session, gw.owner_token())
    for _ in range(3):  # used every 9 minutes: stays valid for 27 minutes
        gw.clock.advance(9 * 60)
        assert await status(gw, session, "/ivp/meters", cookie=cookie) == 200
    gw.clock.advance(10 * 60 + 1)
    assert await status(gw, session, "/ivp/meters", cookie=cookie) == 401
    assert await status(gw, session, "/ivp/meters", cookie=cookie, token=gw.owner_token()) == 200


@pytest.mark.parametrize(
    "path",
    [
        "/ivp/peb/devstatus",
        "/installer/setup",
        "/ivp/meters/cts/1",
        "/ivp/mod/1/mode/power",
        "/ivp/ss/dpel",
    ],
)
async def test_installer_only_refuses_owner(
    gw: SimulatedGateway, session: aiohttp.ClientSession, path: str
) -> None:
    assert await status(gw, session, path, token=gw.owner_token()) == 401
    assert await status(gw, session, path, token=gw.installer_token()) == 200
    owner_cookie = await check_jwt(gw, session, gw.owner_token())
    installer_cookie = await check_jwt(gw, session, gw.installer_token())
    assert await status(gw, session, path, cookie=owner_cookie) == 401
    assert await status(gw, session, path, cookie=installer_cookie) == 200


async def test_stream_meter_installer_only_on_7x(session: aiohttp.ClientSession) -> None:
    clock = SimClock(CLOCK_START, speed=0)
    async with SimulatedGateway(StubBackend(firmware="D7.6.175"), clock=clock) as gw7:
        assert await status(gw7, session, "/stream/meter", token=gw7.owner_token()) == 401
        assert await status(gw7, session, "/stream/meter", token=gw7.installer_token()) == 200
    async with SimulatedGateway(StubBackend(firmware="D8.2.4345"), clock=clock) as gw8:
        assert await status(gw8, session, "/stream/meter", token=gw8.owner_token()) == 200


async def test_early_7x_unauthorized_paths_knob(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    gw.faults.unauthorized_paths.add("/ivp/ensemble/inventory")
    token = gw.installer_token()
    assert await status(gw, session, "/ivp/ensemble/inventory", token=token) == 401
    assert await status(gw, session, "/ivp/ensemble/secctrl", token=token) == 200


async def test_expire_tokens_knob(gw: SimulatedGateway, session: aiohttp.ClientSession) -> None:
    token = gw.owner_token()
    cookie = await check_jwt(gw, session, token)
    gw.expire_tokens()
    assert await status(gw, session, "/ivp/meters", cookie=cookie) == 401
    assert await status(gw, session, "/ivp/meters", token=token) == 401
    assert await status(gw, session, "/ivp/meters", token=gw.owner_token()) == 200


async def test_writes_reach_backend_with_body(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    async with session.put(
        gw.https_url + "/admin/lib/tariff",
        data=b'{"tariff":{}}',
        headers=bearer(gw.owner_token()),
        ssl=False,
    ) as resp:
        assert resp.status == 200
        assert (await resp.json())["method"] == "PUT"
    assert gw.backend.calls[-1][:2] == ("PUT", "/admin/lib/tariff")  # type: ignore[attr-defined]
    assert gw.backend.calls[-1][3] == b'{"tariff":{}}'  # type: ignore[attr-defined]


async def test_http_serves_same_gateway(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    async with session.get(gw.http_url + "/ivp/meters", headers=bearer(gw.owner_token())) as resp:
        assert resp.status == 200
    assert gw.log.count("/ivp/meters") == 1

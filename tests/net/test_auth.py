"""Authentication against real aiohttp.web handlers that check digest and tokens."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import secrets
from collections.abc import AsyncIterator, Callable

import jwt
import pytest
from aiohttp import web

from enphase_local.errors import (
    EnvoyBadCredentialsError,
    EnvoyConnectionError,
    EnvoyTokenExpiredError,
)
from enphase_local.net.digest import DigestAuth, installer_password, owner_password
from enphase_local.net.token_auth import TokenAuth
from enphase_local.net.transport import Transport
from enphase_local.sources.registry import Speed
from tests.net.certs import make_identity

FAST = Speed.FAST
NOW = 1_750_000_000.0
DAY = 86_400.0
SERIAL = "122112123456"


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[Transport]:
    """Serve `app` on 127.0.0.1 over HTTPS and yield a Transport to it (closed afterwards).

    HTTPS because tokens never travel over plain HTTP (the transport refuses);
    digest works the same over both.
    """
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=make_identity().context)
    await site.start()
    transport = Transport(f"127.0.0.1:{runner.addresses[0][1]}", scheme="https", sleep=no_sleep)
    try:
        yield transport
    finally:
        await transport.close()
        await runner.cleanup()


async def no_sleep(delay: float) -> None:
    return None


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


# -- passwords -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "password"),
    [("122112123456", "d525d2jh"), ("123456789012", "7edE24ed"), ("202020202020", "h3C684b4")],
)
def test_installer_password_vectors(serial: str, password: str) -> None:
    assert installer_password(serial) == password


def test_owner_password_is_the_last_six_characters() -> None:
    assert owner_password("122112123456") == "123456"
    assert DigestAuth.for_owner("122112123456").username == "envoy"
    assert DigestAuth.for_installer("122112123456").username == "installer"
    assert "123456" not in repr(DigestAuth.for_owner("122112123456"))


# -- digest ------------------------------------------------------------------------


class DigestGateway:
    """A handler that checks RFC 7616 MD5 digest with qop=auth, like old Envoy firmware."""

    REALM = "enphaseenergy.com"

    def __init__(self, users: dict[str, str], installer_only: tuple[str, ...] = ()) -> None:
        self.users = users
        self.installer_only = installer_only
        self.nonces: dict[str, int] = {}  # nonce -> highest nc seen
        self.exchanges = 0
        self.challenges = 0
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self.handle)

    def expire_nonces(self) -> None:
        self.nonces.clear()

    def challenge(self, stale: bool = False) -> web.Response:
        self.challenges += 1
        nonce = secrets.token_hex(8)
        self.nonces[nonce] = 0
        header = (
            f'Digest realm="{self.REALM}", nonce="{nonce}", qop="auth", '
            f'opaque="abc", algorithm=MD5{", stale=TRUE" if stale else ""}'
        )
        return web.Response(status=401, headers={"WWW-Authenticate": header})

    async def handle(self, request: web.Request) -> web.Response:
        self.exchanges += 1
        value = request.headers.get("Authorization", "")
        if not value.startswith("Digest "):
            return self.challenge()
        p = {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', value)}
        if p["uri"] != request.path_qs or p.get("opaque") != "abc" or p["qop"] != "auth":
            return web.Response(status=400)
        nonce, nc = p["nonce"], int(p["nc"], 16)
        if nonce not in self.nonces:
            return self.challenge(stale=True)
        password = self.users.get(p["username"])
        ha1 = md5(f"{p['username']}:{self.REALM}:{password}")
        ha2 = md5(f"{request.method}:{p['uri']}")
        expected = md5(f"{ha1}:{nonce}:{p['nc']}:{p['cnonce']}:auth:{ha2}")
        if password is None or p["response"] != expected or nc <= self.nonces[nonce]:
            return self.challenge()
        self.nonces[nonce] = nc
        if request.path in self.installer_only and p["username"] != "installer":
            return self.challenge()
        return web.Response(text=f"hello {p['username']}")


async def test_digest_costs_one_round_trip_after_the_first() -> None:
    gateway = DigestGateway({"envoy": "123456"})
    auth = DigestAuth.for_owner(SERIAL)
    async with serve(gateway.app) as transport:
        result = await transport.request("GET", "/production.json", speed=FAST, auth=auth)
        assert (result.status, result.body) == (200, b"hello envoy")
        assert (gateway.exchanges, gateway.challenges) == (2, 1)
        for path in ("/api/v1/production", "/ivp/meters?x=1", "/production.json"):
            result = await transport.request("GET", path, speed=FAST, auth=auth)
            assert result.status == 200
        assert (gateway.exchanges, gateway.challenges) == (5, 1)
        assert auth.verified
        result = await transport.request("POST", "/w", speed=FAST, auth=auth, json={}, retry=False)
        assert result.status == 200


async def test_digest_concurrent_requests_share_the_nonce() -> None:
    gateway = DigestGateway({"envoy": "123456"})
    auth = DigestAuth.for_owner(SERIAL)
    async with serve(gateway.app) as transport:
        await transport.request("GET", "/a", speed=FAST, auth=auth)
        results = await asyncio.gather(
            *(transport.request("GET", f"/p{i}", speed=FAST, auth=auth) for i in range(5))
        )
        assert [r.status for r in results] == [200] * 5
        assert gateway.exchanges == 2 + 5


async def test_digest_stale_nonce_is_renewed_with_one_more_try() -> None:
    gateway = DigestGateway({"envoy": "123456"})
    auth = DigestAuth.for_owner(SERIAL)
    async with serve(gateway.app) as transport:
        await transport.request("GET", "/a", speed=FAST, auth=auth)
        gateway.expire_nonces()
        before = gateway.exchanges
        result = await transport.request("GET", "/a", speed=FAST, auth=auth)
        assert result.status == 200
        assert gateway.exchanges - before == 2
        await transport.request("GET", "/a", speed=FAST, auth=auth)
        assert gateway.exchanges - before == 3


async def test_digest_wrong_password_gives_back_the_401_unverified() -> None:
    gateway = DigestGateway({"envoy": "123456"})
    auth = DigestAuth("envoy", "wrong1")
    async with serve(gateway.app) as transport:
        result = await transport.request("GET", "/a", speed=FAST, auth=auth)
        assert result.status == 401
        assert not auth.verified
        assert gateway.exchanges == 2  # challenge, refused answer: no loop


async def test_digest_installer_only_endpoint_refuses_a_verified_owner() -> None:
    gateway = DigestGateway(
        {"envoy": "123456", "installer": installer_password(SERIAL)}, installer_only=("/ivp/peb",)
    )
    owner, installer = DigestAuth.for_owner(SERIAL), DigestAuth.for_installer(SERIAL)
    async with serve(gateway.app) as transport:
        assert (await transport.request("GET", "/a", speed=FAST, auth=owner)).status == 200
        refused = await transport.request("GET", "/ivp/peb", speed=FAST, auth=owner)
        assert refused.status == 401 and owner.verified
        allowed = await transport.request("GET", "/ivp/peb", speed=FAST, auth=installer)
        assert allowed.body == b"hello installer"


# -- tokens -------------------------------------------------------------------------


def make_token(role: str = "owner", exp: float = NOW + 365 * DAY, iat: float = NOW) -> str:
    claims = {"aud": SERIAL, "enphaseUser": role, "exp": int(exp), "iat": int(iat)}
    claims["username"] = "owner@example.com"
    return jwt.encode(claims, "not-the-real-key-" * 4, algorithm="HS256")


class TokenGateway:
    """check_jwt issues sessionId cookies for valid tokens; data needs bearer and cookie."""

    def __init__(self, *tokens: str, installer_only: tuple[str, ...] = ()) -> None:
        self.valid_tokens = set(tokens)
        self.sessions: set[str] = set()
        self.installer_only = installer_only
        self.checks = 0
        self.data_calls = 0
        self.app = web.Application()
        self.app.router.add_get("/auth/check_jwt", self.check_jwt)
        self.app.router.add_route("*", "/{tail:.*}", self.data)

    def bearer(self, request: web.Request) -> str:
        return request.headers.get("Authorization", "").removeprefix("Bearer ")

    async def check_jwt(self, request: web.Request) -> web.Response:
        self.checks += 1
        await asyncio.sleep(0.01)  # expensive for the gateway
        if self.bearer(request) not in self.valid_tokens:
            return web.Response(status=401, text="Invalid token")
        session = secrets.token_hex(8)
        self.sessions.add(session)
        response = web.Response(text="<h2>Valid token.</h2>", content_type="text/html")
        response.set_cookie("sessionId", session, path="/", httponly=True)
        return response

    async def data(self, request: web.Request) -> web.Response:
        self.data_calls += 1
        token = self.bearer(request)
        if request.cookies.get("sessionId") not in self.sessions:
            return web.Response(status=401)
        if token not in self.valid_tokens:
            return web.Response(status=401)
        if request.path in self.installer_only:
            return web.Response(status=401)
        return web.Response(text="data")


class Provider:
    def __init__(self, *tokens: str) -> None:
        self.tokens = list(tokens)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        return self.tokens.pop(0)


def clock(now: float = NOW) -> Callable[[], float]:
    return lambda: now


async def test_check_jwt_once_then_the_cookie_is_reused() -> None:
    token = make_token()
    gateway = TokenGateway(token)
    auth = TokenAuth(token, clock=clock())
    async with serve(gateway.app) as transport:
        for _ in range(3):
            result = await transport.request("GET", "/production.json", speed=FAST, auth=auth)
            assert (result.status, result.body) == (200, b"data")
        results = await asyncio.gather(
            *(transport.request("GET", "/ivp/livedata/status", speed=FAST, auth=auth) for _ in "ab")
        )
        assert all(r.status == 200 for r in results)
    assert gateway.checks == 1
    assert gateway.data_calls == 5


async def test_concurrent_first_requests_check_the_token_once() -> None:
    token = make_token()
    gateway = TokenGateway(token)
    auth = TokenAuth(token, clock=clock())
    async with serve(gateway.app) as transport:
        transport.max_in_flight = 3
        results = await asyncio.gather(
            *(transport.request("GET", "/d", speed=FAST, auth=auth) for _ in range(4))
        )
    assert [r.status for r in results] == [200] * 4
    assert gateway.checks == 1


async def test_lost_session_is_renewed_with_check_jwt_and_one_more_try() -> None:
    token = make_token()
    gateway = TokenGateway(token)
    auth = TokenAuth(token, clock=clock())
    async with serve(gateway.app) as transport:
        await transport.request("GET", "/d", speed=FAST, auth=auth)
        gateway.sessions.clear()  # the gateway rebooted
        result = await transport.request("GET", "/d", speed=FAST, auth=auth)
        assert result.status == 200
        assert (gateway.checks, gateway.data_calls) == (2, 3)


async def test_refused_token_is_replaced_through_the_provider() -> None:
    old, new = make_token(iat=NOW - 1), make_token(iat=NOW)
    gateway = TokenGateway(old)
    provider = Provider(new)
    auth = TokenAuth(old, token_provider=provider, clock=clock())
    async with serve(gateway.app) as transport:
        await transport.request("GET", "/d", speed=FAST, auth=auth)
        gateway.valid_tokens = {new}  # the old token was revoked
        gateway.sessions.clear()
        result = await transport.request("GET", "/d", speed=FAST, auth=auth)
        assert result.status == 200
        assert provider.calls == 1
        assert auth.token == new


async def test_provider_alone_supplies_the_first_token() -> None:
    token = make_token()
    gateway = TokenGateway(token)
    provider = Provider(token)
    auth = TokenAuth(token_provider=provider, clock=clock())
    async with serve(gateway.app) as transport:
        assert (await transport.request("GET", "/d", speed=FAST, auth=auth)).status == 200
    assert provider.calls == 1


async def test_refused_again_after_renewals_raises_bad_credentials_without_the_token() -> None:
    old, bad = make_token(iat=NOW - 1), make_token(iat=NOW - 2)
    gateway = TokenGateway()  # accepts nothing
    auth = TokenAuth(old, token_provider=Provider(bad), clock=clock())
    async with serve(gateway.app) as transport:
        with pytest.raises(EnvoyBadCredentialsError, match="enphase token") as info:
            await transport.request("GET", "/d", speed=FAST, auth=auth)
    message = str(info.value)
    assert old not in message and bad not in message
    assert gateway.checks == 2 and gateway.data_calls == 0


async def test_expired_token_without_provider_raises_token_expired() -> None:
    token = make_token(exp=NOW - DAY, iat=NOW - 366 * DAY)
    gateway = TokenGateway()
    auth = TokenAuth(token, clock=clock())
    async with serve(gateway.app) as transport:
        with pytest.raises(EnvoyTokenExpiredError, match=r"expired on .* paste a new token"):
            await transport.request("GET", "/d", speed=FAST, auth=auth)


async def test_installer_only_endpoint_is_handed_back_not_renewed_forever() -> None:
    token = make_token()
    gateway = TokenGateway(token, installer_only=("/ivp/peb/devstatus",))
    provider = Provider()
    auth = TokenAuth(token, token_provider=provider, clock=clock())
    async with serve(gateway.app) as transport:
        await transport.request("GET", "/d", speed=FAST, auth=auth)
        result = await transport.request("GET", "/ivp/peb/devstatus", speed=FAST, auth=auth)
        assert result.status == 401
        # one session renewal (the token was fine), no token renewal, no loop
        assert (gateway.checks, gateway.data_calls, provider.calls) == (2, 3, 0)


@pytest.mark.parametrize(
    ("role", "days_left", "renewed"),
    [
        ("owner", 20, True),
        ("owner", 40, False),
        ("installer", 0.5 / 24, True),
        ("installer", 2 / 24, False),
    ],
)
async def test_renews_ahead_of_expiry(role: str, days_left: float, renewed: bool) -> None:
    lifetime = 365 * DAY if role == "owner" else 12 * 3600
    old = make_token(role, exp=NOW + days_left * DAY, iat=NOW + days_left * DAY - lifetime)
    new = make_token(role, exp=NOW + lifetime, iat=NOW)
    gateway = TokenGateway(old, new)
    provider = Provider(new)
    auth = TokenAuth(old, token_provider=provider, clock=clock())
    async with serve(gateway.app) as transport:
        assert (await transport.request("GET", "/d", speed=FAST, auth=auth)).status == 200
        assert (await transport.request("GET", "/d", speed=FAST, auth=auth)).status == 200
    assert provider.calls == int(renewed)
    assert auth.token == (new if renewed else old)
    assert gateway.checks == 1


async def test_failed_renewal_ahead_keeps_the_current_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = make_token(exp=NOW + 10 * DAY, iat=NOW - 355 * DAY)

    async def unreachable_cloud() -> str:
        raise EnvoyConnectionError("cloud down")

    gateway = TokenGateway(old)
    auth = TokenAuth(old, token_provider=unreachable_cloud, clock=clock())
    async with serve(gateway.app) as transport:
        assert (await transport.request("GET", "/d", speed=FAST, auth=auth)).status == 200
    assert "could not renew" in caplog.text
    assert auth.token == old


def test_malformed_token_is_refused_at_once_and_repr_hides_the_token() -> None:
    with pytest.raises(EnvoyBadCredentialsError, match="not a valid gateway token"):
        TokenAuth("not-a-jwt")
    with pytest.raises(ValueError):
        TokenAuth()
    token = make_token()
    assert token not in repr(TokenAuth(token))


async def test_no_token_cookie_or_password_reaches_the_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="enphase_local")
    old, new = make_token(iat=NOW - 1), make_token(iat=NOW)
    gateway = TokenGateway(old)
    auth = TokenAuth(old, token_provider=Provider(new), clock=clock())
    digest_gateway = DigestGateway({"envoy": "123456"})
    digest = DigestAuth.for_owner(SERIAL)
    async with serve(gateway.app) as transport:
        await transport.request("GET", "/d", speed=FAST, auth=auth)
        gateway.valid_tokens = {new}
        gateway.sessions.clear()
        await transport.request("GET", "/d", speed=FAST, auth=auth)
        sessions = set(gateway.sessions)
    async with serve(digest_gateway.app) as transport:
        await transport.request("GET", "/d", speed=FAST, auth=digest)
    assert "GET /d -> 200" in caplog.text  # the logs were captured at all
    for secret in (old, new, "123456", *sessions):
        assert secret not in caplog.text

"""Credentials only go where they are safe: never in clear on token firmware, never to a
certificate other than the trusted one.

Each test puts a recording front (`servers.HostileGateway`) between the
client and a simulated gateway, the way a man in the middle would, and
checks what the front received: no ``Authorization`` or ``Cookie`` header
wherever one is forbidden.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from enphase_local import Envoy, RetryPolicy, Timeouts, TokenStore
from enphase_local.errors import (
    EnvoyAuthError,
    EnvoyCertificateChangedError,
    EnvoyInsecureConnectionError,
)
from enphase_local.net.trust import format_fingerprint
from enphase_local.simulator import SimulatedGateway
from enphase_local.simulator.clock import SimClock
from tests.hostile.servers import HostileGateway, hostile_front
from tests.net.certs import make_identity
from tests.simkit import gateway

QUICK = {"timeouts": Timeouts(fast_s=2.0, slow_s=2.0), "retry": RetryPolicy(attempts=1)}


def token_envoy(
    front: HostileGateway, gw: SimulatedGateway, clock: SimClock, **kw: object
) -> Envoy:
    return Envoy(front.host, token=gw.owner_token(), clock=clock, **QUICK, **kw)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def front_on(port: int, upstream: str, **kwargs: object) -> AsyncIterator[HostileGateway]:
    """A front on a given port: the same gateway address with another certificate."""
    front = HostileGateway(upstream, **kwargs)  # type: ignore[arg-type]
    await front.start(port)
    try:
        yield front
    finally:
        await front.stop()


# -- no credential over plain HTTP on token firmware -----------------------------------------


async def test_https_blocked_on_token_firmware_sends_no_token() -> None:
    """Port answers only plain HTTP (HTTPS blocked or stripped): /info only, then refusal."""
    async with (
        gateway("metered-3phase") as (gw, clock),
        hostile_front(gw.http_url, tls=False) as front,
    ):
        envoy = token_envoy(front, gw, clock)
        with pytest.raises(EnvoyInsecureConnectionError, match="over plain HTTP") as info:
            await envoy.connect()
        await envoy.close()
        assert isinstance(info.value, EnvoyAuthError)
        assert "port 443" in str(info.value)
        assert front.credentials_seen() == []
        assert {seen.path for seen in front.seen} == {"/info"}


async def test_digest_firmware_still_works_over_http() -> None:
    """Before 7 the gateway has no HTTPS: digest over HTTP is all there is, and stays."""
    async with gateway("legacy-5x") as (gw, clock), hostile_front(gw.http_url, tls=False) as front:
        async with Envoy(front.host, clock=clock, **QUICK) as envoy:  # type: ignore[arg-type]
            snapshot = await envoy.update()
        assert snapshot.production is not None
        sent = [s.headers.get("Authorization", "") for s in front.credentials_seen()]
        assert sent and all(value.startswith("Digest ") for value in sent)


# -- trust on first use ---------------------------------------------------------------------


async def test_first_use_records_the_certificate_with_the_serial(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    async with gateway("metered-3phase") as (gw, clock), hostile_front(gw.http_url) as front:
        async with token_envoy(front, gw, clock, token_store=store) as envoy:
            await envoy.update()
        expected = format_fingerprint(front.identity.fingerprint)
        assert store.certificate(gw.serial) == expected
        assert (tmp_path / "tokens.json").stat().st_mode & 0o777 == 0o600
        # a new Envoy with the same store and the same certificate connects as before
        async with token_envoy(front, gw, clock, token_store=store) as envoy:
            assert (await envoy.update()).production is not None


async def test_changed_certificate_withholds_the_token(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    async with gateway("metered-3phase") as (gw, clock):
        async with hostile_front(gw.http_url) as genuine:
            async with token_envoy(genuine, gw, clock, token_store=store) as envoy:
                await envoy.update()
            port, old = genuine.port, genuine.identity.fingerprint
        async with front_on(port, gw.http_url) as impostor:
            envoy = token_envoy(impostor, gw, clock, token_store=store)
            with pytest.raises(EnvoyCertificateChangedError) as info:
                await envoy.connect()
            with pytest.raises(EnvoyCertificateChangedError):
                await envoy.connect()  # trying again on the same Envoy changes nothing
            await envoy.close()
            assert impostor.credentials_seen() == []
            assert {seen.path for seen in impostor.seen} == {"/info"}
        err = info.value
        assert isinstance(err, EnvoyAuthError)
        assert err.old == format_fingerprint(old)
        assert err.new == format_fingerprint(impostor.identity.fingerprint)
        message = str(err)
        assert err.old in message and err.new in message
        assert f"enphase trust 127.0.0.1:{port}" in message and "firmware update" in message
        assert store.certificate(gw.serial) == err.old  # the trusted one is kept


async def test_certificate_changing_while_connected_stops_the_token(tmp_path: Path) -> None:
    """In memory too (no store): a new certificate mid-life gets no credential."""
    async with gateway("metered-3phase") as (gw, clock):
        front = HostileGateway(gw.http_url)
        await front.start()
        envoy = token_envoy(front, gw, clock)
        try:
            await envoy.connect()
            await envoy.update()
            port = front.port
            await front.stop()
            async with front_on(port, gw.http_url) as impostor:
                clock.advance(600)  # everything is due again
                with pytest.raises(EnvoyCertificateChangedError):
                    await envoy.update()
                assert impostor.credentials_seen() == []
        finally:
            await envoy.close()


async def test_explicit_pin(tmp_path: Path) -> None:
    async with gateway("metered-3phase") as (gw, clock), hostile_front(gw.http_url) as front:
        right = front.identity.fingerprint.hex()
        async with token_envoy(front, gw, clock, pin=right) as envoy:
            assert (await envoy.update()).production is not None
        wrong = make_identity().fingerprint.hex(":")
        envoy = token_envoy(front, gw, clock, pin=wrong)
        before = len(front.seen)
        with pytest.raises(EnvoyCertificateChangedError):
            await envoy.connect()
        await envoy.close()
        assert front.seen[before:] == []  # refused at the handshake: not even /info
    with pytest.raises(ValueError, match="SHA-256"):
        Envoy("127.0.0.1", pin="abc")


async def test_verify_against_authorities_refuses_a_self_signed_certificate() -> None:
    async with gateway("metered-3phase") as (gw, clock), hostile_front(gw.http_url) as front:
        envoy = token_envoy(front, gw, clock, verify=True)
        with pytest.raises(EnvoyInsecureConnectionError, match="failed verification"):
            await envoy.connect()  # no fallback to HTTP either
        await envoy.close()
        assert front.seen == []
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # a caller's own context is used as given
        async with token_envoy(front, gw, clock, verify=context) as envoy:
            assert (await envoy.update()).production is not None


async def test_a_callers_session_keeps_working_and_is_checked_too(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    async with (
        gateway("metered-3phase") as (gw, clock),
        aiohttp.ClientSession() as session,  # Home Assistant-style: verifying by default
    ):
        async with hostile_front(gw.http_url) as genuine:
            async with token_envoy(genuine, gw, clock, session=session, token_store=store) as e:
                assert (await e.update()).production is not None
            port = genuine.port
        assert store.certificate(gw.serial) is not None
        async with front_on(port, gw.http_url) as impostor:
            envoy = token_envoy(impostor, gw, clock, session=session, token_store=store)
            with pytest.raises(EnvoyCertificateChangedError):
                await envoy.connect()
            assert impostor.credentials_seen() == []
        assert not session.closed


async def test_a_first_connect_loads_no_certificate_authority_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trust on first use checks a fingerprint, never an authority: building a default
    context (the system CA store, 29 ms of CPU) per gateway was most of a first connect's
    cost (issue 31). Every context a TOFU connect uses is built before it starts."""
    built: list[object] = []
    real = ssl.create_default_context

    def counting(*args: object, **kwargs: object) -> ssl.SSLContext:
        built.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    store = TokenStore(tmp_path / "tokens.json")
    async with gateway("metered-3phase") as (gw, clock), hostile_front(gw.http_url) as front:
        monkeypatch.setattr(ssl, "create_default_context", counting)
        async with token_envoy(front, gw, clock, token_store=store) as envoy:
            await envoy.update()
        monkeypatch.undo()
        assert store.certificate(gw.serial) is not None  # the handshake did happen
    assert built == []

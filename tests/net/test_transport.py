"""Transport against real aiohttp.web servers on loopback: addressing, scheme detection,
retries with an injected sleep, the in-flight limit, sessions, errors and stats."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from enphase_local.errors import EnvoyConnectionError, EnvoyHTTPError, EnvoyTimeoutError
from enphase_local.net.address import parse_host
from enphase_local.net.backoff import RetryPolicy, backoff_delay
from enphase_local.net.exchange import Timeouts
from enphase_local.net.transport import Transport
from enphase_local.sources.registry import Speed
from tests.net.certs import make_identity

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FAST = Speed.FAST


@contextlib.asynccontextmanager
async def serve(
    routes: dict[str, Handler], ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[str]:
    """Serve `routes` (path -> handler, any method) on 127.0.0.1, yield ``host:port``."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_route("*", path, handler)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    try:
        yield f"127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


class Sleeps:
    """An injected sleep that records delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def expected_delays(seed: int, count: int) -> list[float]:
    policy, rng = RetryPolicy(), random.Random(seed)
    return [backoff_delay(i, base=policy.base_s, cap=policy.cap_s, rng=rng) for i in range(count)]


def make_transport(host: str, sleeps: Sleeps | None = None, **kwargs: object) -> Transport:
    return Transport(
        host,
        scheme=kwargs.pop("scheme", "http"),  # type: ignore[arg-type]
        sleep=sleeps or Sleeps(),
        rng=random.Random(42),
        **kwargs,  # type: ignore[arg-type]
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


# -- addressing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("envoy.local", ("envoy.local", None, None)),
        ("127.0.0.1:8443", ("127.0.0.1", 8443, None)),
        ("[::1]:8443", ("::1", 8443, None)),
        ("[fe80::1]", ("fe80::1", None, None)),
        ("fe80::1", ("fe80::1", None, None)),
        ("https://192.168.1.9:444/", ("192.168.1.9", 444, "https")),
        ("http://envoy.local", ("envoy.local", None, "http")),
    ],
)
def test_parse_host(text: str, expected: tuple[str, int | None, str | None]) -> None:
    assert parse_host(text) == expected


@pytest.mark.parametrize("text", ["", "envoy:notaport", "envoy:70000", "[::1", "ftp://x"])
def test_parse_host_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError):
        parse_host(text)


def test_construction_needs_no_event_loop_and_builds_urls() -> None:
    transport = Transport("[::1]:8443", scheme="https")
    assert transport.netloc == "[::1]:8443"
    assert str(transport.url("/inventory.json?deleted=1")) == (
        "https://[::1]:8443/inventory.json?deleted=1"
    )
    assert Transport("http://envoy.local").scheme == "http"
    assert Transport("envoy.local").scheme is None
    with pytest.raises(ValueError):
        Transport("envoy.local", scheme="ftp")


# -- scheme detection -------------------------------------------------------------


async def test_detects_https_with_a_self_signed_certificate(tmp_path: Path) -> None:
    async with serve({"/info": ok}, make_identity().context) as host:
        transport = Transport(host)
        try:
            assert await transport.detect_scheme() == "https"
            result = await transport.request("GET", "/info", speed=FAST, auth=None)
            assert (result.status, result.body) == (200, b"ok")
            assert transport.stats.paths["/info"].requests == 2
        finally:
            await transport.close()


async def test_falls_back_to_http_and_remembers_it() -> None:
    async with serve({"/info": ok, "/data": ok}) as host, Transport(host) as transport:
        # request() detects on its own when the scheme is unknown
        result = await transport.request("GET", "/data", speed=FAST, auth=None)
        assert result.status == 200
        assert transport.scheme == "http"
        assert await transport.detect_scheme() == "http"
        # https tried once and failed, http once: no further /info after that
        info = transport.stats.paths["/info"]
        assert (info.requests, info.failures) == (2, 1)


async def test_detection_fails_with_a_connection_error_when_nothing_answers() -> None:
    async with Transport(f"127.0.0.1:{free_port()}") as transport:
        with pytest.raises(EnvoyConnectionError, match="neither HTTPS nor HTTP"):
            await transport.detect_scheme()
        assert transport.scheme is None


# -- retries ----------------------------------------------------------------------


def failing_then_ok(failures: int, status: int = 503) -> tuple[Handler, list[int]]:
    calls = [0]

    async def handler(request: web.Request) -> web.Response:
        calls[0] += 1
        if calls[0] <= failures:
            return web.Response(status=status, text="busy")
        return web.Response(text="fine")

    return handler, calls


async def test_5xx_is_retried_with_backoff_delays_from_the_injected_sleep() -> None:
    handler, calls = failing_then_ok(2)
    sleeps = Sleeps()
    async with serve({"/p": handler}) as host, make_transport(host, sleeps) as transport:
        result = await transport.request("GET", "/p", speed=FAST, auth=None)
        assert (result.status, result.body) == (200, b"fine")
        assert calls[0] == 3
        assert sleeps.delays == expected_delays(42, 2)
        stats = transport.stats.paths["/p"]
        assert (stats.requests, stats.retries, stats.failures, stats.last_status) == (3, 2, 2, 200)


async def test_5xx_after_all_attempts_is_returned_not_raised() -> None:
    handler, calls = failing_then_ok(99, status=500)
    sleeps = Sleeps()
    async with serve({"/p": handler}) as host, make_transport(host, sleeps) as transport:
        result = await transport.request("GET", "/p", speed=FAST, auth=None)
        assert result.status == 500
        assert calls[0] == 3
        assert len(sleeps.delays) == 2
        with pytest.raises(EnvoyHTTPError) as info:
            result.raise_for_status()
        assert (info.value.status, info.value.path) == (500, "/p")


async def test_4xx_is_never_retried() -> None:
    handler, calls = failing_then_ok(99, status=404)
    sleeps = Sleeps()
    async with serve({"/p": handler}) as host, make_transport(host, sleeps) as transport:
        result = await transport.request("GET", "/p", speed=FAST, auth=None)
        assert (result.status, calls[0], sleeps.delays) == (404, 1, [])


async def test_writes_are_never_retried() -> None:
    handler, calls = failing_then_ok(99, status=503)
    sleeps = Sleeps()
    async with serve({"/w": handler}) as host, make_transport(host, sleeps) as transport:
        result = await transport.request(
            "POST", "/w", speed=FAST, auth=None, json={"a": 1}, retry=False
        )
        assert (result.status, calls[0], sleeps.delays) == (503, 1, [])


def dropping(failures: int) -> tuple[Handler, list[int]]:
    calls = [0]

    async def handler(request: web.Request) -> web.Response:
        calls[0] += 1
        if calls[0] <= failures:
            assert request.transport is not None
            request.transport.close()  # the gateway resets the connection
        return web.Response(text="fine")

    return handler, calls


async def test_dropped_connections_are_retried() -> None:
    dropping_now = [True]
    calls = [0]

    async def handler(request: web.Request) -> web.Response:
        calls[0] += 1
        if dropping_now[0]:
            assert request.transport is not None
            request.transport.close()
        return web.Response(text="fine")

    class StopDroppingAfterTwo(Sleeps):
        async def __call__(self, delay: float) -> None:
            await super().__call__(delay)
            dropping_now[0] = len(self.delays) < 2

    sleeps = StopDroppingAfterTwo()
    async with serve({"/p": handler}) as host, make_transport(host, sleeps) as transport:
        result = await transport.request("GET", "/p", speed=FAST, auth=None)
        assert result.body == b"fine"
        assert sleeps.delays == expected_delays(42, 2)
        stats = transport.stats.paths["/p"]
        assert (stats.requests, stats.retries, stats.failures) == (3, 2, 2)
        # aiohttp itself re-sends an idempotent request once after a disconnect
        assert calls[0] >= 3


async def test_dropped_write_raises_at_once_with_the_cause_kept() -> None:
    handler, calls = dropping(99)
    sleeps = Sleeps()
    async with serve({"/w": handler}) as host, make_transport(host, sleeps) as transport:
        with pytest.raises(EnvoyConnectionError, match="check the address") as info:
            await transport.request("POST", "/w", speed=FAST, auth=None, json={}, retry=False)
        assert isinstance(info.value.__cause__, aiohttp.ClientError)
        assert not isinstance(info.value, EnvoyTimeoutError)
        assert (calls[0], sleeps.delays) == (1, [])


async def test_timeouts_are_retried_then_raised_as_timeout_errors() -> None:
    calls = [0]
    never = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        calls[0] += 1
        await never.wait()
        return web.Response(text="late")

    sleeps = Sleeps()
    timeouts = Timeouts(fast_s=0.05, slow_s=5.0)
    async with (
        serve({"/p": slow}) as host,
        make_transport(host, sleeps, timeouts=timeouts) as transport,
    ):
        with pytest.raises(EnvoyTimeoutError, match=r"within 0\.05 s") as info:
            await transport.request("GET", "/p", speed=FAST, auth=None)
        assert isinstance(info.value.__cause__, TimeoutError)
        assert calls[0] == 3
        assert sleeps.delays == expected_delays(42, 2)
        assert transport.stats.paths["/p"].failures == 3
        never.set()


async def test_slow_speed_uses_the_slow_timeout() -> None:
    """A SLOW request outlives a FAST one's timeout: the other request's timeout is the event
    that releases the answer, so no sleep of ours decides and a busy machine changes nothing."""
    release = asyncio.Event()

    async def held(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="done")

    async def hang(request: web.Request) -> web.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    timeouts = Timeouts(fast_s=0.05, slow_s=60.0)
    async with (
        serve({"/p": held, "/hang": hang}) as host,
        make_transport(host, timeouts=timeouts) as t,
        make_transport(host, timeouts=timeouts, retry=RetryPolicy(attempts=1)) as other,
    ):
        slow = asyncio.create_task(t.request("GET", "/p", speed=Speed.SLOW, auth=None))
        with pytest.raises(EnvoyTimeoutError, match=r"within 0\.05 s"):
            await other.request("GET", "/hang", speed=FAST, auth=None)
        assert not slow.done()  # a fast timeout has passed since: this one waits on
        release.set()
        result = await slow
        assert result.body == b"done"
        assert result.elapsed_s > timeouts.fast_s


# -- concurrency ------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 3])
async def test_never_more_than_max_in_flight_requests_at_the_server(limit: int) -> None:
    current, peak = [0], [0]

    async def handler(request: web.Request) -> web.Response:
        current[0] += 1
        peak[0] = max(peak[0], current[0])
        await asyncio.sleep(0.02)
        current[0] -= 1
        return web.Response(text="x")

    async with serve({"/p": handler}) as host, make_transport(host, max_in_flight=limit) as t:
        results = await asyncio.gather(
            *(t.request("GET", "/p", speed=FAST, auth=None) for _ in range(8))
        )
    assert all(r.status == 200 for r in results)
    assert peak[0] == limit  # the limit holds, and the measurement can see overlap


# -- sessions -----------------------------------------------------------------------


async def test_caller_session_is_used_and_never_closed() -> None:
    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Connection"))
        return web.Response(text="x")

    async with serve({"/p": handler}) as host, aiohttp.ClientSession() as session:
        transport = make_transport(host, session=session, keepalive=False)
        await transport.request("GET", "/p", speed=FAST, auth=None)
        await transport.close()
        assert not session.closed
        assert seen == ["close"]  # keep-alive off on a caller's session: Connection: close
        with pytest.raises(EnvoyConnectionError, match="closed"):
            await transport.request("GET", "/p", speed=FAST, auth=None)
        assert transport.stats.paths["/p"].requests == 1


@pytest.mark.parametrize(("keepalive", "connections"), [(True, 1), (False, 3)])
async def test_owned_session_keepalive_and_close(keepalive: bool, connections: int) -> None:
    peers: set[object] = set()

    async def handler(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.add(request.transport.get_extra_info("peername"))
        return web.Response(text="x")

    async with serve({"/p": handler}) as host:
        transport = make_transport(host, keepalive=keepalive)
        for _ in range(3):
            await transport.request("GET", "/p", speed=FAST, auth=None)
        owned = transport._session
        assert owned is not None
        open_before = not owned.closed
        await transport.close()
        assert open_before and owned.closed
    assert len(peers) == connections


# -- bodies, stats, logs ----------------------------------------------------------------


async def test_json_body_stats_and_debug_log(caplog: pytest.LogCaptureFixture) -> None:
    received: list[tuple[str, str, bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        received.append((request.method, request.content_type, await request.read()))
        return web.json_response({"ok": True})

    caplog.set_level(logging.DEBUG, logger="enphase_local.transport")
    async with serve({"/w": handler, "/r": ok}) as host, make_transport(host) as transport:
        await transport.request("PUT", "/w", speed=FAST, auth=None, json={"x": 1}, retry=False)
        await transport.request("GET", "/r?details=1", speed=FAST, auth=None)
        await transport.request("GET", "/r?details=1", speed=FAST, auth=None)
        stats = transport.stats.to_dict()
    assert received == [("PUT", "application/json", b'{"x":1}')]
    assert (stats["requests"], stats["failures"], stats["retries"]) == (3, 0, 0)
    assert stats["paths"]["/r?details=1"]["requests"] == 2
    assert stats["paths"]["/w"]["last_status"] == 200
    assert stats["paths"]["/w"]["last_elapsed_s"] > 0
    assert "PUT /w -> 200 in" in caplog.text
    assert "GET /r?details=1 -> 200 in" in caplog.text


def test_transports_share_one_jitter_generator_unless_given_one() -> None:
    # a Mersenne Twister per gateway is 2.5 KB of a fleet's memory (bench/RESULTS.md (5b))
    first, second = Transport("192.0.2.1"), Transport("192.0.2.2")
    assert first._rng is second._rng
    own = random.Random(7)
    assert Transport("192.0.2.3", rng=own)._rng is own

"""Hostile servers on 127.0.0.1 for the security tests: a poisoning proxy and raw sockets.

`HostileGateway` stands between the client and a simulated gateway, the way
an attacker on the LAN (or a broken gateway) would: it serves HTTPS (or only
HTTP) with its own certificate, forwards every request to the simulator's
HTTP port, records what it received (so tests can prove no credential left
where it must not), and answers chosen paths with hostile bodies instead.

`RawServer` is a bare asyncio TCP server for what aiohttp.web cannot do:
accept and never answer, drop the connection once a request arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from tests.net.certs import TlsIdentity, make_identity

Poison = Callable[[web.Request], Awaitable[web.StreamResponse]]

_FORWARD_REQUEST = ("Authorization", "Cookie", "Content-Type")
_FORWARD_ANSWER = ("Content-Type", "WWW-Authenticate")


@dataclass
class Seen:
    """One request as the hostile server received it."""

    method: str
    path: str
    headers: dict[str, str]

    @property
    def has_credential(self) -> bool:
        return any(name.lower() in ("authorization", "cookie") for name in self.headers)


@dataclass
class HostileGateway:
    """A TLS (or plain) front of a simulated gateway that records and poisons requests."""

    upstream: str  # http://127.0.0.1:PORT of the simulator
    tls: bool = True
    identity: TlsIdentity = field(default_factory=make_identity)
    poison: dict[str, Poison] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    host: str = ""
    _runner: web.AppRunner | None = None
    _client: aiohttp.ClientSession | None = None

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, handle_signals=False)
        await self._runner.setup()
        context = self.identity.context if self.tls else None
        site = web.TCPSite(self._runner, "127.0.0.1", port, ssl_context=context)
        await site.start()
        self.host = f"127.0.0.1:{self._runner.addresses[0][1]}"
        self._client = aiohttp.ClientSession(
            cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
        )

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def port(self) -> int:
        return int(self.host.rsplit(":", 1)[1])

    def credentials_seen(self) -> list[Seen]:
        return [s for s in self.seen if s.has_credential]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(Seen(request.method, request.path_qs, dict(request.headers)))
        poison = self.poison.get(request.path)
        if poison is not None:
            return await poison(request)
        assert self._client is not None
        headers = {k: v for k, v in request.headers.items() if k in _FORWARD_REQUEST}
        async with self._client.request(
            request.method,
            self.upstream + request.path_qs,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as answer:
            body = await answer.read()
            response = web.Response(status=answer.status, body=body)
            for name in _FORWARD_ANSWER:
                if name in answer.headers:
                    response.headers[name] = answer.headers[name]
            for cookie in answer.headers.getall("Set-Cookie", []):
                response.headers.add("Set-Cookie", cookie)
            return response


@contextlib.asynccontextmanager
async def hostile_front(upstream: str, **kwargs: object) -> AsyncIterator[HostileGateway]:
    front = HostileGateway(upstream, **kwargs)  # type: ignore[arg-type]
    await front.start()
    try:
        yield front
    finally:
        await front.stop()


# -- raw sockets ----------------------------------------------------------------

Conversation = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_server(conversation: Conversation) -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1 running `conversation` per connection; yields host:port."""
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await conversation(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    """One HTTP/1.1 request: its head (text) and its body (by Content-Length)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return head, body


# -- measuring ------------------------------------------------------------------


@dataclass
class Measure:
    """Peak Python memory (tracemalloc) and time taken while a block ran."""

    peak_bytes: int = 0
    elapsed_s: float = 0.0


@contextlib.contextmanager
def traced(measure: Measure) -> Iterator[None]:
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    try:
        yield
    finally:
        measure.elapsed_s = time.perf_counter() - started
        measure.peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

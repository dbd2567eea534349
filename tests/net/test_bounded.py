"""Bounded reads against real aiohttp.web servers: caps, compression, lies about lengths."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web

from enphase_local.errors import EnvoyParseError
from enphase_local.net.address import carries_secret
from enphase_local.net.bounded import AnswerTooLarge
from enphase_local.net.transport import Transport
from enphase_local.sources.registry import Speed
from tests.net.test_transport import serve

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CAP = 1000


async def fetch(handler: Handler, cap: int = CAP) -> bytes:
    async with serve({"/x": handler}) as host, Transport(host, scheme="http") as transport:
        result = await transport.send("GET", "/x", speed=Speed.FAST, max_bytes=cap)
        return result.body


def answer(body: bytes, **headers: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, headers=headers)

    return handler


async def test_identity_is_asked_for_and_a_body_at_the_cap_is_read() -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Accept-Encoding", ""))
        return web.Response(body=b"x" * CAP)

    assert await fetch(handler) == b"x" * CAP
    assert seen == ["identity"]


async def test_one_byte_over_the_cap_is_refused() -> None:
    with pytest.raises(AnswerTooLarge, match="answer too large") as info:
        await fetch(answer(b"x" * (CAP + 1)))
    assert isinstance(info.value, EnvoyParseError) and info.value.cap == CAP


@pytest.mark.parametrize(
    ("encoding", "packed"),
    [
        ("gzip", gzip.compress(b"y" * CAP, mtime=0)),  # no timestamp: the same id every run
        ("deflate", zlib.compress(b"y" * CAP)),
    ],
    ids=["gzip", "deflate"],  # ids from bytes differ between xdist workers' collections
)
async def test_compressed_answers_are_inflated_within_the_cap(encoding: str, packed: bytes) -> None:
    assert await fetch(answer(packed, **{"Content-Encoding": encoding})) == b"y" * CAP
    with pytest.raises(AnswerTooLarge):
        await fetch(answer(packed, **{"Content-Encoding": encoding}), cap=CAP - 1)


@pytest.mark.parametrize(
    ("packed", "encoding", "problem"),
    [
        (b"not gzip at all", "gzip", "corrupt"),
        (gzip.compress(bytes(range(256)) * 20, mtime=0)[:-30], "gzip", "truncated"),
        (b"abc", "br", "content encoding 'br'"),
    ],
)
async def test_broken_compression_is_a_parse_error(
    packed: bytes, encoding: str, problem: str
) -> None:
    with pytest.raises(EnvoyParseError, match=problem):
        await fetch(answer(packed, **{"Content-Encoding": encoding}), cap=10_000)


def test_what_counts_as_a_secret() -> None:
    assert carries_secret({"Authorization": "Bearer eyJ"})
    assert carries_secret({"cookie": "sessionId=1"})
    assert not carries_secret({"Authorization": 'Digest username="envoy"'})
    assert not carries_secret({"Content-Type": "application/json"})

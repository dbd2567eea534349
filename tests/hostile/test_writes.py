"""A write reaches the gateway exactly once, even when the connection drops after it arrived.

aiohttp resends PUT and DELETE by itself after a dropped connection (they
are idempotent in HTTP's eyes). A raw socket server counts what it
receives and hangs up on every write without answering: the client must
report a connection error after one sending, never two.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from enphase_local import Envoy, RetryPolicy, Timeouts
from enphase_local.errors import EnvoyConnectionError, EnvoyTimeoutError
from enphase_local.net.transport import Transport
from enphase_local.net.writes import WriteConnectionLost
from enphase_local.sources.registry import Speed
from tests.hostile.servers import raw_server, read_request

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class DroppingGateway:
    """Answers GETs; reads each write completely, then closes without a word."""

    def __init__(self) -> None:
        self.writes: list[str] = []
        self.reads = 0

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head, _ = await read_request(reader)
            method = head.split(" ", 1)[0]
            if method == "GET":
                self.reads += 1
                writer.write(OK)
                await writer.drain()
                continue
            self.writes.append(head.split("\r\n", 1)[0])
            return  # the connection closes after the request was received


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
async def test_a_write_dropped_after_arrival_is_sent_once(method: str) -> None:
    dropping = DroppingGateway()
    async with raw_server(dropping) as host:
        async with Transport(host, scheme="http") as transport:
            # a keep-alive connection first: aiohttp retries on reused connections
            assert (await transport.send("GET", "/info", speed=Speed.FAST)).status == 200
            with pytest.raises(EnvoyConnectionError) as info:
                await transport.request(
                    method, "/admin/lib/tariff", speed=Speed.FAST, auth=None, json={}, retry=False
                )
        await asyncio.sleep(0.05)  # let any resend arrive before counting
    assert dropping.writes == [f"{method} /admin/lib/tariff HTTP/1.1"]
    assert isinstance(info.value.__cause__, WriteConnectionLost)
    assert not isinstance(info.value, EnvoyTimeoutError)


async def test_reads_are_still_resent_after_a_dropped_keepalive_connection() -> None:
    """Only writes lose aiohttp's resend: a GET on a stale connection still succeeds."""
    served = [0]

    async def stale_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served[0] += 1
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        if served[0] == 1:
            await read_request(reader)  # second request on the kept connection: hang up
            return
        await asyncio.sleep(1)

    async with raw_server(stale_once) as host:
        async with aiohttp.ClientSession() as session:
            transport = Transport(
                host, scheme="http", session=session, retry=RetryPolicy(attempts=1)
            )
            assert (await transport.send("GET", "/a", speed=Speed.FAST)).status == 200
            assert (await transport.send("GET", "/b", speed=Speed.FAST)).status == 200
    assert served[0] == 2


async def test_envoy_writes_through_a_callers_session_are_sent_once() -> None:
    """The public path (`Envoy.request`) on a Home Assistant-style session."""
    dropping = DroppingGateway()
    async with raw_server(dropping) as host, aiohttp.ClientSession() as session:
        envoy = Envoy(host, scheme="http", session=session, timeouts=Timeouts(fast_s=1, slow_s=1))
        assert (await envoy.request("GET", "/info")).status == 200  # a kept connection first
        with pytest.raises(EnvoyConnectionError):
            await envoy.request("PUT", "/admin/lib/acb_config.json", json={"sleep": 1})
        await asyncio.sleep(0.05)
    assert len(dropping.writes) == 1

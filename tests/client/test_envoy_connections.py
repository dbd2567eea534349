"""Connection policy, seen from the kernel: one connection per gateway, kept between updates.

A new TLS connection per update doubled the client CPU of an update
(bench/RESULTS.md (3)), so connections live `KEEP_IDLE_S` (under the
gateway's 75 s) and updates a minute apart reuse them; updates further apart
hold none. Counted in /proc/net/tcp (Linux), not from our code.
"""

from __future__ import annotations

import gc
import sys
from asyncio import sslproto
from pathlib import Path

import pytest

from enphase_local import gateway_session
from enphase_local.net.connector import KEEP_IDLE_S, TLS_READ_BUFFER
from tests.simkit import envoy_for, gateway

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="counts sockets in /proc/net/tcp"
)
ESTABLISHED = "01"


def open_to(port: int) -> set[int]:
    """Local ports of the established TCP connections from this host to `port`."""
    local: set[int] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].split(":")[1], 16)
        if remote_port == port and fields[3] == ESTABLISHED:
            local.add(int(fields[1].split(":")[1], 16))
    return local


def port_of(host: str) -> int:
    return int(host.rsplit(":", 1)[1])


async def test_updates_a_minute_apart_reuse_one_connection() -> None:
    async with gateway("battery-backup") as (gw, clock), envoy_for(gw, clock) as envoy:
        port = port_of(gw.https_host)
        await envoy.update()
        first = open_to(port)
        assert len(first) == 1
        for _ in range(3):
            clock.advance(60)
            await envoy.update()
            assert open_to(port) == first  # the same connection, not a new one


async def test_updates_further_apart_than_the_gateway_keeps_hold_none() -> None:
    async with gateway("battery-backup") as (gw, clock), envoy_for(gw, clock) as envoy:
        port = port_of(gw.https_host)
        await envoy.update()
        for _ in range(2):
            clock.advance(KEEP_IDLE_S + 60)
            await envoy.update()
            assert open_to(port) == set()  # it would never be reused


async def test_a_fleet_session_keeps_one_connection_per_gateway() -> None:
    async with (
        gateway("battery-backup") as (gw1, clock),
        gateway("metered-3phase", seed=2) as (gw2, _),
        gateway_session() as session,
    ):
        envoys = [envoy_for(gw, clock, session=session) for gw in (gw1, gw2)]
        ports = [port_of(gw.https_host) for gw in (gw1, gw2)]
        for envoy in envoys:
            await envoy.update()
        first = [open_to(port) for port in ports]
        assert [len(local) for local in first] == [1, 1]
        clock.advance(60)
        for envoy in envoys:
            await envoy.update()
        assert [open_to(port) for port in ports] == first
        for envoy in envoys:
            await envoy.close()


async def test_tls_connections_use_a_small_read_buffer() -> None:
    async with gateway("battery-backup") as (gw, clock), envoy_for(gw, clock) as envoy:
        await envoy.update()
        live = [o for o in gc.get_objects() if isinstance(o, sslproto.SSLProtocol)]
        # the simulator's server side (same process) has asyncio's own 256 KiB ones
        assert [o.max_size for o in live].count(TLS_READ_BUFFER) == 1  # the kept connection

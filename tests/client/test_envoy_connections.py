"""Connection policy, seen from the kernel: updates a minute apart hold no idle connection.

aiohttp keeps an idle connection 15 s, so at a 60 s interval it is never
reused yet holds its TLS state and a 256 KiB read buffer; a `watch` a few
seconds apart keeps it. Counted in /proc/net/tcp (Linux), not from our code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.simkit import envoy_for, gateway

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="counts sockets in /proc/net/tcp"
)
ESTABLISHED = "01"


def open_to(port: int) -> int:
    """Established TCP connections from a client socket to `port` on this host."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].split(":")[1], 16)
        if remote_port == port and fields[3] == ESTABLISHED:
            count += 1
    return count


async def test_updates_a_minute_apart_close_their_connection() -> None:
    async with gateway("battery-backup") as (gw, clock), envoy_for(gw, clock) as envoy:
        port = int(gw.https_host.rsplit(":", 1)[1])
        await envoy.update()
        assert open_to(port) == 0  # the next update is a minute away
        for _ in range(3):
            clock.advance(60)
            await envoy.update()
            assert open_to(port) == 0


async def test_updates_seconds_apart_keep_their_connection() -> None:
    async with gateway("battery-backup") as (gw, clock), envoy_for(gw, clock) as envoy:
        port = int(gw.https_host.rsplit(":", 1)[1])
        await envoy.update()
        clock.advance(5)
        await envoy.update()
        clock.advance(5)
        await envoy.update()
        assert open_to(port) == 1  # one connection, kept and reused

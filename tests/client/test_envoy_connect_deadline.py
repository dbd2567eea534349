"""Connecting and probing end within the update budget, as updates do.

A gateway that answers `/info` and then hangs used to keep `connect()` busy
for minutes: the probe asked a dozen sources, each at its own timeout, with
retries. Now the connect fails in time with one clear error, and the next
`update()` connects again. Over loopback sockets; the hang is the
simulator's per-path latency.
"""

from __future__ import annotations

import asyncio

import pytest

from enphase_local.errors import EnvoyTimeoutError
from enphase_local.simulator import LatencyProfile, SimClock, SimulatedGateway, SiteBackend
from tests.simkit import NOON, envoy_for

# every /ivp/ endpoint answers after a minute; /info, auth and production.json at once
IVP_HANGS = LatencyProfile("ivp-hangs", ((r"^/ivp/", 60.0, 60.0),))


async def test_a_gateway_that_hangs_after_info_fails_the_connect_within_the_budget() -> None:
    clock = SimClock(start=NOON, speed=0)
    backend = SiteBackend.from_preset("battery-backup", clock=clock, seed=1)
    async with SimulatedGateway(backend, clock=clock, latency=IVP_HANGS) as gw:
        envoy = envoy_for(gw, clock, update_budget_s=1.0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(EnvoyTimeoutError) as caught:
            await asyncio.wait_for(envoy.update(), timeout=30)
        assert loop.time() - started < 5.0  # 1 s budget; the probe alone would take minutes
        assert "update_budget_s" in str(caught.value) and gw.host in str(caught.value)
        assert gw.log.max_in_flight == 1
        gw.faults.apply_spec("latency=none")  # the gateway is back
        try:
            snapshot = await asyncio.wait_for(envoy.update(), timeout=30)
        finally:
            await envoy.close()
    assert snapshot.production is not None and snapshot.battery is not None


async def test_connect_itself_is_bounded() -> None:
    clock = SimClock(start=NOON, speed=0)
    backend = SiteBackend.from_preset("battery-backup", clock=clock, seed=1)
    async with SimulatedGateway(backend, clock=clock, latency=IVP_HANGS) as gw:
        envoy = envoy_for(gw, clock, update_budget_s=1.0)
        try:
            with pytest.raises(EnvoyTimeoutError, match="connecting to"):
                await asyncio.wait_for(envoy.connect(), timeout=30)
        finally:
            await envoy.close()

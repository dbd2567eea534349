"""The collector's connection policy: one shared session, few gateways connecting at once.

Token (firmware 7+) and digest (legacy) gateways in one collector share one
`gateway_session`; its authenticators attach their own credentials, so the
session keeps no cookies. The session is made in the running loop and closed
when the collector stops, without "Unclosed client session" warnings.
"""

from __future__ import annotations

import asyncio
import gc
import json
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from enphase_local.client import Envoy
from enphase_local.firmware import Firmware
from enphase_local.models.snapshot import Snapshot
from enphase_local.net.probe_cache import ProbeCache
from enphase_local.service.collector import Collector, Target
from enphase_local.service.config import GatewayEntry
from enphase_local.service.history_sink import HistorySink
from enphase_local.service.runner import envoy_factory, held_probe_caches
from enphase_local.simulator import SimClock, SimulatedFleet, SiteBackend
from enphase_local.simulator.fleet import FleetGateway
from tests.service.helpers import MIDNIGHT, no_sleep

PRESETS = ("standard", "battery-backup", "legacy-3x", "legacy-5x")


@asynccontextmanager
async def fleet(presets: tuple[str, ...]) -> AsyncIterator[tuple[SimulatedFleet, SimClock]]:
    clock = SimClock(start=MIDNIGHT + 12 * 3600, speed=0)
    backends = [SiteBackend.from_preset(p, clock=clock, seed=i) for i, p in enumerate(presets)]
    async with SimulatedFleet(backends, clock=clock, cloud=False) as sims:
        yield sims, clock


class Counted:
    """How many of the collector's gateways are connecting / updating now, and the most."""

    def __init__(self) -> None:
        self.now = {"connect": 0, "update": 0}
        self.most = {"connect": 0, "update": 0}
        self.sessions: list[aiohttp.ClientSession] = []

    def enter(self, what: str) -> None:
        self.now[what] += 1
        self.most[what] = max(self.most[what], self.now[what])

    def leave(self, what: str) -> None:
        self.now[what] -= 1


def target(gw: FleetGateway, clock: SimClock, counted: Counted) -> Target:
    class CountedEnvoy(Envoy):
        async def connect(self, *, probe: bool = True) -> None:
            counted.enter("connect")
            try:
                await super().connect(probe=probe)
            finally:
                counted.leave("connect")

        async def update(self, **kwargs: Any) -> Snapshot:
            counted.enter("update")
            try:
                return await super().update(**kwargs)
            finally:
                counted.leave("update")

    def make(session: aiohttp.ClientSession) -> Envoy:
        counted.sessions.append(session)
        common: dict[str, Any] = {"session": session, "clock": clock, "sleep": no_sleep}
        if Firmware.parse(gw.firmware).uses_tokens:
            return CountedEnvoy(gw.https_host, token=gw.owner_token(), **common)
        return CountedEnvoy(gw.http_host, **common)  # digest, password derived from the serial

    return Target(gw.serial, make, live=False)


async def test_token_and_digest_gateways_share_one_session_closed_at_stop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gc.collect()  # sessions earlier tests dropped are reported now, not in this test's log
    caplog.clear()
    counted = Counted()
    async with fleet(PRESETS) as (sims, clock):
        targets = [target(gw, clock, counted) for gw in sims]
        sink = HistorySink(tmp_path / "h.db", clock=clock, flush_every_s=3600)
        rounds = 0

        async def sleep(seconds: float) -> None:  # the timers: one yield, then the next round
            nonlocal rounds
            await asyncio.sleep(0.001)
            if all(s.state == "connected" and s.snapshot for s in collector.states.values()):
                rounds += 1
                clock.advance(60)
                if rounds > 3 * len(PRESETS):
                    collector.stop()

        collector = Collector(targets, [sink], clock=clock, sleep=sleep)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            await asyncio.wait_for(collector.run(), 60)
            session = counted.sessions[0]
            gc.collect()
    assert len(counted.sessions) == len(PRESETS)
    assert all(s is session for s in counted.sessions)  # one session for every gateway
    assert session.closed  # closed when the collector stopped
    assert "Unclosed" not in caplog.text
    assert all(gw.log.count() > 0 for gw in sims)


@pytest.mark.parametrize("connects_before_stop", range(len(PRESETS)))
async def test_a_stop_while_gateways_connect_closes_the_one_session(
    connects_before_stop: int, caplog: pytest.LogCaptureFixture
) -> None:
    """`stop()` racing a connect: the cancelled connects leave no session open behind them."""
    gc.collect()
    caplog.clear()
    counted = Counted()
    async with fleet(PRESETS) as (sims, clock):

        def stopping(gw: FleetGateway) -> Target:
            made = target(gw, clock, counted).make

            def make(session: aiohttp.ClientSession) -> Envoy:
                if len(counted.sessions) >= connects_before_stop:
                    collector.stop()  # the connect about to start races the stop
                return made(session)

            return Target(gw.serial, make, live=False)

        async def sleep(seconds: float) -> None:
            await asyncio.sleep(0)

        collector = Collector([stopping(gw) for gw in sims], [], clock=clock, sleep=sleep)
        await asyncio.wait_for(collector.run(), 60)
        after_stop = collector._session
        gc.collect()
    assert counted.sessions and all(s.closed for s in counted.sessions)
    assert after_stop is None  # nothing made a new session after close_envoys()
    assert "Unclosed" not in caplog.text


async def test_auth_kinds_in_one_collector(tmp_path: Path) -> None:
    counted = Counted()
    async with fleet(PRESETS) as (sims, clock):
        collector = Collector([target(gw, clock, counted) for gw in sims], [], clock=clock)
        try:
            for _ in range(3):
                await collector.poll_once()
                clock.advance(60)
            kinds = {name: s.envoy.auth_kind for name, s in collector.states.items() if s.envoy}
            assert all(s.state == "connected" for s in collector.states.values())
        finally:
            await collector.close_envoys()
    by_firmware = {gw.serial: Firmware.parse(gw.firmware).uses_tokens for gw in sims}
    assert {kinds[serial] for serial, token in by_firmware.items() if token} == {"token"}
    assert {kinds[serial] for serial, token in by_firmware.items() if not token} == {"digest"}


async def test_few_gateways_connect_at_once_updates_bounded_apart() -> None:
    presets = ("standard", "legacy-3x") * 6
    counted = Counted()
    async with fleet(presets) as (sims, clock):
        collector = Collector(
            [target(gw, clock, counted) for gw in sims],
            [],
            clock=clock,
            max_connecting=3,
            max_updating=5,
        )
        try:
            await collector.poll_once()
            clock.advance(60)
            await collector.poll_once()
            assert all(s.state == "connected" for s in collector.states.values())
        finally:
            await collector.close_envoys()
    assert counted.most["connect"] == 3  # reached, never passed
    assert counted.most["update"] == 5


async def test_a_restarted_collector_connects_without_probing_again(tmp_path: Path) -> None:
    """The probe cache beside the token store, held: read once, written twice, not per gateway."""
    store = str(tmp_path / "tokens.json")
    async with fleet(("standard", "battery-backup", "legacy-3x")) as (sims, clock):
        entries = [
            GatewayEntry(gw.serial, gw.https_host, token=gw.owner_token(), token_store=store)
            if Firmware.parse(gw.firmware).uses_tokens
            else GatewayEntry(gw.serial, gw.http_host, token_store=store)  # digest, derived
            for gw in sims
        ]

        async def run_once() -> tuple[int, ProbeCache]:
            for gw in sims:
                gw.log.reset()
            probes = held_probe_caches(entries)
            (cache,) = {id(c): c for c in probes.values()}.values()  # one folder, one cache
            targets = [Target(e.name, envoy_factory(e, clock, probes[e.name])) for e in entries]
            collector = Collector(targets, [], clock=clock, sleep=no_sleep, closers=[cache.flush])
            try:
                await collector.poll_once()
                assert all(s.state == "connected" for s in collector.states.values())
            finally:
                await collector.close_envoys()
            return sum(gw.log.count() for gw in sims), cache

        cold, first = await run_once()
        saved = json.loads((tmp_path / "probes.json").read_text())["gateways"]
        tokens = {gw.serial for gw in sims if Firmware.parse(gw.firmware).uses_tokens}
        assert tokens <= set(saved)  # (3.9's unreadable HTML page is a failure: not kept)
        assert first.writes <= 2  # the first keep, then the rest at stop: not one per gateway
        warm, _ = await run_once()
    assert warm < cold, (warm, cold)

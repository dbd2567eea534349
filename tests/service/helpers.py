"""Shared pieces of the service tests: a collector on simulated gateways, an injected clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from enphase_local.service.collector import Collector, Target
from enphase_local.service.history_sink import HistorySink
from enphase_local.service.sinks import Sink
from enphase_local.service.web import WebSink
from enphase_local.simulator import SimClock, SimulatedGateway
from tests.simkit import envoy_for, gateway

# 2026-06-14 00:00 UTC: tests start at a UTC midnight so days are whole
MIDNIGHT = dt.datetime(2026, 6, 14, tzinfo=dt.UTC).timestamp()


async def no_sleep(seconds: float) -> None:
    """The clients' retry pauses, skipped: the clock is injected and frozen."""


def target_for(gw: SimulatedGateway, clock: SimClock) -> Target:
    return Target(gw.serial, lambda s: envoy_for(gw, clock, sleep=no_sleep, session=s))


@asynccontextmanager
async def collecting(
    path: Path,
    preset: str = "battery-backup",
    *,
    start: float = MIDNIGHT,
    extra_sinks: Sequence[Sink] = (),
    **sink_kwargs: float,
) -> AsyncIterator[tuple[Collector, HistorySink, SimulatedGateway, SimClock]]:
    """A collector (sinks started) reading one simulated gateway on a frozen clock."""
    async with gateway(preset, start=start) as (gw, clock):
        sink = HistorySink(path, clock=clock, flush_every_s=3600, **sink_kwargs)
        collector = Collector([target_for(gw, clock)], [sink, *extra_sinks], clock=clock)
        await collector.start_sinks()
        try:
            yield collector, sink, gw, clock
        finally:
            await collector.close_envoys()
            await collector.stop_sinks()


@asynccontextmanager
async def web_for(
    collector: Collector, clock: SimClock, history: HistorySink
) -> AsyncIterator[WebSink]:
    """The collector's web sink on a free loopback port, for the length of the block."""
    web = WebSink(lambda: collector.states, port=0, clock=clock, history=history)
    await web.start(collector)
    try:
        yield web
    finally:
        await web.stop()


async def run_for(collector: Collector, clock: SimClock, seconds: float, step: float) -> None:
    """Poll every `step` simulated seconds for `seconds`."""
    end = clock.now() + seconds
    while clock.now() + step <= end + 1e-6:
        clock.advance(step)
        await collector.poll_once()

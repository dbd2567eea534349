"""`Envoy.live()` against the simulator over sockets: enable and renew, staleness, backoff,
source fallback, cancellation, and sharing the one-request budget with `update()`.

Polled sources run on the simulator's clock, advanced by the injected sleep,
so a quarter of an hour of 1 Hz polling takes a fraction of a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest

from enphase_local.errors import EnvoyFeatureUnavailable
from enphase_local.models.live_frame import LiveFrame
from enphase_local.simulator import PRESETS, SimClock, SimulatedGateway, SiteBackend
from tests.simkit import NOON, envoy_for, gateway
from tests.support import REAL, needs_real

ENABLE = "/ivp/livedata/stream"
STATUS = "/ivp/livedata/status"


def advancing(clock: SimClock) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    return sleep


class Tick:
    """An Envoy-side clock apart from the gateway's: time passes for us, not for it."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("renew_every", "posts"),
    [
        (300.0, [0, 300, 600, 900]),  # renewed before the gateway's 15 minutes run out
        (1e9, [0, 900]),  # never renewed: the gateway turns it off at 900 s, seen, re-enabled
    ],
)
async def test_enables_livedata_then_renews_while_listening(
    renew_every: float, posts: list[int]
) -> None:
    clock = SimClock(start=NOON, speed=0)
    config = replace(PRESETS["battery-backup"], livedata_timeout_s=900)
    async with SimulatedGateway(SiteBackend(config, clock, seed=1), clock=clock) as gw:
        async with envoy_for(gw, clock, sleep=advancing(clock)) as envoy:
            await envoy.update()
            gw.log.reset()
            frames: list[LiveFrame] = []
            options = {"interval": 5.0, "renew_every": renew_every, "share_budget": False}
            async with contextlib.aclosing(envoy.live(**options)) as live:
                async for frame in live:
                    frames.append(frame)
                    if clock.now() - NOON >= 16 * 60:
                        break
    assert [round(e.sim_time - NOON) for e in gw.log.entries if e.path == ENABLE] == posts
    assert set(gw.log.statuses(ENABLE)) == {200}
    assert len(frames) == 16 * 60 // 5 + 1
    # the re-read right after enabling is fresh at once: never a stale frame
    assert not any(f.stale for f in frames)
    assert {f.source for f in frames} == {"livedata"}


async def test_a_frozen_gateway_marks_frames_stale_then_recovers() -> None:
    async with gateway("battery-backup") as (gw, clock):
        tick = Tick(NOON)
        async with envoy_for(gw, clock, sleep=tick.sleep) as envoy:
            envoy._clock = tick  # the Envoy's time passes; the gateway's does not
            await envoy.update()
            seen: list[tuple[float, bool, float]] = []
            async with contextlib.aclosing(envoy.live(stale_after=5.0)) as live:
                async for frame in live:
                    seen.append((tick.now - NOON, frame.stale, frame.taken_at - NOON))
                    if tick.now - NOON == 8:
                        clock.advance(1)  # the gateway refreshes again
                    if tick.now - NOON >= 10:
                        break
    stale_at = [t for t, stale, _ in seen if stale]
    assert stale_at == [6, 7, 8]  # more than 5 s without anything fresh
    assert seen[-1][1] is False and seen[-2] == (9, False, 9)
    assert all(taken == 0 for t, _, taken in seen if t <= 8)  # the data is as old as it is


async def test_failures_back_off_exponentially_and_recover() -> None:
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, sleep=advancing(clock)) as envoy:
            await envoy.update()
            frames: list[tuple[float, bool]] = []
            async with contextlib.aclosing(envoy.live(jitter=False, stale_after=3.0)) as live:
                async for frame in live:
                    frames.append((clock.now() - NOON, frame.stale))
                    if len(frames) == 2:
                        gw.log.reset()
                        gw.core.faults.fail_next(4, status=503, path=STATUS)
                    if clock.now() - NOON >= 25:
                        break
    asked = [round(e.sim_time - NOON) for e in gw.log.entries if e.path == STATUS]
    assert gw.log.statuses(STATUS)[:5] == [503] * 4 + [200]
    assert asked[:6] == [2, 3, 5, 9, 17, 18]  # waits of 1, 2, 4, 8 s, then every second
    assert any(stale for _, stale in frames)  # repeats while failing turn stale
    assert frames[-1][1] is False


async def test_installer_only_stream_on_7x_falls_back_to_livedata() -> None:
    clock = SimClock(start=NOON, speed=0)
    config = replace(PRESETS["battery-backup"], firmware="D7.6.175")
    backend = SiteBackend(config, clock, seed=1)
    async with SimulatedGateway(backend, clock=clock) as gw:
        async with envoy_for(gw, clock, sleep=advancing(clock)) as envoy:
            await envoy.update()
            options = {"sources": ("stream_meter", "livedata")}
            async with contextlib.aclosing(envoy.live(**options)) as live:
                frame = await anext(live)
    assert gw.log.statuses("/stream/meter") == [401]
    assert frame.source == "livedata" and not frame.stale


async def test_ct_readings_when_nothing_better_and_update_does_not_ask_them_again() -> None:
    async with gateway("metered-split") as (gw, clock):  # 7.6: no livedata, stream installer-only
        async with envoy_for(gw, clock, sleep=advancing(clock)) as envoy:
            await envoy.update()
            gw.log.reset()
            polls = 0
            async with contextlib.aclosing(envoy.live()) as live:
                async for frame in live:
                    assert frame.source == "meters_readings" and not frame.stale
                    polls += 1
                    snap = await envoy.update()  # between frames, like a 60 s update would
                    assert (
                        snap.power_flow is not None and snap.power_flow.source == "meters_readings"
                    )
                    if polls == 5:
                        break
    # none asked by update(); the first frame may use the reading the probe just made
    assert polls - 1 <= gw.log.count("/ivp/meters/readings") <= polls
    assert gw.log.statuses("/stream/meter") == [401]


async def test_no_live_source_is_a_clear_error() -> None:
    async with gateway("standard") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            with pytest.raises(EnvoyFeatureUnavailable, match="no live source"):
                await anext(envoy.live())


async def test_never_two_requests_in_flight_with_update_running_alongside() -> None:
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, sleep=advancing(clock)) as envoy:
            await envoy.update()
            gw.log.reset()

            async def updates() -> None:
                for _ in range(8):
                    clock.advance(60)
                    await envoy.update()

            async def listen() -> int:
                count = 0
                async with contextlib.aclosing(envoy.live()) as live:
                    async for _frame in live:
                        count += 1
                        if count == 40:
                            return count
                return count

            frames, _ = await asyncio.gather(listen(), updates())
    assert frames == 40
    assert gw.log.max_in_flight == 1
    # each request update() made cost the live reader one tick (the shared budget)
    by_update = gw.log.count() - gw.log.count(STATUS) - gw.log.count(ENABLE)
    assert by_update > 0
    skipped = 40 + 1 - gw.log.count(STATUS)  # +1: the re-read right after enabling
    assert 0 < skipped <= min(by_update, 20)  # never two ticks in a row


# -- /stream/meter: real time, short intervals -------------------------------------------


async def _stream_frames(
    gw: SimulatedGateway,
    clock: SimClock,
    count: int,
    on_frame: Callable[[int], None] = lambda n: None,
    **options: object,
) -> tuple[list[LiveFrame], int]:
    """`count` frames of `/stream/meter` on real time; and how often the stream was opened.

    `on_frame(n)` runs after the n-th frame arrived: faults start on an event, not a timer.
    """
    frames: list[LiveFrame] = []
    async with envoy_for(gw, clock) as envoy:
        envoy._clock = time.time
        await envoy.update()
        opts = {"sources": ("stream_meter",), "interval": 0.05, "jitter": False, **options}
        async with contextlib.aclosing(envoy.live(**opts)) as live:
            async for frame in live:
                frames.append(frame)
                on_frame(len(frames))
                if len(frames) == count:
                    break
        opened = envoy.stats.for_path("/stream/meter").requests
    return frames, opened


async def test_stream_frames_match_the_site_and_a_stall_turns_them_stale() -> None:
    async with gateway("metered-3phase") as (gw, clock):  # 8.2: owners may stream
        gw.core.stream_interval_s = 0.02
        truth = gw.backend.state()

        def stall_after_five(n: int) -> None:
            if n == 5:
                gw.core.faults.stream.stall(40)  # 0.8 s without a frame, then a burst

        frames, opened = await _stream_frames(
            gw, clock, 40, stall_after_five, stale_after=0.3, stall_reconnect=5.0
        )
    first = frames[0]
    assert first.source == "stream_meter"
    assert abs((first.solar_watts or 0) - truth["pv_w"]) < 1
    assert abs((first.house_watts or 0) - truth["load_w"]) < 2
    assert set(first.phases) == {"L1", "L2", "L3"}
    flags = [f.stale for f in frames]
    assert flags[0] is False and True in flags  # stale during the stall
    recovered = flags.index(True) + flags[flags.index(True) :].index(False)
    assert frames[recovered].taken_at > frames[recovered - 1].taken_at  # fresh after it
    assert opened == 1  # a stall shorter than stall_reconnect


async def test_a_long_stall_reconnects() -> None:
    async with gateway("metered-3phase") as (gw, clock):
        gw.core.stream_interval_s = 0.02
        gw.core.faults.stream.stall(1000)  # 20 s of nothing on the first connection
        frames, opened = await _stream_frames(gw, clock, 25, stall_reconnect=0.5)
    assert opened == 2
    assert not frames[-1].stale


async def test_bursts_collapse_into_one_frame_per_interval() -> None:
    async with gateway("metered-3phase") as (gw, clock):
        gw.core.stream_interval_s = 0.005
        gw.core.faults.stream.bursty = True
        frames, _ = await _stream_frames(gw, clock, 30, interval=0.05, stale_after=10.0)
        sent = sum(gw.core.faults.stream.sent)
    fresh = len({f.taken_at for f in frames})
    assert max(gw.core.faults.stream.sent) > 1  # the gateway did burst
    assert fresh < sent  # a burst became one frame


async def test_a_stream_cut_mid_frame_reconnects_and_loses_only_that_frame() -> None:
    async with gateway("metered-3phase") as (gw, clock):
        gw.core.stream_interval_s = 0.02
        gw.core.faults.stream.drop_next(2)
        frames, opened = await _stream_frames(gw, clock, 10)
    assert opened == 3  # two cut off, the third stays
    assert all(f.source == "stream_meter" for f in frames)
    assert frames[-1].solar_watts is not None and not frames[-1].stale


async def test_a_dropped_connection_reconnects_with_backoff() -> None:
    async with gateway("metered-3phase") as (gw, clock):
        gw.core.stream_interval_s = 0.05
        gw.core.faults.drop_next(2, path="/stream/meter")
        frames, opened = await _stream_frames(gw, clock, 3)
    assert gw.log.statuses("/stream/meter")[:2] == [None, None]  # dropped, no answer
    # aiohttp retries a dropped connection once by itself; then the reader reconnects
    assert opened == 2
    assert frames[-1].source == "stream_meter" and not frames[-1].stale


async def test_cancelling_leaves_no_task_and_closes_the_stream() -> None:
    async with gateway("metered-3phase") as (gw, clock):
        gw.core.stream_interval_s = 0.05
        got = asyncio.Event()

        async def consume() -> None:
            async with envoy_for(gw, clock) as envoy:
                opts = {"sources": ("stream_meter",), "interval": 0.05}
                async for _frame in envoy.live(**opts):
                    got.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(got.wait(), 5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        names = [t.get_name() for t in asyncio.all_tasks()]
        assert "enphase-stream-meter" not in names
        for _ in range(100):
            if gw.log.in_flight == 0:
                break
            await asyncio.sleep(0.02)
        assert gw.log.in_flight == 0  # the gateway saw the stream end


@needs_real
async def test_livedata_not_probed_is_tried_then_left_for_the_ct_readings() -> None:
    """livedata waits until after the first snapshot (engine/probe.deferred): live() right
    after it still tries it, and a 404 moves on to the CT readings."""
    async with gateway(folder=REAL / "8.2.4345_with_device_data") as (gw, clock):
        async with envoy_for(gw, clock, sleep=advancing(clock)) as envoy:
            await envoy.update()
            assert STATUS not in gw.log.counts
            options = {"sources": ("livedata", "meters_readings")}
            async with contextlib.aclosing(envoy.live(**options)) as live:
                frame = await anext(live)
    assert gw.log.statuses(STATUS) == [404]
    assert frame.source == "meters_readings"


async def test_a_livedata_stall_with_advancing_last_update_turns_frames_stale() -> None:
    """D8.3.6086: values repeat to the milliwatt while ``meters.last_update`` advances.

    The body keeps the real shape (only the flows freeze); before the fix the
    advancing ``last_update`` made every stalled frame count as fresh.
    """
    clock = SimClock(start=NOON, speed=0)
    config = replace(PRESETS["battery-backup"], livedata_timeout_s=900)
    backend = SiteBackend(config, clock, seed=1)
    async with SimulatedGateway(backend, clock=clock) as gw:
        async with envoy_for(gw, clock, sleep=advancing(clock)) as envoy:
            await envoy.update()
            seen: list[tuple[float, bool]] = []
            options = {"interval": 1.0, "stale_after": 5.0, "share_budget": False}
            async with contextlib.aclosing(envoy.live(**options)) as live:
                async for frame in live:
                    at = clock.now() - NOON
                    seen.append((at, frame.stale))
                    if len(seen) == 5:
                        backend.stall_livedata(20)  # 20 s of repeated values
                    if len(seen) >= 40:
                        break
    stall_start = seen[4][0]
    stale = [t - stall_start for t, flag in seen if flag]
    assert stale, seen
    assert min(stale) > 5 and max(stale) <= 21  # stale once 5 s pass, until the stall ends
    assert seen[-1][1] is False

"""A steady update does only what changed needs (issue 31 item 4), and stays correct.

Against the simulator over loopback: one timer for all of an update's reads
(no task or aiohttp timer per read), sections whose sources were not read
again handed on as the same objects, the update's deadline still bounding a
read that hangs, and the counters and freshness as before.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from enphase_local.net.deadline import Deadline
from enphase_local.net.exchange import Timeouts
from enphase_local.simulator import LatencyProfile
from tests.simkit import envoy_for, gateway


class Timers:
    """`loop.call_at` calls by kind while counting: the Deadline's, and all."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counting = False
        self.deadline = self.total = 0
        loop = asyncio.get_running_loop()
        real = loop.call_at

        def call_at(when: float, callback: Any, *args: Any, **kw: Any) -> asyncio.TimerHandle:
            if self.counting:
                self.total += 1
                self.deadline += isinstance(getattr(callback, "__self__", None), Deadline)
            return real(when, callback, *args, **kw)

        monkeypatch.setattr(loop, "call_at", call_at)


async def test_one_timer_for_all_the_reads_of_an_update(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each read used to arm two (`wait_for`'s and aiohttp's `ClientTimeout`) and start a task."""
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            await envoy.update()
            timers = Timers(monkeypatch)
            several = 0
            for _ in range(5):
                clock.advance(60)
                before = envoy.stats.requests
                timers.counting = True
                tasks_before = len(asyncio.all_tasks())
                await envoy.update()
                timers.counting = False
                reads = envoy.stats.requests - before
                assert reads >= 1  # the CT readings at least
                assert timers.deadline == 1, timers.deadline
                # no timer per read: at most aiohttp's own keep-alive sweep besides ours
                assert timers.total - timers.deadline <= 1, (timers.total, reads)
                # the battery units come every 5 minutes beside the storage CT (engine.rhythm)
                several += reads >= 2
                assert len(asyncio.all_tasks()) == tasks_before
                timers.deadline = timers.total = 0
            assert several >= 1  # an update of several reads among the five


async def test_an_unchanged_section_keeps_its_identity() -> None:
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            await envoy.update()
            clock.advance(60)
            first = await envoy.update()
            clock.advance(60)
            second = await envoy.update()
            read_now = {k for k, at in envoy._state.cache.read_at.items() if at == second.taken_at}
            # the inverters' data comes every 5 minutes, the CT readings every update
            assert "device_data" not in read_now and "meters_readings" in read_now
            assert second.inverters is first.inverters
            assert second.generator is first.generator
            assert second.meters is not first.meters  # read again: composed again
            for _ in range(6):  # past the next inverter report: read, composed anew
                clock.advance(60)
                later = await envoy.update()
            assert later.inverters is not first.inverters
            assert later.freshness["inverters"] == later.taken_at


async def test_the_update_deadline_bounds_a_read_whose_own_timeout_is_long() -> None:
    """One timer per update must still cut a hanging read at the update's budget."""
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(
            gw, clock, timeouts=Timeouts(fast_s=30.0, slow_s=60.0), update_budget_s=1.0
        ) as envoy:
            first = await envoy.update()
            clock.advance(60)
            gw.faults.latency = LatencyProfile("hang", (), default=(30.0, 30.0))
            started = time.perf_counter()
            snap = await envoy.update()
            took = time.perf_counter() - started
            gw.faults.latency = LatencyProfile("none", ())
            clock.advance(60)
            healed = await envoy.update()
    assert took <= 1.0 + 5.0, took  # the budget, not a read's 30 s (slack for a busy machine)
    assert snap.production is not None and snap.freshness["production"] == first.taken_at
    assert any("budget" in e for e in snap.errors.values()), snap.errors
    assert healed.freshness["production"] == healed.taken_at and not healed.errors

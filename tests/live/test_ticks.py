"""Polled live sources keep to a fixed grid of ticks: late wake-ups and a slow consumer
cost no frames (issue 31 item 5: 1,000 readers on one loop got 0.905 frames a second).

The simulator over sockets, on its own clock; the injected sleep advances that
clock by what was asked plus a lateness, as a busy event loop wakes every
sleeper a little late. Measured from the last poll, that lateness added up
tick after tick; on the grid it only delays its own poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Iterator

import pytest

from tests.simkit import envoy_for, gateway

STATUS = "/ivp/livedata/status"
READINGS = "/ivp/meters/readings"


async def _poll_times(
    preset: str, path: str, *, late: Iterator[float], consumer_s: float, span: float
) -> list[float]:
    """Simulated times the reader asked `path`, over `span` s of 1 Hz live reading.

    Each sleep wakes `next(late)` s after it was due; the consumer takes `consumer_s`.
    """
    async with gateway(preset) as (gw, clock):

        async def sleep(seconds: float) -> None:
            clock.advance(seconds + next(late))
            await asyncio.sleep(0)

        async with envoy_for(gw, clock, sleep=sleep) as envoy:
            await envoy.update()
            gw.log.reset()
            start = clock.now()
            options = {"interval": 1.0, "share_budget": False, "stale_after": 1e9}
            async with contextlib.aclosing(envoy.live(**options)) as live:
                async for _frame in live:
                    clock.advance(consumer_s)  # the consumer's own work takes time
                    if clock.now() - start >= span:
                        break
    return [e.sim_time - start for e in gw.log.entries if e.path == path]


@pytest.mark.parametrize(
    ("preset", "path"), [("battery-backup", STATUS), ("metered-split", READINGS)]
)
@pytest.mark.parametrize(("late", "consumer_s"), [(0.05, 0.0), (0.08, 0.6)])
async def test_late_wakeups_and_a_slow_consumer_lose_no_ticks(
    preset: str, path: str, late: float, consumer_s: float
) -> None:
    span = 300.0
    asked = await _poll_times(
        preset, path, late=itertools.repeat(late), consumer_s=consumer_s, span=span
    )
    # one poll a second: measured from the last poll it was one per (1 + late) s
    assert len(asked) >= span - 1, f"{len(asked)} polls in {span:.0f} s"
    gaps = [b - a for a, b in itertools.pairwise(asked)]
    assert max(gaps) <= 1.0 + late + 1e-6
    # every poll on the grid: the lateness of each one is its own, never summed
    assert max(t - round(t) for t in asked[1:]) <= late + 1e-6


async def test_a_reader_far_behind_starts_a_new_grid_instead_of_polling_back_to_back() -> None:
    """A wake-up 3 intervals late: the next poll waits a quarter interval, not zero."""
    late = itertools.chain([0.0, 3.0], itertools.repeat(0.0))
    asked = await _poll_times("battery-backup", STATUS, late=late, consumer_s=0.0, span=10)
    # 0.0 twice: read, enable (it was off), read again
    assert [round(t, 3) for t in asked[:6]] == [0.0, 0.0, 1.0, 5.0, 5.25, 6.0]

"""A gateway that dies while none of its sources is due is still unreachable in time.

Issue (deadgw): with a 2 s interval, a gateway that went dead right after an
update whose sources were then all between reads (the 15 s after the probe,
or backing off after failures) made no exchange at all, so `Silence` had no
news and the gateway stayed `connected`: in a real Home Assistant run, nothing
was logged for 30 s. The collector now asks `/info` when a gateway it thinks
answers has been unheard for the silence limit less an interval.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from enphase_local.engine.schedule import retry_delay
from enphase_local.service.collector import Collector
from enphase_local.service.health import Silence
from tests.service.helpers import MIDNIGHT, target_for
from tests.simkit import gateway

INTERVAL = 2.0
NOON = MIDNIGHT + 12 * 3600


async def test_dead_while_nothing_is_due_is_unreachable_within_three_intervals(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="enphase_local.service")
    async with gateway("battery-backup", start=NOON) as (gw, clock):
        collector = Collector(
            [target_for(gw, clock)], [], clock=clock, interval_s=INTERVAL, retry_after_s=INTERVAL
        )
        target, state = collector.targets[0], collector.states[gw.serial]

        async def poll() -> None:
            clock.advance(INTERVAL)
            await collector.poll_one(target)

        try:
            await poll()  # connects and probes: the probe's reads are not asked again for 15 s
            await poll()
            assert state.state == "connected"
            last_answer = state.silence.answered_at
            assert last_answer is not None
            gw.faults.set_rate("drop", 1.0)
            seen: list[tuple[float, str]] = []
            asks_when_down: int | None = None
            while clock.now() - last_answer < 10 * INTERVAL:
                await poll()
                seen.append((clock.now() - last_answer, state.state))
                if state.state == "unreachable" and asks_when_down is None:
                    asks_when_down = info_asks(collector, gw.serial)
            down = next((t for t, s in seen if s == "unreachable"), None)
            assert down is not None and down <= 3 * INTERVAL, seen
            assert all(s == "unreachable" for t, s in seen if t >= down), seen
            # no extra question to a gateway already silent: the engine's spaced retries suffice
            assert info_asks(collector, gw.serial) == asks_when_down

            gw.faults.reset()
            back_from = clock.now()
            while state.state != "connected" and clock.now() - back_from < 120:
                await poll()
            # back at the engine's first spaced retry (schedule.retry_delay), plus an interval
            assert clock.now() - back_from <= retry_delay(1, INTERVAL) + INTERVAL, state
        finally:
            await collector.close_envoys()
    assert caplog.text.count(" unreachable:") == 1, caplog.text
    assert caplog.text.count("unreachable ended after") == 1, caplog.text


async def test_a_healthy_gateway_with_nothing_due_is_asked_once_per_gap() -> None:
    """The question costs one /info per `ask_after_s` of quiet, and an answer is an answer."""
    async with gateway("battery-backup", start=NOON) as (gw, clock):
        collector = Collector([target_for(gw, clock)], [], clock=clock, interval_s=INTERVAL)
        target, state = collector.targets[0], collector.states[gw.serial]
        try:
            clock.advance(INTERVAL)
            await collector.poll_one(target)  # the probe: its reads are reused for 15 s
            before = info_asks(collector, gw.serial)
            for _ in range(6):  # 12 s in which no source is due
                clock.advance(INTERVAL)
                await collector.poll_one(target)
                assert state.state == "connected"
            asked = info_asks(collector, gw.serial) - before
            assert 1 <= asked <= 12 / collector.ask_after_s, asked
        finally:
            await collector.close_envoys()


def info_asks(collector: Collector, serial: str) -> int:
    """How often the gateway's client has asked /info (connect, cadence, or unheard)."""
    envoy = collector.states[serial].envoy
    assert envoy is not None
    return envoy.stats.for_path("/info").requests


def test_unheard_counts_only_while_the_gateway_is_thought_to_answer() -> None:
    class Stats:
        requests = 5
        failures = 0

    stats, source, silence = Stats(), object(), Silence()
    assert silence.unheard_for(50.0) == 0.0  # never looked: nothing to say
    silence.observe(source, stats, 100.0)
    silence.observe(source, stats, 104.0)  # nothing asked since
    assert silence.unheard_for(104.0) == 4.0
    stats.requests, stats.failures = 6, 1  # a failed exchange: silent, not unheard
    silence.observe(source, stats, 106.0)
    assert silence.unheard_for(110.0) == 0.0
    assert silence.silent_for(110.0) == 10.0
    stats.requests = 7
    silence.observe(source, stats, 112.0)  # answered again
    assert silence.unheard_for(115.0) == 3.0

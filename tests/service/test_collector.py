"""The collector's state changes: connected, stale, recovered, as events and log lines."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from pathlib import Path

import pytest

from tests.service.helpers import collecting, run_for


async def test_stale_then_recovered_are_events(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The gateway answers, but with garbage for production: stale, not unreachable."""
    caplog.set_level("INFO", logger="enphase_local.service")
    async with collecting(tmp_path / "h.db", "standard") as (collector, sink, gw, clock):
        await run_for(collector, clock, 300, 60)
        state = collector.states[gw.serial]
        assert state.state == "connected" and collector.serials() == (gw.serial,)
        assert collector.envoy(gw.serial) is state.envoy
        for path in ("/api/v1/production", "/production.json", "/production"):
            gw.faults.garbage_next(10**6, path=path)
        await run_for(collector, clock, 600, 60)
        assert state.state == "stale", state
        assert state.last_ok is not None and clock.now() - state.last_ok > 180
        gw.faults.reset()
        await run_for(collector, clock, 600, 60)
        assert state.state == "connected"
        await sink.flush()
    db = sqlite3.connect(tmp_path / "h.db")
    kinds = [
        k
        for (k,) in db.execute(
            "SELECT kind FROM events WHERE kind NOT IN ('warning', 'zone') ORDER BY at"
        )
    ]  # 'zone': the site's time zone, kept for the history's days (issue 23)
    assert kinds == ["connected", "stale", "recovered"]
    assert caplog.text.count(" stale:") == 1 and "stale ended after" in caplog.text
    # no power samples were invented while the data was old
    times = [t for (t,) in db.execute("SELECT at FROM power_samples WHERE phase = '' ORDER BY at")]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) > 300


@pytest.mark.parametrize("fault", ["status", "drop"])
async def test_a_dead_gateway_is_unreachable_within_three_intervals(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    """Every request 503 (or every connection dropped): the update still returns a
    snapshot of old data, yet the gateway is unreachable 3 intervals after its last
    answer, logged once, and recovered once it answers."""
    caplog.set_level("INFO", logger="enphase_local.service")
    async with collecting(tmp_path / "h.db", "metered-split") as (collector, _sink, gw, clock):
        await run_for(collector, clock, 120, 60)
        state = collector.states[gw.serial]
        assert state.state == "connected"
        last_answer = clock.now()
        gw.faults.set_rate(fault, 1.0, status=503)  # type: ignore[arg-type]
        seen: list[tuple[float, str]] = []
        for _ in range(8):
            clock.advance(30)
            await collector.poll_once()
            seen.append((clock.now() - last_answer, state.state))
        first = next(t for t, s in seen if s == "unreachable")
        assert first <= 3 * collector.interval_s, seen
        gw.faults.reset()
        await run_for(collector, clock, 60, 60)
        assert state.state == "connected"
    assert caplog.text.count(" unreachable:") == 1, caplog.text
    assert "check that the gateway is powered" in caplog.text
    assert caplog.text.count("unreachable ended after") == 1


async def test_a_refused_token_is_auth_failed_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A token the gateway stops accepting: one auth_failed line with what to do, not a
    connected/stale pair at every retry."""
    from enphase_local.client import Envoy
    from enphase_local.service.collector import Collector, Target
    from enphase_local.service.history_sink import HistorySink
    from tests.service.helpers import no_sleep
    from tests.simkit import gateway

    caplog.set_level("INFO", logger="enphase_local.service")
    async with gateway("metered-split") as (gw, clock):
        token = gw.owner_token()
        target = Target(
            "house",
            lambda s: Envoy(gw.https_host, token=token, session=s, clock=clock, sleep=no_sleep),
        )
        sink = HistorySink(tmp_path / "h.db", clock=clock, flush_every_s=3600)
        collector = Collector([target], [sink], clock=clock)
        await collector.start_sinks()
        try:
            await run_for(collector, clock, 120, 60)
            state = collector.states["house"]
            assert state.state == "connected"
            caplog.clear()
            gw.faults.expire_tokens()
            await run_for(collector, clock, 240, 30)
            assert state.state == "auth_failed", state
        finally:
            await collector.close_envoys()
            await collector.stop_sinks()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1, lines
    assert "auth_failed" in lines[0] and "enphase token" in lines[0]


async def test_unreachable_gateway_at_start(tmp_path: Path) -> None:
    async with collecting(tmp_path / "h.db", "standard") as (collector, _sink, gw, clock):
        gw.faults.set_rate("drop", 1.0)
        await collector.poll_once()
        state = next(iter(collector.states.values()))
        assert state.state == "unreachable" and state.last_error
        gw.faults.set_rate("drop", 0.0)
        await run_for(collector, clock, 60, 60)
        assert state.state == "connected"


async def test_envoy_live_is_used_when_the_client_has_it(tmp_path: Path) -> None:
    """With `Envoy.live()` the frames come from it; snapshots give none of their own."""
    from collections.abc import AsyncIterator

    from enphase_local.client import Envoy
    from enphase_local.models.live_frame import LiveFrame
    from enphase_local.service.collector import Collector, Target
    from enphase_local.service.history_sink import HistorySink
    from tests.simkit import envoy_for, gateway

    class LiveEnvoy(Envoy):
        async def live(self) -> AsyncIterator[LiveFrame]:
            for i in range(3):
                yield LiveFrame(taken_at=1000.0 + i, source="livedata", solar_watts=1234.5)

    async with gateway("standard") as (gw, clock):
        plain = envoy_for(gw, clock)
        target = Target(
            "live",
            lambda s: LiveEnvoy(plain.host, token=gw.owner_token(), session=s, clock=clock),
        )
        sink = HistorySink(tmp_path / "h.db", clock=clock, flush_every_s=3600)
        stopped = asyncio.Event()

        async def sleep(seconds: float) -> None:
            await asyncio.sleep(0.01)
            if collector.states["live"].frame is not None:
                collector.stop()
                stopped.set()

        collector = Collector([target], [sink], clock=clock, sleep=sleep)
        await collector.run()
    assert stopped.is_set()
    db = sqlite3.connect(tmp_path / "h.db")
    solar = [w for (w,) in db.execute("SELECT solar_w FROM power_samples WHERE phase = ''")]
    assert solar and set(solar) == {1234.5}

"""The gateway's daily troubles, injected by the simulator: the client recovers on its own."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from enphase_local.engine.rhythm import PRODUCTION_WITH_CT
from enphase_local.errors import EnvoyConnectionError
from enphase_local.net.exchange import Timeouts
from enphase_local.simulator import LatencyProfile
from tests.simkit import envoy_for, gateway


class Sleeps:
    """An injected sleep: records the backoff delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def test_5xx_burst_is_retried_with_backoff() -> None:
    sleeps = Sleeps()
    async with gateway("metered-split") as (gw, clock):
        async with envoy_for(gw, clock, sleep=sleeps) as envoy:
            clock.advance(60)
            gw.faults.fail_next(2, status=503, path="/ivp/meters/readings")
            snap = await envoy.update()
    assert snap.errors == {}
    assert len(sleeps.delays) == 2 and all(0 <= d <= 10 for d in sleeps.delays)


async def test_dropped_connection_is_retried() -> None:
    async with gateway("metered-split") as (gw, clock):
        async with envoy_for(gw, clock, sleep=Sleeps()) as envoy:
            clock.advance(60)
            gw.log.reset()
            gw.faults.drop_next(1, path="/ivp/meters/readings")
            snap = await envoy.update()
    assert snap.errors == {} and snap.production is not None
    readings = [(e.status, e.fault) for e in gw.log.entries if e.endpoint == "/ivp/meters/readings"]
    assert readings == [(None, "drop"), (200, None)]  # dropped, then asked again: the retry
    assert snap.freshness["meters"] == clock.now()  # and its answer is this update's


async def test_garbage_body_leaves_a_stale_section_and_an_error() -> None:
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, sleep=Sleeps()) as envoy:
            first = await envoy.update()
            # the units: every 5 minutes where a storage CT gives the bank's power (rhythm.py)
            clock.advance(300)
            gw.faults.garbage_next(1, path="/ivp/ensemble/power")
            snap = await envoy.update()
            assert "battery" in snap.errors
            assert snap.battery is not None  # last good data kept
            assert snap.freshness["battery"] == first.taken_at  # and marked as older
            clock.advance(300)
            healed = await envoy.update()
    assert "battery" not in healed.errors


async def test_html_error_page_on_production_does_not_sink_the_update() -> None:
    async with gateway("metered-split") as (gw, clock):
        async with envoy_for(gw, clock, sleep=Sleeps()) as envoy:
            await envoy.update()
            clock.advance(PRODUCTION_WITH_CT)  # production.json is due
            gw.faults.html_error_next(1, path="/production.json")
            snap = await envoy.update()
            clock.advance(PRODUCTION_WITH_CT)  # due again: production.json answers JSON again
            healed = await envoy.update()
    assert "HTML page" in snap.errors["production"]  # said, not hidden
    assert snap.production is not None  # from the CT readings, carried forward
    assert snap.production.watts > 0 and snap.phases  # the phases are kept too
    assert snap.phases.keys() == healed.phases.keys()
    assert "production" not in healed.errors
    assert healed.freshness["production"] == clock.now()  # production.json serving again
    assert [e.fault for e in gw.log.entries if e.endpoint == "/production.json"][-2:] == [
        "html",
        None,
    ]


async def test_slow_endpoint_times_out_but_others_arrive() -> None:
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(
            gw, clock, sleep=Sleeps(), timeouts=Timeouts(fast_s=0.3, slow_s=0.3)
        ) as envoy:
            await envoy.update()
            clock.advance(300)  # the units are due (every 5 minutes beside a storage CT)
            slow = (("ensemble/power", 1.0, 1.0),)
            gw.faults.latency = LatencyProfile("slow ensemble power", slow)
            snap = await envoy.update()
    assert "battery" in snap.errors and "time" in snap.errors["battery"].lower()
    assert snap.production is not None


async def test_nightly_outage_is_survived_gently() -> None:
    tz = ZoneInfo("America/Los_Angeles")
    night = datetime(2026, 6, 15, 23, 0, 30, tzinfo=tz).timestamp()
    sleeps = Sleeps()
    async with gateway("metered-split", start=night - 600) as (gw, clock):
        gw.faults.daily_outage(3, offset_s=60)
        async with envoy_for(gw, clock, sleep=sleeps) as envoy:
            first = await envoy.update()  # /home is read after the first snapshot
            assert envoy.home is None and any("time zone not known" in w for w in first.warnings)
            assert first.production is not None and first.production.wh_today is None
            clock.set(night - 540)
            await envoy.update()
            assert envoy.home is not None and envoy.home.timezone
            clock.set(night + 60)  # 23:01:30 local: unreachable
            snap = await envoy.update()
            assert snap.production is not None  # the last data, marked stale
            assert snap.errors and any("23:00" in w for w in snap.warnings)
            assert sleeps.delays == []  # no retry storm in the window
            clock.set(night + 600)  # 23:10: back
            healed = await envoy.update()
    assert healed.errors == {}


async def test_unreachable_without_any_data_is_fatal() -> None:
    async with gateway("metered-split") as (gw, clock):
        host = gw.https_host
    with pytest.raises(EnvoyConnectionError):
        from enphase_local.client import Envoy

        async with Envoy(host, token="x", clock=clock, sleep=Sleeps()):
            pass

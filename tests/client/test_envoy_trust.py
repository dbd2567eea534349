"""Issue 11 regressions: no lost source, no request creep, no stampede, a bounded update.

Each test meets a fault the way a user would, through the simulator over
real sockets with an injected clock, and fails on the code before issue 11.
"""

from __future__ import annotations

import asyncio
import time

from enphase_local import Snapshot
from enphase_local.client import Envoy
from enphase_local.engine.rhythm import PRODUCTION_WITH_CT
from enphase_local.net.exchange import Timeouts
from enphase_local.simulator import LatencyProfile, SimClock
from tests.simkit import envoy_for, gateway


class Sleeps:
    """An injected sleep: no real waiting between retries."""

    async def __call__(self, delay: float) -> None:
        return None


async def _update_until_source(
    envoy: Envoy, clock: SimClock, prefix: str, minutes: int
) -> Snapshot | None:
    """Update once a minute until production comes from a source named `prefix`..., or None."""
    for _ in range(minutes):
        clock.advance(60)
        snap = await envoy.update()
        if snap.production and snap.production.source.startswith(prefix):
            return snap
    return None


async def test_info_is_read_on_its_cadence_not_on_every_update_after_four_hours() -> None:
    """The /info read was never recorded: after 4 h it was asked on every update."""
    async with gateway("metered-split") as (gw, clock):
        async with envoy_for(gw, clock, sleep=Sleeps()) as envoy:
            for _ in range(9 * 60):  # nine hours of minutely updates
                clock.advance(60)
                await envoy.update()
            info_requests = envoy.stats.for_path("/info").requests
    # connect reads /info (scheme detection + identity), then once per 4 hours
    assert info_requests <= 5, info_requests


async def test_concurrent_first_updates_share_one_connect() -> None:
    """20 first updates at once probed 20 times (403 requests instead of 23)."""
    async with gateway("metered-split") as (gw, clock):
        single = envoy_for(gw, clock, sleep=Sleeps())
        try:
            await single.update()
            alone = single.stats.requests
        finally:
            await single.close()
        envoy = envoy_for(gw, clock, sleep=Sleeps())
        try:
            snaps = await asyncio.gather(*(envoy.update() for _ in range(20)))
            together = envoy.stats.requests
        finally:
            await envoy.close()
    assert all(s.production is not None for s in snaps)
    assert together <= alone + 2, (together, alone)


async def test_one_malformed_production_json_does_not_demote_production() -> None:
    """One parse error moved production to /production for ever (per-phase data lost)."""
    async with gateway("metered-split") as (gw, clock):
        async with envoy_for(gw, clock, sleep=Sleeps()) as envoy:
            first = await envoy.update()
            assert first.phases
            clock.advance(PRODUCTION_WITH_CT)  # production.json due
            gw.faults.garbage_next(1, path="/production.json")
            hit = await envoy.update()
            assert "production" in hit.errors  # said, not silent
            assert hit.phases  # still per phase (carried forward by the CTs)
            clock.advance(60)
            healed = await envoy.update()
    assert "production" not in healed.errors
    assert healed.production is not None and healed.production.source.startswith("production.json")
    assert healed.phases


async def test_repeated_failures_demote_then_the_better_source_is_promoted_back() -> None:
    async with gateway("metered-split") as (gw, clock):
        async with envoy_for(gw, clock, sleep=Sleeps()) as envoy:
            await envoy.update()
            gw.faults.html_error_next(3, path="/production.json")
            minutes = int(PRODUCTION_WITH_CT // 60) + 5  # due, then two retries
            demoted = await _update_until_source(envoy, clock, "production:", minutes)
            assert demoted is not None, "never demoted after three failures in a row"
            assert any("instead of production_json" in w for w in demoted.warnings)
            promoted = await _update_until_source(envoy, clock, "production.json", 30)
    assert promoted is not None, "the better source was never asked again"
    assert promoted.phases and not any("instead of" in w for w in promoted.warnings)


async def test_a_404_from_a_source_that_answered_before_does_not_retire_it() -> None:
    """One refusal removed a source from the plan for ever (meters readings, battery power)."""
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, sleep=Sleeps()) as envoy:
            await envoy.update()
            gw.faults.fail_next(1, status=404, path="/ivp/meters/readings")
            clock.advance(60)
            hit = await envoy.update()
            assert "meters" in hit.errors
            before = envoy.stats.for_path("/ivp/meters/readings").requests
            for _ in range(3):
                clock.advance(60)
                healed = await envoy.update()
            after = envoy.stats.for_path("/ivp/meters/readings").requests
    assert after > before
    assert "meters" not in healed.errors and healed.freshness["meters"] == healed.taken_at


async def test_sources_that_failed_at_probe_are_probed_again() -> None:
    async with gateway("battery-backup") as (gw, clock):
        gw.faults.garbage_next(1, path="/ivp/ensemble/inventory")
        async with envoy_for(gw, clock, sleep=Sleeps()) as envoy:
            first = await envoy.update()
            assert first.battery is None
            for _ in range(15):
                clock.advance(60)
                snap = await envoy.update()
    assert snap.battery is not None


async def test_an_update_against_a_hanging_gateway_is_bounded() -> None:
    """Every endpoint hanging took 314 s at default timeouts; now one bounded update."""
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(
            gw,
            clock,
            sleep=Sleeps(),
            timeouts=Timeouts(fast_s=0.7, slow_s=1.4),
            update_budget_s=1.0,
        ) as envoy:
            first = await envoy.update()
            clock.advance(700)  # most sources due
            gw.faults.latency = LatencyProfile("hang", (), default=(5.0, 5.0))
            started = time.perf_counter()
            snap = await envoy.update()
            took = time.perf_counter() - started
            gw.faults.latency = LatencyProfile("none", ())
    # the budget is a promise, not a target (issue 30: 15.03 s on a 15.0 s budget); the
    # reads alone (0.7 s, then the rest of the budget) would add up to more
    assert took <= 1.0, took
    assert snap.production is not None  # the last data, stale
    assert snap.freshness["production"] == first.taken_at
    assert any("not asked" in e or "in a row" in e for e in snap.errors.values()), snap.errors


def test_default_budget_is_a_few_slow_timeouts() -> None:
    envoy = Envoy("127.0.0.1", token="x", timeouts=Timeouts(fast_s=5, slow_s=20))
    assert 40 <= envoy.update_budget_s <= 60
    assert Envoy("127.0.0.1", token="x", update_budget_s=7).update_budget_s == 7


# -- data faults of real gateways, through the simulator's knobs ---------------------------


async def test_one_all_zero_answer_after_a_reboot_adds_no_phantom_energy() -> None:
    """Old code added the drop to an offset: one zero answer doubled the lifetime for ever."""
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, sleep=Sleeps()) as envoy:
            before = await envoy.update()
            truth0 = gw.backend.state()["lifetime_wh"]["prod"]
            clock.advance(PRODUCTION_WITH_CT)  # production.json due: it and the readings read 0
            gw.faults.zero_next(1)
            hit = await envoy.update()
            for _ in range(10):
                clock.advance(60)
                after = await envoy.update()
            truth1 = gw.backend.state()["lifetime_wh"]["prod"]
    assert before.production and hit.production and after.production
    assert before.production.wh_lifetime and after.production.wh_lifetime
    assert hit.production.wh_lifetime == before.production.wh_lifetime  # held, not zero
    assert any("set aside" in w for w in hit.warnings)
    gain = after.production.wh_lifetime - before.production.wh_lifetime
    assert abs(gain - (truth1 - truth0)) <= 1.0  # no phantom energy


async def test_eim_active_count_zero_never_drops_to_the_inverters_lifetime() -> None:
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, sleep=Sleeps()) as envoy:
            before = await envoy.update()
            clock.advance(PRODUCTION_WITH_CT)  # production.json due
            gw.faults.eim_inactive_next(1)
            hit = await envoy.update()
            clock.advance(60)
            healed = await envoy.update()
    assert before.production and hit.production and healed.production
    assert "inverters" not in hit.production.source  # still the CT
    assert hit.production.wh_lifetime is not None and before.production.wh_lifetime is not None
    assert hit.production.wh_lifetime >= before.production.wh_lifetime
    assert any("activeCount 0" in w for w in hit.warnings)
    assert not any("activeCount 0" in w for w in healed.warnings)


async def test_storage_ct_with_a_phase_all_zero_is_left_out_not_halved() -> None:
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, sleep=Sleeps()) as envoy:
            await envoy.update()
            clock.advance(60)
            gw.faults.storage_ct_half_next(1)
            hit = await envoy.update()
            clock.advance(60)
            healed = await envoy.update()
    storage = [k for k, m in hit.meters.items() if m.measurement_type.value == "storage"]
    assert storage and hit.meters[storage[0]].reading is None
    assert any("storage CT" in w for w in hit.warnings)
    assert healed.meters[storage[0]].reading is not None

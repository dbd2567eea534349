"""Envoy against every simulator preset over real sockets: values, economy, politeness."""

from __future__ import annotations

import pytest

from tests.simkit import envoy_for, gateway


async def _hour(preset: str) -> tuple[dict[str, int], int, int]:
    async with gateway(preset) as (gw, clock), envoy_for(gw, clock) as envoy:
        await envoy.update()
        gw.log.reset()
        updates = 60
        per_update_dupes = 0
        for _ in range(updates):
            clock.advance(60)
            before = len(gw.log.entries)
            await envoy.update()
            paths = [e.endpoint for e in gw.log.entries[before:]]
            per_update_dupes += len(paths) - len(set(paths))
        return gw.log.counts, per_update_dupes, gw.log.max_in_flight


async def test_battery_site_request_economy_over_an_hour() -> None:
    counts, dupes, in_flight = await _hour("battery-backup")
    assert dupes == 0, "nothing is fetched twice in one update"
    assert in_flight == 1, "never two requests in flight"
    assert counts["/ivp/meters/readings"] == 60  # the live heartbeat
    assert counts["/production.json"] <= 13  # counters re-anchored on the report rhythm
    assert counts.get("/ivp/pdm/device_data", 0) <= 13  # 5-minute inverter reports
    assert counts.get("/admin/lib/tariff", 0) <= 7  # configuration every 10 minutes
    assert counts.get("/auth/check_jwt", 0) == 0  # the session cookie is reused
    assert sum(counts.values()) <= 230  # pyenphase asks about 600 on such a site


async def test_non_metered_site_reads_on_the_report_rhythm() -> None:
    counts, dupes, _ = await _hour("standard")
    assert dupes == 0
    assert sum(counts.values()) <= 30  # production and inverters every report, not every minute


async def test_concurrent_updates_share_one() -> None:
    import asyncio

    async with gateway("metered-split") as (gw, clock), envoy_for(gw, clock) as envoy:
        await envoy.update()
        clock.advance(60)
        gw.log.reset()
        a, b = await asyncio.gather(envoy.update(), envoy.update())
        assert a is b
        assert gw.log.count("/ivp/meters/readings") == 1


async def test_counters_carried_forward_match_production_json() -> None:
    """Between production.json reads, CT deltas keep today's counter exact."""
    async with gateway("metered-split") as (gw, clock), envoy_for(gw, clock) as envoy:
        await envoy.update()
        for _ in range(4):  # production.json not re-read for these
            clock.advance(60)
            snap = await envoy.update()
        state = gw.backend.state()  # type: ignore[attr-defined]
    assert snap.production is not None and snap.production.source.endswith("meters/readings")
    assert snap.production.wh_lifetime == pytest.approx(state["lifetime_wh"]["prod"], abs=2)

"""Envoy against every simulator preset over real sockets: values, economy, politeness."""

from __future__ import annotations

import orjson
import pytest

from enphase_local.capabilities import Capability
from enphase_local.simulator import PRESETS
from tests.simkit import envoy_for, gateway


@pytest.mark.parametrize("preset", sorted(PRESETS))
async def test_every_preset_gives_a_complete_snapshot(preset: str) -> None:
    async with gateway(preset) as (gw, clock), envoy_for(gw, clock) as envoy:
        snap = await envoy.update()
        state = gw.backend.state()  # type: ignore[attr-defined]
    doc = orjson.loads(orjson.dumps(snap.to_dict()))
    assert doc["schema"] == 1 and doc["gateway"]["serial"] == gw.serial
    assert snap.production is not None and snap.production.watts >= 0
    assert snap.errors == {}
    assert gw.log.max_in_flight == 1
    if Capability.METERS in envoy.capabilities:
        # CT-backed flows are the model's flows at this instant; as on real sites the
        # production CT sees PV only (batteries sit behind the net CT)
        assert snap.production.watts == pytest.approx(state["pv_w"], abs=2)
        assert snap.net_consumption is not None
        assert snap.net_consumption.watts == pytest.approx(state["grid_w"], abs=2)
        # the firmware never fills net today / 7 days: None, not a fake number
        assert snap.net_consumption.wh_today is None
        assert snap.net_consumption.wh_last_7_days is None
        # consumption, derived from the CTs as the gateway does (production CT + net CT):
        # the house load plus what the batteries charge, minus what they discharge
        assert snap.consumption is not None
        assert snap.consumption.watts == pytest.approx(state["pv_w"] + state["grid_w"], abs=2)
        # the balanced house load (engine.balance) is the site's load
        assert snap.power_flow is not None
        assert snap.power_flow.house_watts == pytest.approx(state["load_w"], abs=4)
    if Capability.ENCHARGE in envoy.capabilities:
        assert snap.battery is not None
        assert snap.battery.soc_percent == pytest.approx(state["soc_percent"], abs=1)
    if envoy.info.imeter is False:
        assert snap.consumption is None


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

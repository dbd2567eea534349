"""Quirk repairs end to end, firmware changes under us, and keep-alive for old Envoy-R."""

from __future__ import annotations

import dataclasses

import pytest

from enphase_local.simulator import PRESETS, SimClock, SimulatedGateway, SiteBackend
from tests.simkit import NOON, envoy_for, gateway


def backend(preset: str, clock: SimClock, **changes: object) -> SiteBackend:
    config = PRESETS[preset]
    quirks = changes.pop("quirks", None)
    if quirks:
        config = dataclasses.replace(config, quirks=dataclasses.replace(config.quirks, **quirks))
    config = dataclasses.replace(config, **changes)  # type: ignore[arg-type]
    return SiteBackend(config, clock, seed=1)


async def test_8_3_5433_total_consumption_is_repaired() -> None:
    clock = SimClock(start=NOON, speed=0)
    be = backend(
        "metered-split",
        clock,
        firmware="D8.3.5433",
        quirks={"total_equals_net_8_3_5433": True},
    )
    async with SimulatedGateway(be, clock=clock) as gw, envoy_for(gw, clock) as envoy:
        snap = await envoy.update()
    state = be.state()
    assert snap.consumption is not None
    assert snap.consumption.watts == pytest.approx(state["load_w"], abs=2)
    # the counter comes from production.json, where this firmware gives the net value
    assert snap.consumption.wh_lifetime == pytest.approx(state["lifetime_wh"]["load"], rel=1e-3)


async def test_new_firmware_is_noticed_and_probed_again() -> None:
    async with gateway("metered-split") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            await envoy.update()
            assert envoy.info.firmware == "D7.6.175"
            # Enphase pushes 8.2.4345 overnight: same site, new firmware
            gw.core.backend = backend("metered-split", clock, firmware="D8.2.4345")
            clock.advance(5 * 3600)
            snap = await envoy.update()
    assert envoy.info.firmware == "D8.2.4345"
    assert snap.gateway.firmware == "D8.2.4345"
    assert snap.production is not None


async def test_old_envoy_r_without_keepalive() -> None:
    async with gateway("legacy-3x") as (gw, clock):
        gw.faults.apply_spec("keepalive-reset")
        async with envoy_for(gw, clock, keepalive=False) as envoy:
            for _ in range(3):
                clock.advance(300)
                snap = await envoy.update()
    assert snap.errors == {} and snap.inverters

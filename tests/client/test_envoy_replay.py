"""Envoy against every real capture, replayed over sockets with its firmware's auth."""

from __future__ import annotations

import pytest

from tests.simkit import envoy_for, gateway
from tests.support import REAL, needs_real


@needs_real
async def test_collar_site_reads_every_ct_type() -> None:
    async with gateway(folder=REAL / "8.3.1598_collar") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
    assert {"backfeed", "load", "evse", "pv3p"} <= {m.split("#")[0] for m in snap.meters}
    assert snap.collar is not None and snap.c6cc is not None
    assert snap.battery is not None and set(snap.battery.units) == {
        "492516006337",
        "492517004892",
    }


@needs_real
async def test_generator_site() -> None:
    async with gateway(folder=REAL / "8.3.5169_with_generator") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
    doc = snap.to_dict()
    assert doc["generator"]["mode"] == "on"
    assert doc["generator"]["exercise"]["day"] == "Sat"
    assert doc["enpower"]["mains_oper_state"] == "closed"
    assert set(doc["dry_contacts"]) == {"NC1", "NC2", "NO1", "NO2"}
    assert len(doc["inverters"]) == 20 and doc["inverters"]["482208990001"]["dc_volts"]


@needs_real
@pytest.mark.parametrize(
    ("folder", "watts", "lifetime"),
    [
        # total-consumption is production CT + net CT; the storage CT is left out
        ("8.2.127_with_3cts_and_battery_split", 1714.424 + 129.407, 7909866.491),
        ("8.3.1598_collar", 0.0 + 3760.828, 132912.625),
    ],
)
async def test_house_load_is_computed_as_the_gateway_does(
    folder: str, watts: float, lifetime: float
) -> None:
    """The benchmark's parity check found -736 W where the gateway says 1844 W."""
    async with gateway(folder=REAL / folder) as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
    assert snap.consumption is not None
    assert snap.consumption.watts == pytest.approx(watts, abs=0.01)
    assert snap.consumption.wh_lifetime == pytest.approx(lifetime, abs=0.01)

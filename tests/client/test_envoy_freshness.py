"""Freshness is the time each section's data was current, over a simulated hour.

Inverter data read from device_data advances with its reads (never frozen at
the probe), and live data is as old as its own `last_update`, not "now".
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import orjson

from tests.simkit import envoy_for, gateway


async def test_freshness_follows_the_data_over_an_hour() -> None:
    async with gateway("battery-backup") as (gw, clock), envoy_for(gw, clock) as envoy:
        start = clock()
        await envoy.update()
        inverters: list[float] = []
        for _ in range(60):
            clock.advance(60)
            snap = await envoy.update()
            now = clock()
            inverters.append(snap.freshness["inverters"])
            # inverters come from device_data on this site: current as of its last read
            assert now - snap.freshness["inverters"] < 6 * 60
            assert snap.freshness["meters"] == now  # read every update
            live = snap.live
            if live is not None and live.last_update is not None:
                assert snap.freshness["live"] <= live.last_update
            doc = orjson.loads(orjson.dumps(snap.to_dict()))
            assert doc["freshness"] == dict(snap.freshness)  # the same in JSON
    assert inverters == sorted(inverters) and inverters[-1] >= start + 55 * 60


async def test_live_data_is_as_old_as_its_last_update() -> None:
    async with gateway("battery-backup") as (gw, clock), envoy_for(gw, clock) as envoy:
        await envoy.update()
        clock.advance(60)
        snap = await envoy.update()  # live-data status is read after the first snapshot
        assert snap.live is not None and snap.live.last_update is not None
        for _ in range(10):
            clock.advance(60)
            snap = await envoy.update()
        assert snap.live is not None and snap.live.last_update is not None
        assert snap.freshness["live"] == snap.live.last_update


async def test_battery_soc_is_live_while_secctrl_is_read_every_30_minutes() -> None:
    """The bank's SoC follows the units (ensemble/power) each minute, not secctrl's last read."""
    evening = datetime(2026, 6, 15, 20, tzinfo=ZoneInfo("America/Los_Angeles")).timestamp()
    async with gateway("battery-backup", start=evening) as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            first = await envoy.update()
            gw.log.reset()
            socs: list[float] = []
            for _ in range(40):
                clock.advance(60)
                snap = await envoy.update()
                assert snap.battery is not None and snap.battery.soc_percent is not None
                truth = gw.backend.state()["soc_percent"]
                assert abs(snap.battery.soc_percent - truth) < 1.5, (snap.battery, truth)
                assert snap.freshness["battery"] == clock()
                socs.append(snap.battery.soc_percent)
    assert gw.log.count("/ivp/ensemble/secctrl") <= 2
    assert first.battery is not None and socs[-1] < first.battery.soc_percent  # discharging

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


async def test_battery_units_every_5_minutes_say_how_old_they_are() -> None:
    """With a storage CT the units (ensemble/power) are read every 5 minutes, not each
    minute (issue 31): the battery section is as fresh as their last read, and its
    SoC is the bank's true SoC at that read, not secctrl's 30-minute-old figure.
    """
    evening = datetime(2026, 6, 15, 20, tzinfo=ZoneInfo("America/Los_Angeles")).timestamp()
    async with gateway("battery-backup", start=evening) as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            first = await envoy.update()
            truth_at = {clock(): gw.backend.state()["soc_percent"]}
            gw.log.reset()
            socs: list[float] = []
            ages: set[float] = set()
            for _ in range(40):
                clock.advance(60)
                truth_at[clock()] = gw.backend.state()["soc_percent"]
                reads = gw.log.count("/ivp/ensemble/power")
                snap = await envoy.update()
                assert snap.battery is not None and snap.battery.soc_percent is not None
                fresh = snap.freshness["battery"]
                if gw.log.count("/ivp/ensemble/power") > reads:
                    assert fresh == clock()  # read now
                ages.add(clock() - fresh)
                assert abs(snap.battery.soc_percent - truth_at[fresh]) < 1.5, (snap.battery, fresh)
                flow = snap.power_flow  # the bank's power: the storage CT, this minute
                assert flow is not None and flow.battery_watts is not None
                assert flow.as_of.get("battery", flow.taken_at) == clock()
                socs.append(snap.battery.soc_percent)
    assert gw.log.count("/ivp/ensemble/power") <= 9  # 40 minutes: 8, plus a re-read
    assert max(ages) >= 240 and max(ages) < 300  # as old as the last read, never "now"
    assert gw.log.count("/ivp/ensemble/secctrl") <= 2
    assert first.battery is not None and socs[-1] < first.battery.soc_percent  # discharging

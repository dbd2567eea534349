"""Sites of several gateways: the pure sums (service/site_sum), by hand and on simulated sites."""

from __future__ import annotations

import pytest

from enphase_local.models.battery import BatterySummary
from enphase_local.models.energy import EnergyReading, PhaseReadings
from enphase_local.models.live_frame import LiveFrame, LivePhase
from enphase_local.models.snapshot import GatewaySummary, Snapshot
from enphase_local.service.site_sum import site_serial, sum_frames, sum_readings, sum_snapshots
from tests.simkit import envoy_for, gateway


def reading(watts: float, lifetime: float | None, today: float | None = 10.0) -> EnergyReading:
    return EnergyReading(watts, today, None, lifetime, "production.json:eim", reading_time=100)


def test_frames_sum_per_flow_and_phase() -> None:
    a = LiveFrame(
        taken_at=100.0,
        source="livedata",
        solar_watts=3000,
        house_watts=1000,
        grid_watts=-2000,
        battery_watts=None,
        soc_percent=None,
        phases={"L1": LivePhase(1500, 500, -1000), "L2": LivePhase(1500, 500, -1000)},
    )
    b = LiveFrame(
        taken_at=98.0,
        source="stream_meter",
        solar_watts=1000,
        house_watts=2500,
        grid_watts=500,
        battery_watts=1000,
        soc_percent=40,
        stale=True,
        as_of={"battery": 90.0},
        phases={"L1": LivePhase(400, 1000, 100, 500), "L2": LivePhase(600, 1500, 400, 500)},
    )
    site = sum_frames([a, b])
    assert (site.solar_watts, site.house_watts, site.grid_watts) == (4000, 3500, -1500)
    assert site.battery_watts == 1000  # only b has a battery: a adds nothing
    assert site.soc_percent == 40 and site.generator_watts is None
    assert site.taken_at == 98.0 and site.stale and site.source == "site"
    assert site.as_of == {"battery": 90.0}
    assert site.phases["L1"] == LivePhase(1900, 1500, -900, 500)
    assert site.phases["L2"] == LivePhase(2100, 2000, -600, 500)
    assert site.imbalance_watts() == 0


def test_phases_that_do_not_line_up_are_not_summed_and_unknowns_stay_unknown() -> None:
    a = LiveFrame(100.0, "livedata", 3000, None, None, phases={"L1": LivePhase(3000)})
    b = LiveFrame(
        100.0, "livedata", 1000, 800, -200, phases={"L1": LivePhase(500), "L2": LivePhase(500)}
    )
    site = sum_frames([a, b])
    assert site.phases == {} and site.solar_watts == 4000
    assert site.house_watts is None and site.grid_watts is None  # a partial sum would lie
    with pytest.raises(ValueError):
        sum_frames([])


def test_soc_is_weighted_by_capacity() -> None:
    a = LiveFrame(1.0, "livedata", soc_percent=100.0)
    b = LiveFrame(1.0, "livedata", soc_percent=40.0)
    assert sum_frames([a, b], [10_000.0, 5_000.0]).soc_percent == pytest.approx(80.0)
    assert sum_frames([a, b]).soc_percent == pytest.approx(70.0)  # no capacities: the mean


def test_counters_sum_and_a_missing_counter_makes_the_sum_unknown() -> None:
    site = sum_readings([reading(100, 5000.0), reading(50, 2500.0, today=None)])
    assert site is not None
    assert (site.watts, site.wh_lifetime, site.wh_today) == (150, 7500.0, None)
    assert site.source == "site:production.json:eim+production.json:eim"
    assert sum_readings([reading(1, 1.0), None]) is None


def _snap(serial: str, prod: float, cons: float | None, battery: BatterySummary | None) -> Snapshot:
    return Snapshot(
        taken_at=1000.0 if serial == "A" else 990.0,
        gateway=GatewaySummary("h", serial, None, "8.2", True, "token"),
        production=reading(1, prod),
        consumption=None if cons is None else reading(2, cons),
        phases={"L1": PhaseReadings(production=reading(1, prod / 2))},
        battery=battery,
        freshness={"production": 1000.0 if serial == "A" else 980.0},
        errors={"meters": "timeout"} if serial == "B" else {},
    )


def test_snapshots_sum_into_a_site_marked_as_one() -> None:
    bank = BatterySummary(50.0, 5000.0, 10_000.0, 20.0, units={})
    site = sum_snapshots(
        "Big House", {"A": _snap("A", 1000, 400, None), "B": _snap("B", 600, None, bank)}
    )
    assert site.gateway.serial == site_serial("Big House") == "site-big-house"
    assert site.gateway.host == "A+B" and site.gateway.firmware == "site"
    assert site.production is not None and site.production.wh_lifetime == 1600
    assert site.consumption is None  # B has no consumption CT
    assert site.phases["L1"].production is not None
    assert site.phases["L1"].production.wh_lifetime == 800
    assert site.battery is not None and site.battery.soc_percent == 50.0
    assert site.taken_at == 990.0 and site.freshness == {"production": 980.0}
    assert site.errors == {"B:meters": "timeout"}


async def test_two_simulated_gateways_sum_exactly() -> None:
    snaps = {}
    for preset, seed in (("battery-backup", 1), ("metered-split", 2)):
        async with gateway(preset, seed=seed) as (gw, clock):
            async with envoy_for(gw, clock) as envoy:
                snap = await envoy.update()
                snaps[snap.gateway.serial] = snap
    assert len(snaps) == 2
    site = sum_snapshots("house", snaps)
    parts = list(snaps.values())
    assert site.production is not None
    lifetimes = [p.production.wh_lifetime for p in parts if p.production is not None]
    assert site.production.wh_lifetime == pytest.approx(sum(x for x in lifetimes if x is not None))
    assert site.power_flow is not None
    solar = [p.power_flow.solar_watts for p in parts if p.power_flow is not None]
    assert site.power_flow.solar_watts == pytest.approx(sum(s for s in solar if s is not None))
    assert set(site.inverters) == {i for p in parts for i in p.inverters}

"""Issue 23: energy that adds up, today in the site's day, with the host on UTC.

Each run reads a simulated site with the real client over sockets from 20
minutes before the site's midnight (see `tests.energy_day`); the simulator's
own counters are the truth. Before the fix, "today" followed the host's
clock: wrong on 4 updates in 10 of a US/Pacific day read from a UTC host.
"""

from __future__ import annotations

import pytest

from enphase_local.client import Envoy
from enphase_local.models.energy_flows import ENERGY_FLOWS
from tests.energy_day import DayRun, host_on_utc, run_day
from tests.simkit import envoy_for, gateway

__all__ = ["host_on_utc"]  # the autouse fixture: the host on UTC


def _flows_match(run: DayRun, *, rel: float, abs_wh: float = 5.0) -> None:
    energy = run.energy
    for name in ENERGY_FLOWS:
        got = run.flow_error(name)
        if got is None:
            continue
        error, truth = got
        limit = abs_wh + (0.02 if name in energy.derived else rel) * truth
        assert abs(error) <= limit, f"{run.preset} {name}: {error:+.1f} Wh on {truth:.1f}"
    residue = energy.today_wh.residue()
    assert residue is not None
    house = energy.today_wh.house or 0.0
    assert abs(residue) <= 0.01 * house + 1.0
    assert run.stepped_back == []


@pytest.mark.parametrize(
    ("preset", "hours"),
    [
        ("battery-backup", 24.0),  # US/Mountain, storage CT: a whole day
        ("metered-split", 9.0),  # US/Pacific
        ("metered-3phase", 9.0),  # Europe/Amsterdam, three phase
        ("collar", 9.0),  # US/Eastern, meter collar
        ("generator", 9.0),  # US/Central
    ],
)
async def test_counted_flows_match_the_site_every_update_and_balance(
    preset: str, hours: float
) -> None:
    run = await run_day(preset, step_s=60.0, hours=hours)
    assert run.today_null == 1  # the first snapshot only: /home is read after it
    assert run.today_wrong == 0, f"{run.today_wrong} of {run.updates} updates"
    assert run.energy.derived in ((), ("house",), ("house", "generator"))
    _flows_match(run, rel=0.01)


@pytest.mark.parametrize("preset", ["battery-no-storage-ct", "acb"])
async def test_battery_energy_is_derived_without_a_storage_ct(preset: str) -> None:
    """Most IQ Battery sites have no storage CT: charge and discharge come from power."""
    run = await run_day(preset, step_s=60.0, hours=10.0)  # night discharge, morning charge
    energy = run.energy
    assert {"battery_charge", "battery_discharge", "house"} <= set(energy.derived)
    assert (energy.today_wh.battery_charge or 0) > 1000
    assert (energy.today_wh.battery_discharge or 0) > 1000
    _flows_match(run, rel=0.02)


@pytest.mark.parametrize(
    ("preset", "day", "hours"),
    [
        ("metered-split", (2026, 3, 8), 5.0),  # US: spring forward at 02:00
        ("metered-split", (2026, 11, 1), 5.0),  # US: fall back at 02:00
        ("metered-3phase", (2026, 3, 29), 5.0),  # EU: spring forward
        ("battery-backup", (2026, 10, 25), 5.0),  # EU date; US/Mountain unchanged that day
    ],
)
async def test_today_is_right_across_daylight_saving_changes(
    preset: str, day: tuple[int, int, int], hours: float
) -> None:
    run = await run_day(preset, step_s=120.0, day=day, hours=hours)
    assert run.today_wrong == 0
    _flows_match(run, rel=0.01)


async def test_a_firmware_update_never_steps_a_counter_back() -> None:
    """Seen on a 7 to 8 update: two counters stepped back when the zone flipped."""
    run = await run_day("metered-split", step_s=180.0, hours=6.0, upgrade=(3 * 3600, "D8.2.4345"))
    assert run.last is not None and run.last.gateway.firmware == "D8.2.4345"
    assert run.today_wrong == 0
    _flows_match(run, rel=0.01)


async def test_an_explicit_zone_gives_today_from_the_first_snapshot() -> None:
    async with gateway("metered-split") as (gw, clock):
        async with envoy_for(gw, clock, timezone="US/Pacific") as envoy:
            first = await envoy.update()
    assert first.production is not None and first.production.wh_today is not None
    assert first.energy is not None and first.energy.zone == "US/Pacific"
    assert not any("time zone" in w for w in first.warnings)


def test_a_wrong_explicit_zone_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        Envoy("127.0.0.1", timezone="Mars/Olympus")  # before any I/O

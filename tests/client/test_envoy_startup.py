"""Start-up and the request economy by day and night, asserted from the simulator's log.

The first snapshot asks each source at most once and leaves the slow and
identity-only sources (``/home``) and settings (export limit,
contacts' settings) for after it; the generator's pages
only when a generator is configured. Then, over a simulated day and night,
no source is asked more often than its data can change.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from enphase_local.capabilities import Capability
from enphase_local.simulator import SimClock, SimulatedGateway
from tests.simkit import envoy_for, gateway
from tests.support import REAL, needs_real

# Asked after the first snapshot, never before it.
LATER = {
    "/home",
    "/ivp/ss/pel_settings",
    "/ivp/ss/dry_contact_settings",
}
GENERATOR_PAGES = {"/ivp/ensemble/generator", "/ivp/ss/gen_mode", "/ivp/ss/gen_schedule"}


@pytest.mark.parametrize("preset", ["battery-backup", "metered-3phase", "legacy-3x"])
async def test_first_snapshot_asks_each_source_once_and_about_twelve(preset: str) -> None:
    async with gateway(preset) as (gw, clock), envoy_for(gw, clock) as envoy:
        first = await envoy.update()
        # a digest login's challenge (401, then the answer) is one read
        asked = Counter(e.endpoint for e in gw.log.entries if e.status != 401)
    assert first.production is not None and first.errors == {}
    assert sum(asked.values()) <= 14, asked  # battery-backup: 14 (pyenphase: 13)
    assert max(asked.values()) == 1, f"asked twice before the first snapshot: {asked}"
    assert not LATER & set(asked)
    assert asked["/info"] == 1  # scheme detection's answer is used, not asked again
    if envoy.info.fw.at_least(7):  # the zone is the host's until /home answers, and says so
        assert any("/home" in w and "host" in w for w in first.warnings)


async def test_later_sources_are_read_once_after_the_first_snapshot() -> None:
    async with gateway("battery-backup") as (gw, clock), envoy_for(gw, clock) as envoy:
        await envoy.update()
        assert envoy.home is None and Capability.NETWORK not in envoy.capabilities
        assert not GENERATOR_PAGES & set(gw.log.counts)  # gen_config is {} on this site
        gw.log.reset()
        clock.advance(60)
        second = await envoy.update()
        assert set(gw.log.counts) >= LATER
        assert all(gw.log.count(path) == 1 for path in LATER)  # once, no retries
        assert envoy.home is not None and envoy.home.timezone
        assert {Capability.POWER_EXPORT_LIMIT, Capability.NETWORK} <= envoy.capabilities
        assert second.errors == {}
        gw.log.reset()
        clock.advance(60)
        third = await envoy.update()
        assert not LATER & set(gw.log.counts)  # then on their own cadence
        assert not any("/home" in w for w in third.warnings)  # the gateway's own zone now


async def test_a_configured_generator_is_probed() -> None:
    async with gateway("generator") as (gw, clock), envoy_for(gw, clock) as envoy:
        await envoy.update()
        assert set(gw.log.counts) >= GENERATOR_PAGES
        assert Capability.GENERATOR in envoy.capabilities


async def _hours(preset: str, start: float, hours: int) -> list[Counter[str]]:
    """Requests per simulated hour, one update a minute from `start`, after the first snapshot."""
    async with gateway(preset, start=start) as (gw, clock):
        return await _count_hours(gw, clock, hours)


async def _hours_of(folder: Path, hours: int) -> list[Counter[str]]:
    """`_hours` of a replayed capture."""
    async with gateway(folder=folder) as (gw, clock):
        return await _count_hours(gw, clock, hours)


async def _count_hours(gw: SimulatedGateway, clock: SimClock, hours: int) -> list[Counter[str]]:
    out: list[Counter[str]] = []
    async with envoy_for(gw, clock) as envoy:
        await envoy.update()
        for _ in range(hours):
            gw.log.reset()
            for _ in range(60):
                clock.advance(60)
                before = len(gw.log.entries)
                await envoy.update()
                paths = [e.endpoint for e in gw.log.entries[before:]]
                assert len(paths) == len(set(paths)), "nothing is asked twice in one update"
            assert gw.log.max_in_flight == 1, "never two requests in flight"
            out.append(Counter(gw.log.counts))
    return out


async def test_battery_site_over_a_day_and_a_night() -> None:
    """24 hours from 22:30 local: under 0.30 of pyenphase's 600 an hour in every hour.

    The units' power and SoC (ensemble/power) are the live battery source;
    secctrl (reserve, capacities) is a setting, read every 30 minutes; with
    CTs, production.json only re-anchors the counters, every 15 minutes.
    """
    tz = ZoneInfo("America/Los_Angeles")
    evening = datetime(2026, 6, 15, 22, 30, tzinfo=tz).timestamp()
    hours = await _hours("battery-backup", evening, 24)
    for hour in hours:
        assert sum(hour.values()) <= 0.30 * 600, hour  # pyenphase: 10 an update
        assert hour["/ivp/meters/readings"] == 60  # the live heartbeat
        assert hour["/ivp/ensemble/power"] == 60  # the batteries' live state
        assert hour["/ivp/ensemble/secctrl"] <= 2, hour
        assert hour["/ivp/pdm/device_data"] <= 12, hour  # one report period, night too
        assert hour["/production.json"] <= 5, hour  # 4, and one at local midnight
        assert hour["/admin/lib/tariff"] <= 2  # settings every 30 minutes


# Captures whose requests were over a third of pyenphase's, and pyenphase's
# requests per update on them (bench/RESULTS.md (1)).
OVER_A_THIRD = [
    ("8.3.1598_collar", 8),
    ("8.2.4382_ACB", 8),
    ("8.3.5167_3rd-pv", 10),
    ("7.3.517_system_2", 10),
]


@needs_real
@pytest.mark.parametrize(("folder", "pyenphase_per_update"), OVER_A_THIRD)
async def test_battery_capture_after_four_hours_asks_a_third_of_pyenphase(
    folder: str, pyenphase_per_update: int
) -> None:
    """Hours 5 and 6 of a replayed capture: at most a third of pyenphase's requests.

    Hour 6 holds the re-probes of the endpoints a capture lacks (every 6 h):
    on 8.2.4382_ACB that hour is 160 requests, pyenphase's 480 / 3.
    """
    hours = await _hours_of(REAL / folder, 6)
    for hour in hours[4:]:
        assert sum(hour.values()) <= 60 * pyenphase_per_update / 3, hour
        assert hour["/ivp/ensemble/secctrl"] <= 2, hour
        assert hour["/ivp/ensemble/power"] == 60, hour


async def test_standard_site_over_a_whole_day() -> None:
    """24 hours, the first four and the twenty after: the report rhythm, never every minute."""
    hours = await _hours(
        "standard", datetime(2026, 6, 15, 6, tzinfo=ZoneInfo("UTC")).timestamp(), 24
    )
    for hour in hours:
        assert sum(hour.values()) <= 26, hour  # pyenphase: 2 an update, 120 an hour
        assert hour["/api/v1/production/inverters"] <= 12


@needs_real
async def test_replayed_capture_asks_inverters_once_a_report_period() -> None:
    """A capture's newest report never advances (as at night): once a period, not a minute."""
    async with gateway(folder=REAL / "8.2.4345_with_device_data") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            await envoy.update()
            gw.log.reset()
            for _ in range(60):
                clock.advance(60)
                await envoy.update()
    assert gw.log.count("/ivp/pdm/device_data") <= 12
    assert gw.log.count("/api/v1/production/inverters") <= 12


async def test_a_full_update_reads_the_later_sources_at_once() -> None:
    """`enphase read` wants every section in its one snapshot, fast or not."""
    async with gateway("battery-backup") as (gw, clock), envoy_for(gw, clock) as envoy:
        snap = await envoy.update(full=True)
        assert all(gw.log.count(path) == 1 for path in LATER)
        assert snap.tariff is not None and envoy.home is not None
        assert not any("/home" in w for w in snap.warnings)

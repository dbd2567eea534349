"""A simulated day of a misbehaving gateway: the client's data stays true (issue 11).

One battery site, one update a minute for a simulated day on an injected
clock, with random 5xx, resets, truncated, garbage and HTML bodies on a few
percent of requests, hangs past the timeouts, a reboot followed by an
all-zero answer, a reboot onto new firmware, token expiry, the eim and
storage-CT firmware glitches and the 23:00 outage (see `driver`). The
three-day version with its figures is ``bench/soak.py``.
"""

from __future__ import annotations

import asyncio
from functools import cache

import pytest

from tests.soak.driver import NEW_FIRMWARE, SoakReport, run_soak

DAY = 1440
CADENCE_S = 600.0  # the longest cadence a section is read on while updates run (CONFIG)


@cache
def _soak(minutes: int, faults: bool, calm_minutes: int = 30) -> SoakReport:
    """One soak run per process: a module fixture set up again reads the same day instead of
    simulating it twice (`dev.py` keeps a module on one xdist worker: ``--dist loadfile``)."""
    return asyncio.run(run_soak(minutes, faults=faults, calm_minutes=calm_minutes))


@pytest.fixture(scope="module")
def faulty_day() -> SoakReport:
    return _soak(DAY, True, calm_minutes=30)


@pytest.fixture(scope="module")
def calm_hours() -> SoakReport:
    return _soak(180, False)


def test_every_update_returns_a_snapshot(faulty_day: SoakReport) -> None:
    assert faulty_day.updates == DAY
    assert faulty_day.update_errors == []
    assert faulty_day.snapshots == DAY


def test_no_counter_ever_goes_backwards(faulty_day: SoakReport) -> None:
    assert faulty_day.backwards == []


def test_lifetime_gain_matches_the_simulator_within_half_a_percent(
    faulty_day: SoakReport,
) -> None:
    assert faulty_day.truth_gain_wh["production"] > 10_000  # a sunny day was measured
    assert faulty_day.lifetime_error("production") <= 0.005, (
        faulty_day.reported_gain_wh,
        faulty_day.truth_gain_wh,
    )


def test_every_section_is_fresh_again_soon_after_faults_stop(faulty_day: SoakReport) -> None:
    assert faulty_day.recovered_after_s is not None
    assert faulty_day.recovered_after_s <= 2 * CADENCE_S
    assert faulty_day.stale_at_end == {} and faulty_day.errors_at_end == {}


def test_the_faults_were_met_and_said(faulty_day: SoakReport) -> None:
    assert faulty_day.firmware_at_end == NEW_FIRMWARE  # the firmware change was noticed
    seen = faulty_day.warnings_seen
    assert seen.get("production", 0) >= 1  # eim glitch / zero answer set aside, said
    assert seen.get("meters", 0) >= 1  # storage CT half / zero readings, said


def test_requests_per_hour_stay_within_ten_percent_of_fault_free(
    faulty_day: SoakReport, calm_hours: SoakReport
) -> None:
    assert calm_hours.update_errors == [] and calm_hours.backwards == []
    ratio = faulty_day.requests_per_hour / calm_hours.requests_per_hour
    assert 0.9 <= ratio <= 1.1, (faulty_day.requests_per_hour, calm_hours.requests_per_hour)

"""The request economy's decisions, replayed over hours with a fake clock."""

from __future__ import annotations

from enphase_local.engine.outage import in_outage_window, zone
from enphase_local.engine.schedule import REPORT_GRACE_S, Schedule
from enphase_local.sources.registry import Cadence, Source

LIVE: Source[object] = Source("live", "/l", lambda b: b, cadence=Cadence.LIVE)
REPORT: Source[object] = Source("report", "/r", lambda b: b, cadence=Cadence.REPORT)
CONFIG: Source[object] = Source("config", "/c", lambda b: b, cadence=Cadence.CONFIG)
ALL = [LIVE, REPORT, CONFIG]


def keys(sources: list[Source[object]]) -> list[str]:
    return [s.key for s in sources]


def test_everything_is_due_at_first() -> None:
    assert keys(Schedule().due(ALL, 1000.0)) == ["live", "report", "config"]


def test_cadences_over_an_hour_of_minutely_updates() -> None:
    sched = Schedule()
    counts = {s.key: 0 for s in ALL}
    t0 = 1_700_000_000.0
    for minute in range(60):
        now = t0 + minute * 60
        for source in sched.due(ALL, now):
            counts[source.key] += 1
            # inverters report every 5 minutes: newest report is the last multiple of 300
            report = (now // 300) * 300 if source is REPORT else None
            sched.record_success(source.key, now, newest_report=report)
    assert counts["live"] == 60
    assert counts["config"] == 6  # every 10 minutes
    # one read per 5-minute report (12), never one per update
    assert 11 <= counts["report"] <= 13


def test_report_source_waits_for_the_next_report_not_for_our_fetch_time() -> None:
    sched = Schedule()
    # fetched at 1200, newest report at 1000: next report due 1300 (+grace), not 1500
    sched.record_success("report", 1200.0, newest_report=1000.0)
    assert sched.next_due(REPORT) == 1300.0 + REPORT_GRACE_S


def test_stale_report_time_does_not_cause_polling_on_every_update() -> None:
    sched = Schedule()
    # at night inverters stop reporting: newest report is hours old
    sched.record_success("report", 50_000.0, newest_report=10_000.0)
    assert sched.next_due(REPORT) >= 50_060.0


def test_failure_makes_a_source_due_again_and_force_overrides_cadence() -> None:
    sched = Schedule()
    sched.record_success("config", 100.0)
    assert keys(sched.due(ALL[2:], 200.0)) == []
    sched.record_failure("config", 150.0)
    assert keys(sched.due(ALL[2:], 200.0)) == ["config"]
    sched.record_success("config", 200.0)
    sched.force("config")
    assert keys(sched.due(ALL[2:], 201.0)) == ["config"]


def test_overrides_change_the_period() -> None:
    sched = Schedule(overrides={"live": 300.0})
    sched.record_success("live", 0.0)
    assert keys(sched.due([LIVE], 299.0)) == []
    assert keys(sched.due([LIVE], 300.0)) == ["live"]


def test_outage_window() -> None:
    tz = zone("US/Eastern")
    night = 1_795_496_700.0 - 3600  # 2026-11-23 23:05 US/Eastern
    assert in_outage_window(night, tz)
    assert not in_outage_window(night + 3600, tz)
    assert not in_outage_window(1_795_496_700.0, None)
    assert zone("Not/AZone") is None

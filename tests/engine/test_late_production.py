"""production.json late at start-up: which figures the first snapshot shows, who serves after."""

from __future__ import annotations

from enphase_local.engine.cache import SourceCache
from enphase_local.engine.counters import CounterGuard
from enphase_local.engine.production import (
    FALLBACK,
    after_late_answer,
    fallback_report,
    fallback_usable,
    late_after,
)
from enphase_local.engine.recovery import DEMOTE_AFTER, record_failure
from enphase_local.firmware import Firmware
from enphase_local.models.energy import EnergyReading
from enphase_local.models.production import ProductionReport
from enphase_local.sources.keys import SourceKey

V1 = EnergyReading(1200.0, 5_000.0, 30_000.0, 9_000_000.0, source="api/v1/production")
CT = EnergyReading(1210.0, 5_010.0, 30_010.0, 8_000_000.0, source="production.json:eim")
FW = Firmware.parse("D8.2.4382")


def test_only_production_json_has_a_first_read_deadline() -> None:
    assert late_after(SourceKey.PRODUCTION_JSON, 5.0) == 5.0
    for key in (SourceKey.PRODUCTION_SUMMARY, SourceKey.PRODUCTION_V1, SourceKey.PRODUCTION_HTML):
        assert late_after(key, 5.0) is None


def test_v1_serves_the_first_snapshot_only_with_a_lifetime() -> None:
    assert fallback_usable(V1)
    zero = EnergyReading(0.0, 0.0, 0.0, 0.0, source="api/v1/production")
    assert not fallback_usable(zero)  # metered without CTs: all zero
    assert not fallback_usable(None)


def test_the_first_figures_are_fallback_report() -> None:
    report = fallback_report(ProductionReport(inverters=V1), {})
    assert report.production is not None and report.production.watts == 1200.0
    produced = report.production
    assert (produced.wh_today, produced.wh_last_7_days, produced.wh_lifetime) == (None, None, None)
    assert report.total_consumption is None and report.net_consumption is None


def test_a_guard_that_saw_fallback_report_takes_the_late_counters_as_its_first() -> None:
    """v1's lifetime (9 MWh) is another counter than the CT's (8 MWh): never both."""
    guard = CounterGuard("production")
    first = fallback_report(ProductionReport(inverters=V1), {}).production
    assert first is not None
    held, notes = guard.check(first, 0.0, None)
    assert held.wh_lifetime is None and guard.last_lifetime_wh is None and not notes
    later, notes = guard.check(CT, 60.0, None)
    assert later.wh_lifetime == CT.wh_lifetime and not notes


def test_the_late_answer_keeps_the_probe_s_choice() -> None:
    with_ct = ProductionReport(inverters=V1, production=CT)
    assert after_late_answer(with_ct, V1, fw=FW, metered=True) == SourceKey.PRODUCTION_JSON
    inverters = EnergyReading(1190.0, None, None, 8_990_000.0, source="production.json:inverters")
    alone = ProductionReport(inverters=inverters)
    assert after_late_answer(alone, V1, fw=Firmware.parse("D7.6.175"), metered=False) == FALLBACK


def test_given_up_the_fallback_keeps_its_counters() -> None:
    report = fallback_report(ProductionReport(inverters=V1), {}, counters=True)
    assert report.production == V1


def test_production_stops_waiting_after_repeated_failures_of_the_late_source() -> None:
    cache = SourceCache(production_key=FALLBACK, awaited_production=SourceKey.PRODUCTION_JSON)
    for failures in range(1, DEMOTE_AFTER):
        record_failure(cache, SourceKey.PRODUCTION_JSON, "timed out", failures)
        assert cache.demoted_because is None
    record_failure(cache, SourceKey.METERS_READINGS, "timed out", DEMOTE_AFTER)  # not it
    assert cache.demoted_because is None
    record_failure(cache, SourceKey.PRODUCTION_JSON, "timed out", DEMOTE_AFTER)
    assert cache.demoted_because and cache.errors[SourceKey.PRODUCTION_JSON] == "timed out"

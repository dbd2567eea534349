"""The reversed-CT diagnosis as a pure decision: persistent evidence only, cleared when sane."""

from __future__ import annotations

import logging

import pytest

from enphase_local.engine.diagnosis import (
    CLEAR_UPDATES,
    CONFIRM_UPDATES,
    CtReversalWatch,
    reversal_text,
)
from enphase_local.models.energy import EnergyReading, PhaseReadings

T0 = 1_781_546_400.0


def _flow(watts: float) -> EnergyReading:
    return EnergyReading(watts, None, None, None, "meters/readings")


def _phases(prod_l1: float, cons_l1: float = 400.0) -> dict[str, PhaseReadings]:
    return {
        "L1": PhaseReadings(production=_flow(prod_l1), consumption=_flow(cons_l1)),
        "L2": PhaseReadings(production=_flow(900.0), consumption=_flow(300.0)),
    }


def _run(watch: CtReversalWatch, n: int, start: float, **kw: float) -> float:
    now = start
    for _ in range(n):
        now += 60
        watch.observe(_phases(**kw), 1800.0, now)
    return now


def test_persistent_negative_production_in_daylight_names_the_ct_and_phase(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch = CtReversalWatch()
    caplog.set_level(logging.DEBUG, "enphase_local.diagnosis")
    now = _run(watch, CONFIRM_UPDATES, T0, prod_l1=-850.0)
    assert watch.findings == ()  # not yet: ten updates over nine minutes prove nothing
    _run(watch, 1, now, prod_l1=-850.0)
    (finding,) = watch.findings
    assert (finding.meter, finding.phase) == ("production", "L1")
    assert "-850 W" in finding.evidence and "1800 W" in finding.evidence
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [reversal_text(finding)]


def test_a_negative_reading_at_dusk_or_at_night_never_triggers_it() -> None:
    watch = CtReversalWatch()
    now = T0
    for i in range(200):  # one negative read in every ten: a cloud edge, a reboot's answer
        now += 60
        watch.observe(_phases(prod_l1=-300.0 if i % 10 == 0 else 700.0), 1800.0, now)
    for _ in range(100):  # night: the inverters report nothing, a CT's offset reads -80 W
        now += 60
        watch.observe(_phases(prod_l1=-80.0), 0.0, now)
    assert watch.findings == ()


def test_it_ends_when_the_readings_are_sane_again(caplog: pytest.LogCaptureFixture) -> None:
    watch = CtReversalWatch()
    caplog.set_level(logging.INFO, "enphase_local.diagnosis")
    now = _run(watch, CONFIRM_UPDATES + 5, T0, prod_l1=-850.0)
    now = _run(watch, 100, now, prod_l1=-20.0)  # dusk: near zero is neither way
    assert len(watch.findings) == 1
    now = _run(watch, CLEAR_UPDATES - 1, now, prod_l1=850.0)
    assert len(watch.findings) == 1
    _run(watch, 1, now, prod_l1=850.0)
    assert watch.findings == ()
    assert any("right way again" in r.getMessage() for r in caplog.records)


def test_negative_consumption_names_the_net_ct_unless_batteries_explain_it() -> None:
    watch = CtReversalWatch()
    now = T0
    for _ in range(CONFIRM_UPDATES + 2):
        now += 60
        watch.observe(_phases(prod_l1=0.0, cons_l1=-400.0), 0.0, now, storage=True)
    assert watch.findings == ()  # batteries' discharge is negative computed consumption
    for _ in range(CONFIRM_UPDATES + 2):
        now += 60
        watch.observe(_phases(prod_l1=0.0, cons_l1=-400.0), 0.0, now)
    (finding,) = watch.findings
    assert (finding.meter, finding.phase) == ("net-consumption", "L1")


def test_only_the_diagnosed_ct_s_counter_warnings_are_folded() -> None:
    watch = CtReversalWatch()
    _run(watch, CONFIRM_UPDATES + 1, T0, prod_l1=-850.0)
    held = "consumption L1: lifetime counter went down from 10 to 5 Wh: held"
    total = "production: lifetime counter jumped by 900 Wh: held"
    other = "production L2: lifetime counter went down from 10 to 5 Wh: held"
    unrelated = "inverters: 2 unreadable entries skipped"
    assert watch.fold([held, total, other, unrelated]) == [other, unrelated]

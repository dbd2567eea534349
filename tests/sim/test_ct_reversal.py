"""The simulator's reversed-CT knob: one CT channel backwards in every view that carries it.

A real miswired gateway's endpoints agree with each other (they come from the
same CT), so a client test of the diagnosis is only worth something if the
readings, the reports, production.json's lines and livedata all flip together
and the energy moves to the other register from the time of the fault.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from enphase_local.simulator import SimClock, SiteBackend
from enphase_local.simulator.serve.faults import Faults
from enphase_local.simulator.views.wiring import CtReversal, rewired

NOON = 1_781_546_400.0  # 2026-06-15 12:00 in US/Mountain: the sun is up
PROD_EID = 704643328


def _get(backend: SiteBackend, path: str, **query: str) -> Any:
    reply = backend.handle("GET", path, query, b"")
    assert reply is not None
    return orjson.loads(reply.body)


def _views(backend: SiteBackend) -> dict[str, Any]:
    readings = _get(backend, "/ivp/meters/readings")
    return {
        "reading": next(r for r in readings if r["eid"] == PROD_EID),
        "report": _get(backend, "/ivp/meters/reports")[0],
        "eim": _get(backend, "/production.json", details="1")["production"][1],
        "total": _get(backend, "/production.json", details="1")["consumption"][0],
    }


def test_production_ct_reversed_on_one_phase_flips_every_view() -> None:
    clock = SimClock(start=NOON - 3600, speed=0)
    backend = SiteBackend.from_preset("battery-backup", clock=clock, seed=1)
    clock.set(NOON)
    healthy = _views(backend)
    backend.ct_reversal = CtReversal("production", 1, NOON - 1800)
    bad = _views(backend)
    ch_ok, ch_bad = healthy["reading"]["channels"], bad["reading"]["channels"]
    assert ch_ok[0]["activePower"] > 100
    assert ch_bad[0]["activePower"] == pytest.approx(-ch_ok[0]["activePower"])
    assert ch_bad[1]["activePower"] == pytest.approx(ch_ok[1]["activePower"])  # the other phase
    # the half hour since the fault counted as received, delivered stopped there
    moved = ch_bad[0]["actEnergyRcvd"]
    assert moved > 50
    assert ch_bad[0]["actEnergyDlvd"] == pytest.approx(ch_ok[0]["actEnergyDlvd"] - moved, abs=1)
    assert bad["reading"]["activePower"] == pytest.approx(
        ch_bad[0]["activePower"] + ch_bad[1]["activePower"], abs=0.01
    )
    assert bad["report"]["lines"][0]["currW"] == pytest.approx(-ch_ok[0]["activePower"], abs=0.01)
    assert bad["report"]["lines"][0]["whRcvdCum"] == pytest.approx(moved, abs=0.01)
    assert bad["eim"]["lines"][0]["wNow"] == pytest.approx(-ch_ok[0]["activePower"], abs=0.01)
    assert bad["eim"]["lines"][1]["wNow"] == pytest.approx(ch_ok[1]["activePower"], abs=0.01)
    # the consumption the gateway computes from its CTs drops by twice that phase's PV
    drop = healthy["total"]["lines"][0]["wNow"] - bad["total"]["lines"][0]["wNow"]
    assert drop == pytest.approx(2 * ch_ok[0]["activePower"], abs=0.01)
    live = _get(backend, "/ivp/livedata/status")["meters"]["pv"]
    assert live["agg_p_mw"] < healthy["eim"]["wNow"] * 1000


def test_nothing_changes_before_the_fault_or_on_another_phase_count() -> None:
    clock = SimClock(start=NOON, speed=0)
    backend = SiteBackend.from_preset("battery-backup", clock=clock, seed=1)
    state = backend._snapshot()
    assert rewired(state, backend.model, CtReversal("production", 1, NOON + 60)) is state
    assert rewired(state, backend.model, CtReversal("production", 3, NOON - 60)) is state


def test_net_ct_reversed_swaps_import_and_export() -> None:
    clock = SimClock(start=NOON - 3600, speed=0)
    backend = SiteBackend.from_preset("battery-backup", clock=clock, seed=1)
    clock.set(NOON)
    ok = _get(backend, "/ivp/meters/readings")[1]["channels"][1]
    backend.ct_reversal = CtReversal("net-consumption", 2, NOON - 1800)
    bad = _get(backend, "/ivp/meters/readings")[1]["channels"][1]
    assert bad["activePower"] == pytest.approx(-ok["activePower"])
    assert bad["actEnergyDlvd"] + bad["actEnergyRcvd"] == pytest.approx(
        ok["actEnergyDlvd"] + ok["actEnergyRcvd"], abs=0.01
    )


def test_the_knob_is_a_fault_spec() -> None:
    faults = Faults(clock=SimClock(start=NOON, speed=0))
    faults.apply_spec(f"ct-reversed=production:2:{NOON:.0f}")
    assert faults.ct_reversal == CtReversal("production", 2, NOON)
    assert faults.to_dict()["ct_reversed"] == {"meter": "production", "phase": 2, "since": NOON}
    faults.apply_spec("ct-reversed=off")
    assert faults.ct_reversal is None
    with pytest.raises(ValueError, match="storage"):
        faults.apply_spec("ct-reversed=storage:1")

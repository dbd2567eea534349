"""/ivp/sc/sched and /ivp/sc/status: documented shapes, hostile bodies, the descriptors."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enphase_local.capabilities import Capability
from enphase_local.errors import EnvoyParseError
from enphase_local.firmware import Firmware
from enphase_local.models.storage_controller import SchedulerMode, scheduler_mode
from enphase_local.sources.registry import Role
from enphase_local.sources.storage_controller import (
    SC_SCHED,
    SC_STATUS,
    parse_sc_sched,
    parse_sc_status,
)
from enphase_local.sources.table import SOURCES
from tests.fuzz import mutated_json, parses_or_refuses
from tests.hypothesis_profile import examples

# The /ivp/sc/sched capture quoted in ../shared/docs/cloud.md (D8.3.6086), as is.
SCHED_DOC: dict[str, Any] = {
    "acb_current_mode": 6,
    "ENC_agg_soc": 59,
    "Charge From Grid Allowed": True,
    "Force Discharge": False,
    "Agg Backup Energy": 5000,
    "Agg VLS Energy": 500,
    "max_energy": 5000,
    "sched_mode_key": [
        "ID - Idle",
        "ZN - Zero Net",
        "CG - Charge From Grid",
        "DG - Discharge to Grid",
        "ND - No Discharge",
        "DL - Discharge to Load",
        "CP - Charge From PV",
        "HEMS Discharge",
        "HEMS Charge",
        "FCR - Charge or discharge",
        "HEMS Charge from Grid",
    ],
}
# /ivp/sc/status as gateway.md section 3 and cloud.md describe it (events, setpoints by
# group id, a meter block of samples); written for these tests, abridged.
STATUS_DOC: dict[str, Any] = {
    "nameplate": {"ENC": 3840},
    "profile": {"phase_rules": [{"PEL W": 5000}]},
    "events": ["PEL Active"],
    "response": {
        "groups": [
            {"id": "ACB", "setpoint_val": 0},
            {"id": "ENC", "setpoint_val": -100},
            {"id": "PV", "setpoint_val": 100},
            {"id": "SLP", "setpoint_val": 0},
        ]
    },
    "meter": {"ECP": [{"ts": 0, "ph-a": {"vrms": 240.1, "P": 12.0}}], "PV": []},
}


def _sched(**changes: Any) -> bytes:
    doc = copy.deepcopy(SCHED_DOC)
    doc.update(changes)
    return orjson.dumps(doc)


def test_sched_documented_shape() -> None:
    sched = parse_sc_sched(orjson.dumps(SCHED_DOC))
    assert sched.mode is SchedulerMode.CHARGE_FROM_PV  # index 6: "CP - Charge From PV"
    assert sched.mode_label == "CP - Charge From PV"
    assert sched.charge_from_grid_allowed is True and sched.force_discharge is False
    assert sched.soc_percent == 59.0
    assert (sched.backup_wh, sched.very_low_soc_wh, sched.max_wh) == (5000.0, 500.0, 5000.0)


@pytest.mark.parametrize(
    ("index", "mode"),
    [
        (0, SchedulerMode.IDLE),
        (2, SchedulerMode.CHARGE_FROM_GRID),
        (5, SchedulerMode.DISCHARGE_TO_LOAD),
        (8, SchedulerMode.UNKNOWN),  # "HEMS Charge": no two-letter code
        (11, SchedulerMode.UNKNOWN),  # past the list: no label, not an error
        (-1, SchedulerMode.UNKNOWN),  # never read from the end of the list
    ],
)
def test_sched_mode_is_the_label_at_the_index(index: int, mode: SchedulerMode) -> None:
    assert parse_sc_sched(_sched(acb_current_mode=index)).mode is mode


def test_sched_missing_keys_are_none() -> None:
    sched = parse_sc_sched(b"{}")
    assert sched.mode is SchedulerMode.UNKNOWN and sched.mode_label is None
    assert sched.charge_from_grid_allowed is None and sched.soc_percent is None


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"Charge From Grid Allowed": "yes"}, "Charge From Grid Allowed"),
        ({"acb_current_mode": "6"}, "acb_current_mode"),
        ({"ENC_agg_soc": 150}, "ENC_agg_soc"),
        ({"max_energy": -5}, "max energy"),
        ({"sched_mode_key": ["ID - Idle", 3]}, "sched_mode_key[1]"),
        ({"sched_mode_key": "ID - Idle"}, "sched_mode_key"),
    ],
)
def test_sched_hostile_values_fail_as_parse_errors(change: dict[str, Any], where: str) -> None:
    with pytest.raises(EnvoyParseError, match=where.replace("[", r"\[").replace("]", r"\]")):
        parse_sc_sched(_sched(**change))


def test_sched_gateway_error_body_is_absent() -> None:
    with pytest.raises(EnvoyParseError) as caught:
        parse_sc_sched(b'{"error": "404 - Not Found"}')
    assert caught.value.gateway_error is not None


def test_status_documented_shape() -> None:
    status = parse_sc_status(orjson.dumps(STATUS_DOC))
    assert status.events == ("PEL Active",) and status.export_limited
    assert status.setpoints == {"ACB": 0.0, "ENC": -100.0, "PV": 100.0, "SLP": 0.0}


def test_status_without_response_or_events() -> None:
    status = parse_sc_status(b'{"nameplate": {}}')
    assert status.events == () and status.setpoints == {} and not status.export_limited


@pytest.mark.parametrize(
    "doc",
    [
        {"events": [{"name": "PEL Active"}]},
        {"events": "PEL Active"},
        {"response": {"groups": [{"id": 7, "setpoint_val": 0}]}},
        {"response": {"groups": [{"id": "ENC", "setpoint_val": "full"}]}},
        {"response": {"groups": [{"id": "ENC", "setpoint_val": 1e9}]}},
        {"response": {"groups": ["ENC"]}},
        {"response": []},
        [],
    ],
)
def test_status_hostile_shapes_fail_as_parse_errors(doc: Any) -> None:
    with pytest.raises(EnvoyParseError):
        parse_sc_status(orjson.dumps(doc))


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from([(parse_sc_sched, SCHED_DOC), (parse_sc_status, STATUS_DOC)]))
def test_mutated_bodies_parse_or_refuse(data: st.DataObject, case: tuple[Any, Any]) -> None:
    parse, doc = case
    parses_or_refuses(parse, data.draw(mutated_json(doc)))


def test_scheduler_mode_labels() -> None:
    assert scheduler_mode("CG - Charge From Grid") is SchedulerMode.CHARGE_FROM_GRID
    assert scheduler_mode("XX - Something New") is SchedulerMode.UNKNOWN
    assert scheduler_mode(None) is SchedulerMode.UNKNOWN


def test_descriptors_carry_what_the_engine_needs() -> None:
    """Owner endpoints in the table, read at a settings-like period, with IQ Batteries on 8.x."""
    for source in (SC_SCHED, SC_STATUS):
        assert SOURCES[source.key] is source and source.role is Role.OWNER
        assert source.period is not None and source.period >= 600
        assert source.probe is not None
        battery = frozenset({Capability.ENCHARGE})
        assert source.probe.applies(Firmware.parse("D8.2.4345"), battery)
        assert not source.probe.applies(Firmware.parse("D7.6.175"), battery)
        assert not source.probe.applies(Firmware.parse("D8.2.4345"), frozenset())
    assert SC_SCHED.path == "/ivp/sc/sched" and SC_STATUS.path == "/ivp/sc/status"

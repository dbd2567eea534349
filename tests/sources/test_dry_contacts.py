"""Dry contacts: state and settings parsers, the joined view, and the write bodies."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enphase_local.engine.joins import join_dry_contacts
from enphase_local.errors import EnvoyParseError
from enphase_local.models.dry_contacts import (
    DryContactAction,
    DryContactMode,
    DryContactSettings,
    DryContactState,
    DryContactType,
)
from enphase_local.sources.dry_contacts import (
    DRY_CONTACT_SETTINGS,
    DRY_CONTACTS,
    SETTABLE_FIELDS,
    dry_contact_settings_body,
    dry_contact_state_body,
    parse_dry_contact_settings,
    parse_dry_contacts,
)
from enphase_local.sources.registry import Cadence, Role, Speed
from tests.fuzz import JSON_LEAF, json_values, mutated_json, parses_or_refuses
from tests.support import REAL, needs_real, real_body, real_cases, real_folders, real_status

STATUS = "ivp_ensemble_dry_contacts"
SETTINGS = "ivp_ss_dry_contact_settings"
IDS = {"NC1", "NC2", "NO1", "NO2"}


def _body(folder: str, name: str) -> bytes:
    body = real_body(folder, name)
    assert body is not None
    return body


def _error_cases(name: str) -> list[str]:
    return [
        f for f in real_folders() if (REAL / f / name).is_file() and real_status(f, name) == 404
    ]


# A contact written for these tests in the gateway's shape (not copied from a capture).
CONTACT: dict[str, Any] = {
    "id": "NO1",
    "type": "LOAD",
    "grid_action": "apply",
    "micro_grid_action": "shed",
    "gen_action": "schedule",
    "essential_start_time": 25200.0,
    "essential_end_time": 61200,
    "priority": 3.0,
    "black_s_start": 5.0,
    "override": "false",
    "manual_override": "true",
    "load_name": "Pool pump",
    "mode": "soc",
    "soc_low": 20.0,
    "soc_high": 80.0,
    "pv_serial_nb": [],
    "future_key": {"kept": [1, 2]},
}
SETTINGS_DOC = {"dry_contacts": [CONTACT, {"id": "NC1", "type": "NONE", "mode": "manual"}]}
STATUS_DOC = {"dry_contacts": [{"id": "NC1", "status": "closed"}, {"id": "NO1", "status": "open"}]}


def _contact(**overrides: Any) -> DryContactSettings:
    contact = {**CONTACT, **overrides}
    return parse_dry_contact_settings(orjson.dumps({"dry_contacts": [contact]}))[contact["id"]]


# --- real captures -----------------------------------------------------------


@needs_real
@pytest.mark.parametrize("folder", real_cases(STATUS))
def test_every_real_status_capture_parses(folder: str) -> None:
    contacts = parse_dry_contacts(_body(folder, STATUS))
    assert set(contacts) == IDS
    for contact_id, contact in contacts.items():
        assert contact.id == contact_id
        assert contact.status in (DryContactState.OPEN, DryContactState.CLOSED)


@needs_real
@pytest.mark.parametrize("folder", real_cases(SETTINGS))
def test_every_real_settings_capture_parses(folder: str) -> None:
    contacts = parse_dry_contact_settings(_body(folder, SETTINGS))
    assert set(contacts) == IDS
    for contact_id, s in contacts.items():
        assert s.id == contact_id == s.raw["id"]
        assert s.type is not DryContactType.UNKNOWN
        assert s.mode in (DryContactMode.MANUAL, DryContactMode.SOC)
        for action in (s.grid_action, s.micro_grid_action, s.gen_action):
            assert action is not DryContactAction.UNKNOWN
        assert s.soc_low is not None and s.soc_high is not None
        assert 0 <= s.soc_low <= s.soc_high <= 100
        assert s.override is not None
        if s.essential_start_time is not None:
            assert 0 <= s.essential_start_time <= 86400
        assert "raw" not in s.to_dict()
        # Every capture's contact can be sent back with one change, all else intact.
        body = dry_contact_settings_body(s, load_name="x")["dry_contacts"]
        assert body == {**s.raw, "load_name": "x"}


@needs_real
def test_generator_site_by_hand() -> None:
    folder = "8.3.5169_with_generator"
    statuses = parse_dry_contacts(_body(folder, STATUS))
    assert [c.status for c in statuses.values()] == [DryContactState.CLOSED] * 4
    contacts = parse_dry_contact_settings(_body(folder, SETTINGS))
    nc1 = contacts["NC1"]
    assert nc1.type is DryContactType.LOAD
    assert nc1.load_name == "AC/Water heater"
    assert nc1.soc_low == 30 and nc1.soc_high == 70
    assert nc1.manual_override is True and nc1.override is True
    assert nc1.grid_action is DryContactAction.APPLY
    assert nc1.micro_grid_action is DryContactAction.SHED
    assert nc1.gen_action is DryContactAction.APPLY
    assert nc1.priority == 1 and nc1.black_s_start == 5
    assert (nc1.essential_start_time, nc1.essential_end_time) == (43200, 57600)
    assert contacts["NC2"].load_name == "Mini split/Range"
    no1 = contacts["NO1"]
    assert no1.type is DryContactType.NONE and no1.override is False and no1.load_name == ""
    joined = join_dry_contacts(statuses, contacts)
    assert list(joined) == ["NC1", "NC2", "NO1", "NO2"]
    assert joined["NC1"].settings is nc1 and joined["NC1"].status is DryContactState.CLOSED


@needs_real
def test_third_party_pv_contact_by_hand() -> None:
    folder = "8.3.5167_3rd-pv"
    contacts = parse_dry_contact_settings(_body(folder, SETTINGS))
    nc1 = contacts["NC1"]
    assert nc1.type is DryContactType.THIRD_PARTY_PV
    assert nc1.to_dict()["type"] == "3RD-PV"
    assert (nc1.soc_low, nc1.soc_high) == (70, 90)
    assert (nc1.essential_start_time, nc1.essential_end_time) == (21600, 82800)
    assert nc1.override is False and nc1.manual_override is True
    assert contacts["NC2"].type is DryContactType.NONE
    statuses = parse_dry_contacts(_body(folder, STATUS))
    assert statuses["NC1"].status is DryContactState.CLOSED
    assert statuses["NC2"].status is DryContactState.OPEN


@needs_real
def test_soc_mode_and_older_firmware_by_hand() -> None:
    contacts = parse_dry_contact_settings(_body("8.1.41", SETTINGS))
    assert contacts["NC1"].mode is DryContactMode.SOC and contacts["NC1"].load_name == "Furnace"
    assert (contacts["NC1"].soc_low, contacts["NC1"].soc_high) == (30, 40)
    assert contacts["NO1"].mode is DryContactMode.MANUAL
    older = parse_dry_contact_settings(_body("7.3.466_metered_disabled_cts", SETTINGS))
    # Firmware 7.3 sends neither manual_override nor times for unconfigured contacts.
    assert older["NC1"].manual_override is None and older["NC1"].essential_start_time is None
    assert older["NC1"].priority is None and older["NC1"].pv_serial_nb == ()


@needs_real
def test_collar_contact_keeps_unmodelled_keys_in_writes() -> None:
    contact = parse_dry_contact_settings(_body("8.3.1598_collar", SETTINGS))["NC1"]
    body = dry_contact_settings_body(contact, mode="soc")["dry_contacts"]
    assert body["safe_state_action"] == "shed"
    assert body["black_start_retries"] == 10000.0 and body["pv_phase_select"] == []
    assert body["mode"] == "soc"


@needs_real
@pytest.mark.parametrize("name", [STATUS, SETTINGS])
def test_old_firmware_error_bodies_raise(name: str) -> None:
    folders = _error_cases(name)
    assert {"3.9.36", "4.10.35", "5.0.62"} <= set(folders)
    parser = parse_dry_contacts if name == STATUS else parse_dry_contact_settings
    for folder in folders:
        with pytest.raises(EnvoyParseError) as info:
            parser(_body(folder, name))
        assert info.value.gateway_error == "404 - Not Found"


# --- hand-made documents -------------------------------------------------------


@pytest.mark.parametrize(
    ("parser", "path"),
    [
        (parse_dry_contacts, "/ivp/ensemble/dry_contacts"),
        (parse_dry_contact_settings, "/ivp/ss/dry_contact_settings"),
    ],
)
def test_error_body_sets_gateway_error(parser: Any, path: str) -> None:
    for body in (b'{ "error" : "404 - Not Found" }', b' { "err": "404 - Not Found" }'):
        with pytest.raises(EnvoyParseError) as info:
            parser(body)
        assert info.value.gateway_error == "404 - Not Found"
        assert info.value.path == path


def test_settings_fields_from_a_hand_made_contact() -> None:
    contacts = parse_dry_contact_settings(orjson.dumps(SETTINGS_DOC))
    s = contacts["NO1"]
    assert s.type is DryContactType.LOAD and s.mode is DryContactMode.SOC
    assert s.gen_action is DryContactAction.SCHEDULE
    assert (s.essential_start_time, s.essential_end_time) == (25200, 61200)
    assert s.priority == 3 and s.override is False and s.manual_override is True
    bare = contacts["NC1"]
    assert bare.grid_action is DryContactAction.UNKNOWN and bare.soc_low is None
    assert bare.load_name == "" and bare.override is None
    assert s.to_dict()["grid_action"] == "apply" and "raw" not in s.to_dict()


def test_type_matches_any_case_and_unknown_values_do_not_crash() -> None:
    assert _contact(type="load").type is DryContactType.LOAD
    assert _contact(type="3rd-pv").type is DryContactType.THIRD_PARTY_PV
    assert _contact(type="EV-CHARGER").type is DryContactType.UNKNOWN
    assert _contact(mode="schedule").mode is DryContactMode.UNKNOWN
    assert _contact(grid_action="toggle").grid_action is DryContactAction.UNKNOWN
    assert _contact(pv_serial_nb=["1221", 1222]).pv_serial_nb == ("1221", "1222")
    assert (
        parse_dry_contacts(b'{"dry_contacts": [{"id": "NC1", "status": "ajar"}]}')["NC1"].status
        is DryContactState.UNKNOWN
    )


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b"[]",
        b'{"dry_contacts": {}}',
        b'{"dry_contacts": [1]}',
        b'{"dry_contacts": [{"status": "open"}]}',
        b'{"dry_contacts": [{"id": 1, "status": "open"}]}',
        b'{"dry_contacts": [{"id": "NC1", "status": 1}]}',
        b'{"dry_contacts": [{"id": "NC1", "status": "open"}, {"id": "NC1", "status": "open"}]}',
    ],
)
def test_bad_status_documents_raise_parse_error(body: bytes) -> None:
    with pytest.raises(EnvoyParseError) as info:
        parse_dry_contacts(body)
    assert info.value.path == "/ivp/ensemble/dry_contacts"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("type", 3),
        ("override", "maybe"),
        ("manual_override", 2),
        ("soc_low", "30"),
        ("priority", 1.5),
        ("essential_start_time", "09:00"),
        ("pv_serial_nb", [None]),
        ("pv_serial_nb", "1221"),
        ("load_name", 7),
    ],
)
def test_wrong_types_raise_parse_error(key: str, value: Any) -> None:
    with pytest.raises(EnvoyParseError) as info:
        _contact(**{key: value})
    assert key in info.value.detail


def test_join_keeps_every_id() -> None:
    statuses = parse_dry_contacts(orjson.dumps(STATUS_DOC))
    only_settings = _contact(id="NO2")
    joined = join_dry_contacts(statuses, {"NO1": _contact(), "NO2": only_settings})
    assert list(joined) == ["NC1", "NO1", "NO2"]
    assert joined["NC1"].settings is None and joined["NC1"].status is DryContactState.CLOSED
    assert joined["NO1"].status is DryContactState.OPEN and joined["NO1"].settings is not None
    assert (
        joined["NO2"].status is DryContactState.UNKNOWN and joined["NO2"].settings is only_settings
    )
    assert joined["NC1"].to_dict() == {"id": "NC1", "status": "closed", "settings": None}
    assert join_dry_contacts({}, {}) == {}


def test_sources_are_declared() -> None:
    assert (DRY_CONTACTS.key, DRY_CONTACTS.path) == ("dry_contacts", "/ivp/ensemble/dry_contacts")
    assert (DRY_CONTACTS.role, DRY_CONTACTS.cadence, DRY_CONTACTS.speed) == (
        Role.OWNER,
        Cadence.REPORT,
        Speed.FAST,
    )
    assert DRY_CONTACTS.parse is parse_dry_contacts
    assert (DRY_CONTACT_SETTINGS.key, DRY_CONTACT_SETTINGS.path) == (
        "dry_contact_settings",
        "/ivp/ss/dry_contact_settings",
    )
    assert (
        DRY_CONTACT_SETTINGS.role,
        DRY_CONTACT_SETTINGS.cadence,
        DRY_CONTACT_SETTINGS.speed,
    ) == (Role.OWNER, Cadence.CONFIG, Speed.FAST)
    assert DRY_CONTACT_SETTINGS.parse is parse_dry_contact_settings


# --- write bodies ----------------------------------------------------------------


def test_settings_body_changes_only_the_given_fields() -> None:
    s = _contact()
    before = copy.deepcopy(dict(s.raw))
    body = dry_contact_settings_body(
        s,
        type=DryContactType.THIRD_PARTY_PV,
        grid_action="SHED",
        mode=DryContactMode.MANUAL,
        override=True,
        soc_low=10,
        priority=2,
        essential_end_time=3600,
        pv_serial_nb=("482208990001",),
    )
    assert list(body) == ["dry_contacts"]
    expected = {
        **before,
        "type": "3RD-PV",
        "grid_action": "shed",
        "mode": "manual",
        "override": "true",
        "soc_low": 10.0,
        "priority": 2.0,
        "essential_end_time": 3600,  # the gateway sent this one as an int: so do we
        "pv_serial_nb": ["482208990001"],
    }
    assert body["dry_contacts"] == expected
    assert isinstance(body["dry_contacts"]["soc_low"], float)
    assert dict(s.raw) == before  # the model's raw contact is not touched
    body["dry_contacts"]["future_key"]["kept"].append(3)
    assert s.raw["future_key"] == {"kept": [1, 2]}  # a deep copy


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({}, "no setting to change"),
        ({"colour": "red"}, "unknown dry contact setting colour"),
        ({"id": "NC2"}, "unknown dry contact setting id"),
        ({"raw": {}}, "unknown dry contact setting raw"),
        ({"type": "GENERATOR"}, "type must be one of"),
        ({"type": DryContactType.UNKNOWN}, "type must be one of"),
        ({"grid_action": "toggle"}, "grid_action must be one of"),
        ({"gen_action": None}, "gen_action must be one of"),
        ({"micro_grid_action": DryContactAction.UNKNOWN}, "micro_grid_action must be one of"),
        ({"mode": "auto"}, "mode must be one of"),
        ({"soc_low": -1}, "soc_low must be 0 to 100"),
        ({"soc_high": 101}, "soc_high must be 0 to 100"),
        ({"soc_high": float("nan")}, "soc_high must be a finite number"),
        ({"soc_low": True}, "soc_low must be a finite number"),
        ({"soc_low": "30"}, "soc_low must be a finite number"),
        ({"soc_low": 90}, "soc_low (90) must not be above soc_high (80)"),
        ({"soc_high": 10}, "soc_low (20) must not be above soc_high (10)"),
        ({"soc_low": 60, "soc_high": 50}, "must not be above"),
        ({"soc_low": 80.5}, "soc_low (80.5) must not be above soc_high (80)"),
        ({"override": "true"}, "override must be True or False"),
        ({"manual_override": 1}, "manual_override must be True or False"),
        ({"load_name": None}, "load_name must be a string"),
        ({"priority": 0}, "priority must be at least 1"),
        ({"priority": 1.0}, "priority must be an integer"),
        ({"essential_start_time": 86401}, "essential_start_time must be 0 to 86400"),
        ({"essential_end_time": -5}, "essential_end_time must be 0 to 86400"),
        ({"black_s_start": float("inf")}, "black_s_start must be a finite number"),
        ({"pv_serial_nb": "1221"}, "pv_serial_nb must be a list"),
        ({"pv_serial_nb": [1221]}, "pv_serial_nb must hold serial numbers"),
        ({"pv_serial_nb": [""]}, "pv_serial_nb must hold serial numbers"),
        ({"pv_serial_nb": ["1" * 21]}, "pv_serial_nb must hold serial numbers"),
        ({"pv_serial_nb": ["4822 0899"]}, "pv_serial_nb must hold serial numbers"),
        ({"pv_serial_nb": ["1"] * 1001}, "pv_serial_nb lists 1001 serials"),
        # issue 30: a 10,000-character load name was sent to the gateway
        (
            {"load_name": "x" * 10_000},
            "load_name is 10000 characters; the gateway takes at most 32",
        ),
        ({"load_name": "x" * 33}, "load_name is 33 characters"),
        ({"load_name": "Pool\npump"}, "has characters the gateway may not store"),
        ({"load_name": 'Pool "pump"'}, "has characters the gateway may not store"),
        ({"load_name": "<script>"}, "has characters the gateway may not store"),
        ({"load_name": "Pool\x00"}, "has characters the gateway may not store"),
    ],
)
def test_settings_body_refuses_bad_changes(changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        dry_contact_settings_body(_contact(), **changes)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "name", ["", "AC/Water heater", "Mini split/Range", "x" * 32, "No. 2 (pool)"]
)
def test_load_names_like_the_real_ones_are_sent(name: str) -> None:
    assert (
        dry_contact_settings_body(_contact(), load_name=name)["dry_contacts"]["load_name"] == name
    )


@pytest.mark.parametrize("contact_id", ["", "NC1 ", "N" * 9, "NC1;rm", None])
def test_state_body_refuses_odd_contact_ids(contact_id: Any) -> None:
    with pytest.raises(ValueError, match="contact id must be a short name"):
        dry_contact_state_body(contact_id, "open")


def test_refusal_messages_do_not_echo_a_huge_value() -> None:
    with pytest.raises(ValueError) as info:
        dry_contact_settings_body(_contact(), pv_serial_nb=["x" * 10_000])
    assert len(str(info.value)) < 200


def test_equal_soc_thresholds_are_allowed() -> None:
    contact = dry_contact_settings_body(_contact(), soc_low=80)["dry_contacts"]
    assert (contact["soc_low"], contact["soc_high"]) == (80.0, 80.0)


def test_settable_fields_are_the_model_fields_minus_id_and_raw() -> None:
    names = {f.name for f in dataclasses.fields(DryContactSettings)}
    assert names - {"id", "raw"} == SETTABLE_FIELDS


def test_state_body() -> None:
    assert dry_contact_state_body("NC1", "open") == {
        "dry_contacts": {"id": "NC1", "status": "open"}
    }
    assert dry_contact_state_body("NO2", DryContactState.CLOSED) == {
        "dry_contacts": {"id": "NO2", "status": "closed"}
    }
    for bad_id, status in (("", "open"), ("NC1", "unknown"), ("NC1", "ajar"), ("NC1", None)):
        with pytest.raises(ValueError):
            dry_contact_state_body(bad_id, status)  # type: ignore[arg-type]


# --- properties --------------------------------------------------------------------

JSON = json_values(
    JSON_LEAF | st.sampled_from(["NC1", "open", "LOAD", "true", "manual", "3RD-PV", ""]),
    st.sampled_from(["dry_contacts", "id", "status", "type", "soc_low", "error", "x"]),
)
PARSERS = [parse_dry_contacts, parse_dry_contact_settings]


def _refused_or_plain_json(parser: Any, body: bytes) -> None:
    result = parses_or_refuses(parser, body)
    for value in (result or {}).values():
        orjson.dumps(value.to_dict())  # whatever parsed is plain JSON


@settings(deadline=None)
@given(st.sampled_from(PARSERS), st.binary(max_size=200))
def test_random_bytes_raise_only_parse_errors(parser: Any, body: bytes) -> None:
    _refused_or_plain_json(parser, body)


@settings(deadline=None)
@given(st.sampled_from(PARSERS), JSON)
def test_random_json_raises_only_parse_errors(parser: Any, doc: Any) -> None:
    _refused_or_plain_json(parser, orjson.dumps(doc))


@settings(deadline=None)
@given(st.data())
def test_mutated_documents_raise_only_parse_errors(data: st.DataObject) -> None:
    parser, doc = data.draw(
        st.sampled_from(
            [(parse_dry_contacts, STATUS_DOC), (parse_dry_contact_settings, SETTINGS_DOC)]
        )
    )
    body = data.draw(mutated_json(doc, JSON))
    _refused_or_plain_json(parser, body)
    _refused_or_plain_json(parser, body[: data.draw(st.integers(0, len(body)))])


PERCENT = st.floats(min_value=0, max_value=100) | st.integers(0, 100)


@settings(deadline=None)
@given(PERCENT, PERCENT, st.sampled_from(list(SETTABLE_FIELDS - {"soc_low", "soc_high"})))
def test_soc_thresholds_in_range_give_a_body(low: float, high: float, untouched: str) -> None:
    s = _contact()
    if low > high:
        with pytest.raises(ValueError, match="must not be above"):
            dry_contact_settings_body(s, soc_low=low, soc_high=high)
        return
    contact = dry_contact_settings_body(s, soc_low=low, soc_high=high)["dry_contacts"]
    assert (contact["soc_low"], contact["soc_high"]) == (float(low), float(high))
    assert contact[untouched] == s.raw[untouched]
    assert contact["id"] == "NO1"
    orjson.dumps(contact)


@settings(deadline=None)
@given(
    st.sampled_from(["type", "grid_action", "micro_grid_action", "gen_action", "mode"]),
    st.text(max_size=10),
)
def test_enum_settings_accept_only_known_values(name: str, value: str) -> None:
    allowed = {
        "type": {"NONE", "PV", "LOAD", "3RD-PV"},
        "mode": {"manual", "soc"},
    }.get(name, {"apply", "shed", "schedule", "none"})
    spelled = value.upper() if name == "type" else value.lower()
    if spelled in allowed:
        assert (
            dry_contact_settings_body(_contact(), **{name: value})["dry_contacts"][name] == spelled
        )
    else:
        with pytest.raises(ValueError, match=f"{name} must be one of"):
            dry_contact_settings_body(_contact(), **{name: value})

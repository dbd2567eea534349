"""Microinverters: the basic v1 report and the detailed device data, in real units."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enphase_local.errors import EnvoyParseError
from enphase_local.models.inverters import DeviceData, InverterDetail
from enphase_local.sources._json import _SAFETY_NET as SAFETY_NET
from enphase_local.sources._json import ShapeError, as_obj
from enphase_local.sources.inverters import (
    DEVICE_DATA,
    INVERTERS_V1,
    _detail,
    _plain_detail,
    parse_device_data,
    parse_inverters_v1,
)
from enphase_local.sources.registry import Cadence, Role, Speed
from tests.fuzz import mutated_json, parses_or_refuses
from tests.hypothesis_profile import examples
from tests.support import needs_real, needs_seed, real_body, real_cases, seed_example

FIELDS = [f.name for f in dataclasses.fields(InverterDetail)]
V1 = "api_v1_production_inverters"
DEVICE = "ivp_pdm_device_data"


def _body(folder: str, name: str) -> bytes:
    body = real_body(folder, name)
    assert body is not None, f"{folder}/{name} is missing"
    return body


def _pcu(serial: str, *, end: int = 1748576887, **flags: Any) -> dict[str, Any]:
    """A microinverter entry shaped like the seed's, with round raw values."""
    return {
        "devName": "pcu",
        "sn": serial,
        "active": True,
        "modGone": False,
        **flags,
        "channels": [
            {
                "chanEid": 1,
                "created": end,
                "wattHours": {"today": 100, "yesterday": 200, "week": 1400},
                "watts": {"now": 250, "nowUsed": 0, "max": 300},
                "lastReading": {
                    "endDate": end,
                    "duration": 900,
                    "joulesProduced": 225000,
                    "acVoltageINmV": 230000,
                    "acFrequencyINmHz": 50000,
                    "dcVoltageINmV": 40000,
                    "dcCurrentINmA": 6500,
                    "channelTemp": 25,
                    "acCurrentInmA": 1100,
                },
                "lifetime": {"joulesProduced": 36000000},
            }
        ],
    }


# --- seed: values read by hand from ../shared/seed/endpoint_json.txt ----------------------


@needs_seed
def test_seed_v1_inverters() -> None:
    inverters = parse_inverters_v1(seed_example("/api/v1/production/inverters"))
    assert list(inverters) == ["202020202020", "202020202021"]
    first = inverters["202020202020"]
    assert first.serial == "202020202020" and first.dev_type == 1
    assert (first.watts, first.max_watts, first.last_report) == (255, 371, 1748576887)
    second = inverters["202020202021"]
    assert (second.watts, second.max_watts, second.last_report) == (78, 309, 1748576917)


@needs_seed
def test_seed_device_data() -> None:
    data = parse_device_data(seed_example("/ivp/pdm/device_data"))
    assert (data.device_count, data.device_data_limit) == (2, 50)
    assert list(data.inverters) == ["202020202020", "202020202021"]
    inv = data.inverters["202020202020"]
    assert inv.serial == "202020202020" and inv.eid == "553648384"
    assert (inv.watts, inv.max_watts) == (255, 371)
    assert inv.last_report == 1748576887 and inv.report_duration_s == 903
    assert inv.wh_last_report == pytest.approx(230400 / 3600)
    assert inv.dc_volts == pytest.approx(32.363) and inv.dc_amps == pytest.approx(8.078)
    assert inv.ac_volts == pytest.approx(248.156) and inv.ac_amps == pytest.approx(1.049)
    assert inv.hz == pytest.approx(50.013) and inv.temperature_c == 38
    assert (inv.wh_today, inv.wh_yesterday, inv.wh_last_7_days) == (1239, 455, 7466)
    assert inv.wh_lifetime == pytest.approx(354281850 / 3600)
    assert (inv.rssi, inv.issi) == (110, 68)
    other = data.inverters["202020202021"]
    assert other.dc_volts == pytest.approx(31.684) and other.temperature_c == 30
    assert other.wh_lifetime == pytest.approx(259647525 / 3600) and other.issi == 70
    plain = data.to_dict()
    assert plain["inverters"]["202020202020"]["hz"] == pytest.approx(50.013)
    assert json.loads(json.dumps(plain)) == plain


def test_covers_compares_with_the_limit() -> None:
    data = DeviceData(inverters={}, device_count=0, device_data_limit=50)
    assert data.covers(0) and data.covers(17) and data.covers(50)
    assert not data.covers(51)
    assert not DeviceData(inverters={}, device_count=0, device_data_limit=10).covers(11)


# --- real captures -----------------------------------------------------------------------


@needs_real
@pytest.mark.parametrize("folder", real_cases(V1))
def test_every_real_v1_capture_parses(folder: str) -> None:
    raw = json.loads(_body(folder, V1))
    inverters = parse_inverters_v1(_body(folder, V1))
    assert len(inverters) == len(raw) > 0
    for serial, inv in inverters.items():
        assert serial == inv.serial and len(serial) == 12 and serial.isdigit()
        assert 0 <= inv.watts <= inv.max_watts <= 2000
        assert inv.last_report > 1_500_000_000
        assert inv.dev_type is None or inv.dev_type > 0


@needs_real
def test_firmware_3_has_no_dev_type() -> None:
    inverters = parse_inverters_v1(_body("3.9.36", V1))
    assert len(inverters) == 12
    first = inverters["121547058993"]
    assert (first.watts, first.max_watts, first.last_report) == (138, 231, 1618083961)
    assert first.dev_type is None


@needs_real
@pytest.mark.parametrize("folder", real_cases(DEVICE))
def test_every_real_device_data_capture_parses(folder: str) -> None:
    raw = json.loads(_body(folder, DEVICE))
    data = parse_device_data(_body(folder, DEVICE))
    pcus = [v["sn"] for v in raw.values() if isinstance(v, dict) and v["devName"] == "pcu"]
    assert sorted(data.inverters) == sorted(pcus)
    assert data.device_count == raw["deviceCount"] > len(data.inverters)  # eim entries count
    assert data.device_data_limit == 50 and data.covers(len(data.inverters))
    for serial, inv in data.inverters.items():
        assert len(serial) == 12 and serial.isdigit() and inv.eid.isdigit()
        assert 0 <= inv.watts <= inv.max_watts <= 2000
        assert 90 <= inv.ac_volts <= 280 and 45 <= inv.hz <= 65
        assert 0 < inv.dc_volts < 80 and 0 <= inv.dc_amps < 20 and 0 <= inv.ac_amps < 10
        assert -40 <= inv.temperature_c <= 100
        assert 0 <= inv.wh_today <= inv.wh_last_7_days <= inv.wh_lifetime
        assert 0 <= inv.wh_last_report <= inv.watts * inv.report_duration_s / 3600 * 1.5 + 1
        assert 600 <= inv.report_duration_s <= 1200
        assert inv.rssi is not None and inv.issi is not None


@needs_real
@pytest.mark.parametrize("folder", sorted(set(real_cases(DEVICE)) & set(real_cases(V1))))
def test_device_data_agrees_with_v1(folder: str) -> None:
    data = parse_device_data(_body(folder, DEVICE))
    basic = parse_inverters_v1(_body(folder, V1))
    assert set(data.inverters) == set(basic)
    for serial, inv in data.inverters.items():
        if basic[serial].last_report == inv.last_report:
            assert basic[serial].watts == inv.watts


@needs_real
def test_device_data_by_hand() -> None:
    data = parse_device_data(_body("8.3.5169_with_generator", DEVICE))
    assert len(data.inverters) == 20 and data.device_count == 22
    assert "704643328" not in {i.eid for i in data.inverters.values()}  # the eim entry
    inv = data.inverters["482208990001"]
    assert inv.eid == "553648384" and inv.watts == 136 and inv.max_watts == 297
    assert inv.ac_volts == pytest.approx(248.875) and inv.hz == pytest.approx(59.988)
    assert inv.dc_volts == pytest.approx(40.352) and inv.dc_amps == pytest.approx(3.707)
    assert inv.ac_amps == pytest.approx(0.582) and inv.temperature_c == 32
    assert inv.wh_last_report == pytest.approx(123750 / 3600)
    assert inv.wh_lifetime == pytest.approx(2011819050 / 3600)
    assert (inv.wh_today, inv.wh_yesterday, inv.wh_last_7_days) == (145, 929, 10467)


# --- hand-made documents -------------------------------------------------------------------


def test_removed_and_inactive_inverters_are_dropped() -> None:
    """8.3.5289 keeps removed inverters in device_data: they read ``active: false``."""
    doc = {
        "553648384": _pcu("100000000001"),
        "553648896": _pcu("100000000003", active=False),
        "553649152": _pcu("100000000004", active=True, modGone=False),
        "553649408": _pcu("100000000007", active=False, modGone=True),
        "704643328": {**_pcu("100000000005EIM1"), "devName": "eim", "modGone": True},
        "704643584": {**_pcu("100000000006"), "devName": "nsrb"},
        "deviceCount": 6,
        "deviceDataLimit": 50,
    }
    data = parse_device_data(orjson.dumps(doc))
    assert list(data.inverters) == ["100000000001", "100000000004"]
    assert data.device_count == 6
    inv = data.inverters["100000000001"]
    assert inv.wh_last_report == 62.5 and inv.wh_lifetime == 10000.0
    assert (inv.dc_volts, inv.dc_amps, inv.ac_volts, inv.ac_amps) == (40.0, 6.5, 230.0, 1.1)
    assert inv.hz == 50.0 and inv.rssi is None and inv.issi is None


@needs_real
def test_mod_gone_but_active_inverters_keep_their_details() -> None:
    """Issue 12 case 3: working units flagged ``modGone: true`` with ``active: true`` stay.

    The real 8.3.5169 device_data with every microinverter's modGone set (as on
    8.3 with AC Batteries and on IQ7+): all of them are kept with their values.
    """
    raw = json.loads(_body("8.3.5169_with_generator", DEVICE))
    pcus = {k: v for k, v in raw.items() if isinstance(v, dict) and v["devName"] == "pcu"}
    for entry in pcus.values():
        entry["modGone"] = True
    data = parse_device_data(orjson.dumps(raw))
    assert sorted(data.inverters) == sorted(v["sn"] for v in pcus.values())
    eid, first = next(iter(pcus.items()))
    detail = data.inverters[first["sn"]]
    assert detail.eid == eid
    assert detail.watts == first["channels"][0]["watts"]["now"]
    assert detail.ac_volts == first["channels"][0]["lastReading"]["acVoltageINmV"] / 1000


def test_counters_are_not_devices() -> None:
    data = parse_device_data(b'{"deviceCount": 0, "deviceDataLimit": 50}')
    assert data.inverters == {} and data.device_count == 0 and data.device_data_limit == 50
    data = parse_device_data(orjson.dumps({"1": _pcu("100000000001"), "newCounter": 3}))
    assert list(data.inverters) == ["100000000001"]
    assert data.device_count == 1 and data.device_data_limit == 50  # defaults when absent


def test_device_name_is_matched_in_any_case_and_flags_as_text() -> None:
    doc = {"1": {**_pcu("100000000001"), "devName": "PCU", "active": "true", "modGone": 0}}
    assert list(parse_device_data(orjson.dumps(doc)).inverters) == ["100000000001"]


def test_duplicate_serial_keeps_the_latest_report() -> None:
    doc = {"1": _pcu("100000000001", end=2000), "2": _pcu("100000000001", end=1000)}
    data = parse_device_data(orjson.dumps(doc))
    assert data.inverters["100000000001"].eid == "1"
    v1 = [
        {"serialNumber": "1", "lastReportDate": 5, "lastReportWatts": 1, "maxReportWatts": 9},
        {"serialNumber": "1", "lastReportDate": 7, "lastReportWatts": 2, "maxReportWatts": 9},
    ]
    assert parse_inverters_v1(orjson.dumps(v1))["1"].watts == 2


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>401</html>",
        b'{"error": "404 - Not Found"}',
        b"[]",
        b'{"553648384": 5}',
        b'{"553648384": {"devName": "pcu", "sn": "1", "channels": []}}',
        b'{"553648384": {"devName": 3}}',
        b'{"deviceCount": "2"}',
    ],
)
def test_bad_device_data_raises(body: bytes) -> None:
    with pytest.raises(EnvoyParseError) as info:
        parse_device_data(body)
    assert info.value.path == "/ivp/pdm/device_data"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("sn",), 100000000001),
        (("modGone",), "maybe"),
        (("channels", 0, "watts", "now"), "255"),
        (("channels", 0, "lastReading", "dcVoltageINmV"), None),
        (("channels", 0, "lastReading", "rssi"), "strong"),
        (("channels", 0, "lifetime"), []),
        (("channels", 0, "wattHours", "week"), True),
    ],
)
def test_wrong_device_fields_raise(path: tuple[Any, ...], value: Any) -> None:
    dev = _pcu("100000000001")
    node = dev
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    with pytest.raises(EnvoyParseError):
        parse_device_data(orjson.dumps({"1": dev}))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{}",
        b"[1]",
        b'[{"serialNumber": 1, "lastReportDate": 1, "lastReportWatts": 1, "maxReportWatts": 1}]',
        b'[{"serialNumber": "1", "lastReportDate": 1, "lastReportWatts": "1",'
        b' "maxReportWatts": 1}]',
        b'[{"serialNumber": "1", "lastReportWatts": 1, "maxReportWatts": 1}]',
        b'[{"serialNumber": "1", "lastReportDate": 1, "lastReportWatts": 1, "maxReportWatts": 1,'
        b' "devType": "x"}]',
    ],
)
def test_bad_v1_bodies_raise(body: bytes) -> None:
    with pytest.raises(EnvoyParseError) as info:
        parse_inverters_v1(body)
    assert info.value.path == "/api/v1/production/inverters"


def test_sources() -> None:
    assert (INVERTERS_V1.key, INVERTERS_V1.path) == (
        "inverters_v1",
        "/api/v1/production/inverters",
    )
    assert INVERTERS_V1.parse is parse_inverters_v1
    assert (INVERTERS_V1.role, INVERTERS_V1.cadence, INVERTERS_V1.speed) == (
        Role.OWNER,
        Cadence.REPORT,
        Speed.FAST,
    )
    assert (DEVICE_DATA.key, DEVICE_DATA.path) == ("device_data", "/ivp/pdm/device_data")
    assert DEVICE_DATA.parse is parse_device_data
    assert (DEVICE_DATA.role, DEVICE_DATA.cadence, DEVICE_DATA.speed) == (
        Role.OWNER,
        Cadence.REPORT,
        Speed.FAST,
    )


# --- properties: nothing but EnvoyParseError escapes ---------------------------------------

PARSERS: list[Callable[[bytes], Any]] = [parse_inverters_v1, parse_device_data]
FUZZ = settings(
    max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
HAND_DOCS: dict[Callable[[bytes], Any], Any] = {
    parse_inverters_v1: [
        {
            "serialNumber": "1",
            "lastReportDate": 5,
            "devType": 1,
            "lastReportWatts": 1,
            "maxReportWatts": 9,
        }
    ],
    parse_device_data: {"1": _pcu("100000000001"), "deviceCount": 1, "deviceDataLimit": 50},
}


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize("parser", PARSERS)
def test_mutated_documents_raise_only_parse_errors(
    parser: Callable[[bytes], Any], data: st.DataObject
) -> None:
    parses_or_refuses(parser, data.draw(mutated_json(HAND_DOCS[parser], max_changes=4)))


@needs_seed
@FUZZ
@given(data=st.data())
@pytest.mark.parametrize(
    ("parser", "source"),
    [
        (parse_inverters_v1, "/api/v1/production/inverters"),
        (parse_device_data, "/ivp/pdm/device_data"),
    ],
)
def test_mutated_seed_documents_raise_only_parse_errors(
    parser: Callable[[bytes], Any], source: str, data: st.DataObject
) -> None:
    doc = orjson.loads(seed_example(source))
    parses_or_refuses(parser, data.draw(mutated_json(doc, max_changes=4)))


# --- the fast path of device_data reads what the checked path reads ------------------------


def _types(model: Any) -> list[type]:
    return [type(getattr(model, name)) for name in FIELDS]


def _both_ways(eid: str, dev: dict[str, Any]) -> tuple[Any, Any]:
    """(fast path result or None, checked result or the ShapeError it raises)."""
    fast = _plain_detail(eid, dev)
    try:
        checked: Any = _detail(eid, as_obj(dev))
    except (ShapeError, *SAFETY_NET) as err:
        checked = err
    return fast, checked


@needs_real
@pytest.mark.parametrize("folder", real_cases(DEVICE))
def test_fast_path_equals_checked_path_on_real_devices(folder: str) -> None:
    doc = orjson.loads(_body(folder, DEVICE))
    pcus = [(k, v) for k, v in doc.items() if isinstance(v, dict) and v.get("devName") == "pcu"]
    assert pcus
    for eid, dev in pcus:
        fast, checked = _both_ways(eid, dev)
        assert fast is not None, f"{folder} {eid}: an ordinary device missed the fast path"
        assert fast == checked
        assert _types(fast) == _types(checked)


@FUZZ
@given(data=st.data())
def test_fast_path_never_disagrees_with_the_checked_path(data: st.DataObject) -> None:
    """Whatever a mutated device holds, the fast path gives the checked path's model or
    steps aside (None): it never accepts what the checked path refuses."""
    dev = orjson.loads(data.draw(mutated_json(_pcu("100000000001"), max_changes=3)))
    if not isinstance(dev, dict):
        return
    fast, checked = _both_ways("1", dev)
    if fast is not None:
        assert fast == checked
        assert _types(fast) == _types(checked)


def test_fast_path_steps_aside_for_what_it_does_not_check() -> None:
    for changes in ({"active": 1}, {"modGone": "false"}, {"devName": "PCU"}):
        dev = _pcu("100000000001", **changes)
        assert parse_device_data(orjson.dumps({"1": dev})).inverters  # the checked path reads it
    integral = _pcu("100000000001")
    integral["channels"][0]["lastReading"]["duration"] = 900.0  # an integral float
    assert _plain_detail("1", integral) is None
    assert _detail("1", as_obj(integral)).report_duration_s == 900
    huge = _pcu("100000000001")
    huge["channels"][0]["lastReading"]["rssi"] = 2**63
    assert _plain_detail("1", huge) is None
    with pytest.raises(EnvoyParseError, match="rssi"):
        parse_device_data(orjson.dumps({"1": huge}))


@needs_real
@pytest.mark.parametrize("folder", real_cases(V1))
def test_v1_fast_path_equals_checked_path(folder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    body = _body(folder, V1)
    fast = parse_inverters_v1(body)
    monkeypatch.setattr("enphase_local.sources.inverters._plain_inverter", lambda inv: None)
    checked = parse_inverters_v1(body)
    assert fast == checked
    assert [type(i.watts) for i in fast.values()] == [type(i.watts) for i in checked.values()]


@FUZZ
@given(data=st.data())
def test_v1_fast_path_never_disagrees(data: st.DataObject) -> None:
    entry = {"serialNumber": "1", "lastReportDate": 5, "lastReportWatts": 2, "maxReportWatts": 3}
    body = data.draw(mutated_json([entry, dict(entry, devType=1)], max_changes=3))
    try:
        fast: Any = parse_inverters_v1(body)
    except EnvoyParseError as err:
        fast = str(err)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("enphase_local.sources.inverters._plain_inverter", lambda inv: None)
        try:
            checked: Any = parse_inverters_v1(body)
        except EnvoyParseError as err:
            checked = str(err)
    assert fast == checked

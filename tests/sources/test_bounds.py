"""Plausibility bounds: an impossible value refuses the answer (issue 11), real captures pass."""

from __future__ import annotations

import json
from typing import Any

import pytest

from enphase_local.errors import EnvoyParseError
from enphase_local.sources.bounds import LIFETIME_WH, POWER_W, ImplausibleValue, check
from enphase_local.sources.inverters import parse_device_data
from enphase_local.sources.meters import parse_meter_readings
from enphase_local.sources.production import parse_production_json, parse_production_v1
from tests.support import needs_real, real_body

METERED = "8.2.127_with_3cts_and_battery_split"
DEVICE_DATA = "8.2.4345_with_device_data"


def _body(folder: str, name: str) -> Any:
    body = real_body(folder, name)
    assert body is not None
    return json.loads(body)


def _eim_production(doc: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in doc["production"] if e["type"] == "eim")


@needs_real
@pytest.mark.parametrize("watts", [-1.2e11, 1e300])
def test_absurd_production_power_is_a_parse_error(watts: float) -> None:
    doc = _body(METERED, "production.json")
    _eim_production(doc)["wNow"] = watts
    with pytest.raises(EnvoyParseError, match="plausible site power"):
        parse_production_json(json.dumps(doc).encode())


@needs_real
def test_negative_production_lifetime_is_refused_net_may_be_negative() -> None:
    doc = _body(METERED, "production.json")
    net = next(e for e in doc["consumption"] if e["measurementType"] == "net-consumption")
    net["whLifetime"] = -250_000.0  # a site that exported more than it imported
    assert parse_production_json(json.dumps(doc).encode()).net_consumption is not None
    _eim_production(doc)["whLifetime"] = -5.0
    with pytest.raises(EnvoyParseError, match="lifetime energy"):
        parse_production_json(json.dumps(doc).encode())


def test_v1_with_an_impossible_lifetime_is_refused() -> None:
    body = {
        "wattsNow": 1000,
        "wattHoursToday": 1000,
        "wattHoursSevenDays": 9000,
        "wattHoursLifetime": 3e15,
    }
    with pytest.raises(EnvoyParseError):
        parse_production_v1(json.dumps(body).encode())


@needs_real
def test_absurd_ct_power_is_a_parse_error() -> None:
    doc = _body(METERED, "ivp_meters_readings")
    doc[0]["channels"][1]["activePower"] = 1e300
    with pytest.raises(EnvoyParseError, match=r"channels\[1\]\.activePower"):
        parse_meter_readings(json.dumps(doc).encode())


def test_check_refuses_non_finite_values() -> None:
    for value in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ImplausibleValue):
            check(value, POWER_W, "x")
    check(None, LIFETIME_WH, "x")
    check(0.0, LIFETIME_WH, "x")


@needs_real
def test_one_malformed_device_data_entry_is_skipped_the_rest_kept() -> None:
    """Old code failed the whole source on one bad entry."""
    doc = _body(DEVICE_DATA, "ivp_pdm_device_data")
    whole = parse_device_data(json.dumps(doc).encode())
    pcus = [k for k, v in doc.items() if isinstance(v, dict) and v.get("devName") == "pcu"]
    del doc[pcus[0]]["channels"][0]["watts"]
    doc[pcus[1]]["channels"][0]["lifetime"]["joulesProduced"] = -1e20
    parsed = parse_device_data(json.dumps(doc).encode())
    assert len(parsed.inverters) == len(whole.inverters) - 2
    assert len(parsed.skipped) == 2 and any("watts" in s for s in parsed.skipped)


def test_device_data_with_no_readable_entry_is_still_an_error() -> None:
    body = {"1": {"devName": "pcu", "sn": "1", "channels": [{}]}, "deviceCount": 1}
    with pytest.raises(EnvoyParseError):
        parse_device_data(json.dumps(body).encode())

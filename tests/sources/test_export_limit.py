"""``/ivp/ss/dpel`` and the production switch: the documented bodies, edge cases, fuzzing.

The example bodies are read from ../shared/docs/cloud.md (section 2), where
the field captures are quoted; the values asserted were read there by hand.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from hypothesis import given, settings

from enphase_local.errors import EnvoyParseError
from enphase_local.models.export_limit import LimitMode
from enphase_local.sources.export_limit import (
    dpel_disable_body,
    dpel_enable_body,
    parse_dpel,
    parse_production_power,
    production_power_body,
)
from tests.fuzz import mutated_json, parses_or_refuses
from tests.support import SHARED

CLOUD_MD = SHARED / "docs" / "cloud.md"
needs_docs = pytest.mark.skipif(not CLOUD_MD.is_file(), reason="../shared/docs is absent")


def _documented(start: str) -> bytes:
    """The first JSON object in cloud.md that starts with `start` (balanced braces)."""
    text = CLOUD_MD.read_text()
    at = text.index(start)
    depth = 0
    for i, char in enumerate(text[at:], at):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return text[at : i + 1].encode()
    raise AssertionError(f"unbalanced {start!r} in cloud.md")


@needs_docs
def test_the_documented_dpel_read() -> None:
    dpel = parse_dpel(_documented('{"dynamic_pel_settings":{"enable":true'))
    assert dpel.enabled is True
    assert dpel.mode is LimitMode.EXPORT  # export_limit: true
    assert dpel.limit_watts == 50.0
    assert dpel.slew_rate == 50.0
    assert dpel.dynamic is False
    assert (dpel.filename, dpel.version) == ("site_settings", "00.00.01")


@needs_docs
def test_the_documented_older_firmware_404_body_is_a_gateway_error() -> None:
    body = re.search(rb'\{"err":"404 - Not Found"\}', CLOUD_MD.read_bytes())
    assert body is not None
    with pytest.raises(EnvoyParseError) as caught:
        parse_dpel(body.group(0))
    assert caught.value.gateway_error == "404 - Not Found"


@needs_docs
def test_the_documented_production_switch_reads() -> None:
    power = parse_production_power(_documented('{"powerForcedOff":false'))
    assert (power.forced_off, power.pv_forced_off, power.battery_forced_off) == (
        False,
        False,
        False,
    )
    older = parse_production_power(b'{"powerForcedOff": true}')
    assert older.forced_off is True and older.pv_forced_off is None


@needs_docs
def test_a_per_inverter_eid_refusal_is_a_gateway_error() -> None:
    body = re.search(rb'\{"error":"power mode get: [^"]*"\}', CLOUD_MD.read_bytes())
    assert body is not None
    with pytest.raises(EnvoyParseError) as caught:
        parse_production_power(body.group(0))
    assert caught.value.gateway_error is not None and "not valid" in caught.value.gateway_error


def test_a_disabled_limit_may_be_just_enable_false() -> None:
    dpel = parse_dpel(b'{"dynamic_pel_settings": {"enable": false}}')
    assert dpel.enabled is False
    assert dpel.mode is None and dpel.limit_watts is None and dpel.filename is None


def test_production_mode_and_numbers_as_strings() -> None:
    body = {"dynamic_pel_settings": {"enable": 1, "export_limit": False, "limit_value_W": "1500"}}
    dpel = parse_dpel(orjson.dumps(body))
    assert dpel.enabled is True and dpel.mode is LimitMode.PRODUCTION
    assert dpel.limit_watts == 1500.0
    na = parse_dpel(b'{"dynamic_pel_settings": {"enable": true, "slew_rate": "N/A"}}')
    assert na.slew_rate is None


@pytest.mark.parametrize(
    "body",
    [
        b'{"dynamic_pel_settings": {"enable": "maybe"}}',
        b'{"dynamic_pel_settings": {"enable": true, "limit_value_W": "lots"}}',
        b'{"dynamic_pel_settings": {"enable": true, "limit_value_W": "nan"}}',
        b'{"dynamic_pel_settings": []}',
        b'{"filename": "site_settings", "version": "1", "other": 1}',
        b"[]",
        b"<html><body>401</body></html>",
    ],
)
def test_wrong_shapes_are_parse_errors(body: bytes) -> None:
    with pytest.raises(EnvoyParseError):
        parse_dpel(body)


def test_write_bodies_are_the_documented_ones() -> None:
    """cloud.md: limit = full settings with enable_dynamic_limiting false; off = enable false."""
    on = dpel_enable_body(0, export=True, slew_rate=50)
    assert on == {
        "dynamic_pel_settings": {
            "enable": True,
            "export_limit": True,
            "limit_value_W": 0.0,
            "slew_rate": 50.0,
            "enable_dynamic_limiting": False,
        },
        "filename": "site_settings",
        "version": "00.00.01",
    }
    assert (
        dpel_enable_body(800, export=False, slew_rate=10)["dynamic_pel_settings"]["export_limit"]
        is False
    )
    assert dpel_disable_body() == {
        "dynamic_pel_settings": {"enable": False},
        "filename": "site_settings",
        "version": "00.00.01",
    }
    assert production_power_body(False) == {"length": 1, "arr": [1]}  # [1] = off
    assert production_power_body(True) == {"length": 1, "arr": [0]}


def test_writes_echo_the_gateways_filename_and_version() -> None:
    current = parse_dpel(
        b'{"dynamic_pel_settings": {"enable": false}, "filename": "f2", "version": "00.00.02"}'
    )
    body = dpel_enable_body(10, export=True, slew_rate=50, current=current)
    assert (body["filename"], body["version"]) == ("f2", "00.00.02")


DPEL_DOC: dict[str, Any] = {
    "dynamic_pel_settings": {
        "enable": True,
        "export_limit": True,
        "limit_value_W": 50.0,
        "slew_rate": 50.0,
        "enable_dynamic_limiting": False,
    },
    "filename": "site_settings",
    "version": "00.00.01",
}


@settings(deadline=None)
@given(mutated_json(DPEL_DOC))
def test_mutated_dpel_bodies_parse_or_raise_parse_errors(body: bytes) -> None:
    parses_or_refuses(parse_dpel, body)


@settings(deadline=None)
@given(mutated_json({"powerForcedOff": False, "pvPowerForcedOff": False}))
def test_mutated_switch_bodies_parse_or_raise_parse_errors(body: bytes) -> None:
    parses_or_refuses(parse_production_power, body)

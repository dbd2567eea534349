"""The source table as a whole: complete, consistent, and every parser's error contract."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enphase_local.errors import EnvoyParseError
from enphase_local.sources.registry import Role
from enphase_local.sources.table import SOURCES
from tests.fuzz import LOOSE_JSON_LEAF, json_values, parses_or_refuses
from tests.hypothesis_profile import examples
from tests.support import REAL, needs_real, real_folders


def test_keys_and_paths() -> None:
    assert len(SOURCES) >= 25
    for key, source in SOURCES.items():
        assert source.key == key
        assert source.path.startswith("/")
    assert SOURCES["info"].role is Role.PUBLIC
    assert SOURCES["production_json"].path == "/production.json?details=1"
    # the seed spells it /uvp/: real gateways use /ivp/
    assert SOURCES["pel_settings"].path == "/ivp/ss/pel_settings"


def _capture_name(path: str) -> str:
    return path.lstrip("/").replace("/", "_").replace("?", "_").replace("=", "_").replace("&", "_")


def _all_captures() -> list[tuple[str, str]]:
    """(folder, source key) for every capture file some source reads."""
    out = []
    for folder in real_folders():
        for key, source in SOURCES.items():
            name = _capture_name(source.path)
            if (REAL / folder / name).is_file():
                out.append((folder, key))
    return out


@needs_real
@pytest.mark.parametrize(("folder", "key"), _all_captures())
def test_every_capture_parses_or_fails_only_as_parse_error(folder: str, key: str) -> None:
    """Every real body, refusals included, either parses or raises EnvoyParseError."""
    body = (REAL / folder / _capture_name(SOURCES[key].path)).read_bytes()
    parses_or_refuses(SOURCES[key].parse, body)


JSON_VALUES = json_values(LOOSE_JSON_LEAF, max_leaves=20)
"""Wider than JSON_VALUE: json.dumps also writes huge integers and infinities."""


@pytest.mark.parametrize("key", sorted(SOURCES))
@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=200) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
def test_random_bodies_raise_only_parse_errors(key: str, body: bytes) -> None:
    """The one random-body test of every parser (the families keep their mutated documents)."""
    _plain_json(parses_or_refuses(SOURCES[key].parse, body))


def _plain_json(result: Any) -> None:
    """Whatever a parser made of a random body turns into plain JSON, as the contract needs."""
    if hasattr(result, "to_dict"):
        orjson.dumps(result.to_dict())
    elif isinstance(result, Mapping):
        for value in result.values():
            _plain_json(value)
    elif isinstance(result, tuple | list):
        for value in result:
            _plain_json(value)


@pytest.mark.parametrize("key", sorted(SOURCES))
def test_truncated_bodies_raise_parse_errors(key: str) -> None:
    body: Any = b'{"production": [{"type": "inverters", "wNow": 12'
    with pytest.raises(EnvoyParseError) as info:
        SOURCES[key].parse(body)
    assert info.value.path == SOURCES[key].path

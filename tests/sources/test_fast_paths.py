"""The parsers' fast paths read exactly what their checked paths read.

Hot parsers read ordinary entries with plain indexing and exact-type checks
run in C (`sources._json.plain_numbers`, `_plain_*` functions), and hand
anything unusual to the checked `Obj` path, which accepts it or says what is
wrong. These tests parse every real capture and mutated documents both ways
(fast paths on, and switched off) and require equal models, or equal errors.
"""

from __future__ import annotations

import copy
import functools
import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enphase_local.errors import EnvoyParseError
from enphase_local.models.energy import EnergyReading
from enphase_local.models.meters import ELECTRICAL_FIELDS, MeterChannel, MeterReading
from enphase_local.sources import dry_contacts, ensemble, inverters, meters, production
from enphase_local.sources.bounds import (
    ImplausibleValue,
    check_energy_reading,
    check_meter_reading,
    energy_reading_plausible,
    meter_reading_plausible,
    unsigned_energies_plausible,
)
from tests.fuzz import json_paths, mutated_json
from tests.hypothesis_profile import examples
from tests.support import needs_real, real_body, real_cases

# module, attribute: the fast path to switch off (returning None means "not ordinary")
FAST_PATHS: dict[str, list[tuple[Any, str]]] = {
    "ivp_meters_readings": [
        (meters, "_plain_channel"),
        (meters, "plain_numbers"),
        (meters, "_wire_readings"),
        (meters, "_typed_readings"),
    ],
    "ivp_meters": [(meters, "_plain_config"), (meters, "_wire_configs")],
    "ivp_pdm_device_data": [
        (inverters, "_plain_detail"),
        (inverters, "_wire_device_data"),
        (inverters, "_typed_device_data"),
    ],
    "api_v1_production_inverters": [
        (inverters, "_plain_inverter"),
        (inverters, "_typed_inverters"),
    ],
    "production.json_details_1": [
        (production, "_wire_report"),
        (production, "_typed_report"),
    ],
    "ivp_ensemble_dry_contacts": [(dry_contacts, "_wire_contacts")],
    "ivp_ss_dry_contact_settings": [(dry_contacts, "_wire_settings")],
    "ivp_ensemble_inventory": [(ensemble, "_wire_inventory")],
}
PARSERS: dict[str, Callable[[bytes], Any]] = {
    "ivp_meters_readings": meters.parse_meter_readings,
    "ivp_meters": meters.parse_meters,
    "ivp_pdm_device_data": inverters.parse_device_data,
    "api_v1_production_inverters": inverters.parse_inverters_v1,
    "production.json_details_1": production.parse_production_json,
    "ivp_ensemble_dry_contacts": dry_contacts.parse_dry_contacts,
    "ivp_ss_dry_contact_settings": dry_contacts.parse_dry_contact_settings,
    "ivp_ensemble_inventory": ensemble.parse_ensemble_inventory,
}


@contextmanager
def _checked_only(name: str) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for module, attr in FAST_PATHS[name]:
            patch.setattr(module, attr, lambda *args: None)
        yield


def _outcome(parser: Callable[[bytes], Any], body: bytes) -> Any:
    try:
        return parser(body)
    except EnvoyParseError as err:
        return f"error: {err}"


def _both(name: str, body: bytes) -> tuple[Any, Any]:
    fast = _outcome(PARSERS[name], body)
    with _checked_only(name):
        checked = _outcome(PARSERS[name], body)
    return fast, checked


def _types(value: Any) -> Any:
    """The structure of a parse result with every value replaced by its type."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_types(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: _types(getattr(value, name)) for name in value.__dataclass_fields__}
    return type(value)


def _json_docs(name: str) -> list[Any]:
    """The decoded captures of `name` that are JSON (some gateways answer HTML or errors)."""
    docs = []
    for folder in real_cases(name):
        try:
            docs.append(orjson.loads(real_body(folder, name) or b""))
        except orjson.JSONDecodeError:
            continue
    return docs


CASES = [(name, folder) for name in PARSERS for folder in real_cases(name)]


@needs_real
@pytest.mark.parametrize(("name", "folder"), CASES)
def test_real_captures_parse_the_same_both_ways(name: str, folder: str) -> None:
    body = real_body(folder, name)
    assert body is not None
    fast, checked = _both(name, body)
    assert fast == checked
    assert _types(fast) == _types(checked)  # a float stays a float, an int an int


@needs_real
@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("name", list(PARSERS))
def test_mutated_captures_parse_the_same_both_ways(name: str, data: st.DataObject) -> None:
    docs = _json_docs(name)
    if not docs:
        pytest.skip(f"no JSON capture of {name}")
    doc = data.draw(st.sampled_from(docs))
    fast, checked = _both(name, data.draw(mutated_json(doc, max_changes=3)))
    assert fast == checked
    assert _types(fast) == _types(checked)


# --- the bounds' yes/no answers agree with their checks -----------------------------------

EDGES = [None, 0.0, -1.0, 1e6, 1e6 + 1, -1e6 - 1, 1e11, 1e11 + 1, -1e4 - 1, 1500.0, 1501.0]
EDGES += [float("nan"), float("inf"), -float("inf")]


@given(
    values=st.lists(st.sampled_from(EDGES), min_size=6, max_size=6),
    signed=st.booleans(),
)
def test_energy_plausibility_agrees_with_the_check(values: list[Any], signed: bool) -> None:
    watts, today, week, lifetime, volts, amps = values
    reading = EnergyReading(
        watts if watts is not None else 0.0, today, week, lifetime, "s", volts=volts, amps=amps
    )
    try:
        check_energy_reading(reading, "body", signed=signed)
        passed = True
    except ImplausibleValue:
        passed = False
    assert energy_reading_plausible(reading, signed=signed) is passed


@given(values=st.lists(st.sampled_from([v for v in EDGES if v is not None]), min_size=10))
def test_meter_plausibility_agrees_with_the_check(values: list[float]) -> None:
    def part(i: int) -> dict[str, float]:
        names = ("watts", "wh_delivered", "wh_received", "amps", "volts")
        return {name: values[(i + k) % len(values)] for k, name in enumerate(names)}

    def electrical(i: int) -> dict[str, float]:
        return dict.fromkeys(ELECTRICAL_FIELDS, 1.0) | part(i)

    channels = tuple(MeterChannel(**electrical(i), phase="L1", eid=1, timestamp=1) for i in (1, 2))
    reading = MeterReading(
        **electrical(0), eid=1, timestamp=1, volts_sum=values[-1], channels=channels
    )
    try:
        check_meter_reading(reading, "body[0]")
        passed = True
    except ImplausibleValue:
        passed = False
    assert meter_reading_plausible(reading) is passed


@given(
    values=st.lists(st.sampled_from(EDGES), min_size=6, max_size=6),
)
def test_unsigned_energy_bounds_complete_the_signed_ones(values: list[Any]) -> None:
    """For a reading within a signed reading's bounds (what `sources._wire` checks),
    `unsigned_energies_plausible` answers as the unsigned check does."""
    watts, today, week, lifetime, volts, amps = values
    reading = EnergyReading(
        watts if watts is not None else 0.0, today, week, lifetime, "s", volts=volts, amps=amps
    )
    if not energy_reading_plausible(reading, signed=True):
        return
    expected = energy_reading_plausible(reading, signed=False)
    assert unsigned_energies_plausible(today, week, lifetime) is expected


WIRE_PATHS = {
    "production.json_details_1": lambda data: production._wire_report(data, "p"),
    "ivp_meters_readings": meters._wire_readings,
    "ivp_meters": meters._wire_configs,
    "ivp_ensemble_dry_contacts": dry_contacts._wire_contacts,
    "ivp_ss_dry_contact_settings": dry_contacts._wire_settings,
    "ivp_pdm_device_data": inverters._wire_device_data,
    "ivp_ensemble_inventory": ensemble._wire_inventory,
}

# The bodies msgspec decodes straight from the bytes (strict shapes, no orjson).
TYPED_PATHS: dict[str, Callable[[bytes], Any]] = {
    "production.json_details_1": lambda body: production._typed_report(body, "p"),
    "ivp_meters_readings": meters._typed_readings,
    "ivp_pdm_device_data": inverters._typed_device_data,
    "api_v1_production_inverters": inverters._typed_inverters,
}


def _parsable(name: str, folder: str) -> bool:
    """Whether a capture is a body our parser accepts (a few are HTML error pages)."""
    body = real_body(folder, name)
    try:
        PARSERS[name](body or b"")
    except EnvoyParseError:
        return False
    return True


TYPED_CASES = [
    (n, f) for n, f in CASES if (n in WIRE_PATHS or n in TYPED_PATHS) and _parsable(n, f)
]


@needs_real
@pytest.mark.parametrize(("name", "folder"), TYPED_CASES)
def test_the_typed_fast_path_reads_the_real_captures(name: str, folder: str) -> None:
    """The msgspec shapes fit every real capture that parses: the fast path is taken."""
    body = real_body(folder, name)
    assert body is not None
    data = orjson.loads(body)
    if name in WIRE_PATHS:
        assert WIRE_PATHS[name](data) is not None
    if name in TYPED_PATHS:
        assert TYPED_PATHS[name](body) is not None


# Values at the edges of what the typed fast paths take: bools where numbers
# belong, integral floats, 64-bit limits, numeric and differently-cased strings,
# values just outside the plausibility bounds, enum spellings.
EDGE_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 0.5, 2**63 - 1, 2**63, 2**64 - 1, -(2**63), -9.3e18, 1e6,
    1e6 + 1, -1e6 - 1, 1e11 + 1, -1e4 - 1, 1501.0, "1", "1.5", "true", "TRUE", "False", "",
    "eim", "inverters", "pcu", "production", "net-consumption", "total-consumption",
    "enabled", "LOAD", "apply", "closed", [], {}, [1], {"a": 1},
]  # fmt: skip
_DELETE = object()


@needs_real
@pytest.mark.parametrize("name", list(PARSERS))
def test_every_edge_value_in_every_place_parses_the_same_both_ways(name: str) -> None:
    """Each value of one capture replaced by each edge value (or deleted), one at a time.

    Exhaustive where random mutation would need luck: a fast path that takes one
    spelling the checked path refuses (say ``"1"`` for a flag) fails here.
    """
    docs = _json_docs(name)
    if not docs:
        pytest.skip(f"no JSON capture of {name}")
    doc = max(docs, key=lambda d: len(orjson.dumps(d)))
    paths = [p for p in json_paths(doc) if p]
    paths = paths[:: max(1, len(paths) // 100)]  # the large bodies: a spread of 100 places
    encoded = orjson.dumps(doc)
    for path in paths:
        for value in [*EDGE_VALUES, _DELETE]:
            changed = orjson.loads(encoded)  # a deep copy, quicker
            parent = functools.reduce(operator.getitem, path[:-1], changed)
            if value is _DELETE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(value)
            fast, checked = _both(name, orjson.dumps(changed))
            assert fast == checked, (path, value)
            assert _types(fast) == _types(checked), (path, value)


@needs_real
def test_deeply_nested_unread_values_parse_the_same_both_ways() -> None:
    """Lines inside lines, 1000 levels deep (orjson reads up to 1024): the checked
    path reads one level, so the typed shapes must not walk further and fail."""
    name = "production.json_details_1"
    doc = max(_json_docs(name), key=lambda d: len(orjson.dumps(d)))
    eim = next(e for e in doc["production"] if e.get("type") == "eim")
    eim["lines"][0]["lines"] = "NESTED"
    deep = b'{"wNow":1.0,"lines":[' * 498 + b'{"wNow":1.0}' + b"]}" * 498
    body = orjson.dumps(doc).replace(b'"NESTED"', deep)
    assert orjson.loads(body)
    fast, checked = _both(name, body)
    assert fast == checked
    assert not isinstance(fast, str)  # both parse it


ORJSON_EDGES = [b"1e400", b"-1e400", b"1" * 400, b"1" * 30, b'"\\ud800"', b'"caf\xc3\xa9"']
ORJSON_EDGES += [b'"\xff"', b"[1e999]", b"18446744073709551616", b"-9223372036854775809"]


def _place_in_device_data(key: str) -> tuple[str, Any]:
    doc = max(_json_docs("ivp_pdm_device_data"), key=lambda d: len(orjson.dumps(d)))
    pcu = next(v for v in doc.values() if isinstance(v, dict) and v.get("devName") == "pcu")
    pcu["channels"][0]["lastReading"][key] = "PLACE"
    return "ivp_pdm_device_data", doc


def _place_in_readings(key: str) -> tuple[str, Any]:
    doc = max(_json_docs("ivp_meters_readings"), key=lambda d: len(orjson.dumps(d)))
    doc[0]["channels"][1][key] = "PLACE"
    return "ivp_meters_readings", doc


def _place_in_production(key: str) -> tuple[str, Any]:
    doc = max(_json_docs("production.json_details_1"), key=lambda d: len(orjson.dumps(d)))
    eim = next(e for e in doc["production"] if e.get("type") == "eim")
    eim["lines"][0][key] = "PLACE"
    return "production.json_details_1", doc


def _place_in_inverters(key: str) -> tuple[str, Any]:
    doc = max(_json_docs("api_v1_production_inverters"), key=lambda d: len(orjson.dumps(d)))
    doc[1][key] = "PLACE"
    return "api_v1_production_inverters", doc


PLACES = [
    (_place_in_inverters, "lastReportDate"),  # read, an integer
    (_place_in_inverters, "maxReportWatts"),  # read, a float
    (_place_in_production, "vahToday"),  # unread
    (_place_in_production, "readingTime"),  # read, an integer
    (_place_in_production, "wNow"),  # read, a float
    (_place_in_device_data, "flags"),  # unread
    (_place_in_device_data, "endDate"),  # read, an integer
    (_place_in_readings, "instantaneousDemand"),  # unread
    (_place_in_readings, "timestamp"),  # read, an integer or a float
    (_place_in_readings, "activePower"),  # read, a float
]


@needs_real
@pytest.mark.parametrize(("place", "key"), PLACES)
@pytest.mark.parametrize("raw", ORJSON_EDGES)
def test_what_orjson_refuses_or_rounds_is_read_the_same_both_ways(
    place: Callable[[str], tuple[str, Any]], key: str, raw: bytes
) -> None:
    """msgspec decoding a body straight from bytes must not accept one orjson
    refuses, or read a value orjson reads differently: a number beyond a float, an
    integer beyond 64 bits (orjson makes it a float), a lone surrogate, bytes that
    are not UTF-8."""
    name, doc = place(key)
    body = orjson.dumps(doc).replace(b'"PLACE"', raw)
    fast, checked = _both(name, body)
    assert fast == checked
    assert _types(fast) == _types(checked)
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        assert isinstance(fast, str) and "not valid JSON" in fast


@needs_real
@pytest.mark.parametrize("count", [0, 1, 4, 5])
def test_readings_with_unusual_channel_counts_parse_the_same_both_ways(count: int) -> None:
    """Channels past the third are named L4, L5.. by position, on both paths."""
    name = "ivp_meters_readings"
    doc = max(_json_docs(name), key=lambda d: len(orjson.dumps(d)))
    first = doc[0]["channels"][0]
    doc[0]["channels"] = [dict(first) for _ in range(count)]
    fast, checked = _both(name, orjson.dumps(doc))
    assert fast == checked
    assert not isinstance(fast, str)
    assert [c.phase for c in fast[0].channels] == [f"L{i + 1}" for i in range(count)]

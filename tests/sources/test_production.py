"""Production family: production.json, /production (JSON) and /api/v1/production.

Expected values are read by hand from the seed text; real captures are
checked for plausibility only (the parser's own output is never the oracle).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enphase_local.errors import EnvoyParseError
from enphase_local.models.battery import AcbState
from enphase_local.models.energy import EnergyReading
from enphase_local.models.production import ProductionReport
from enphase_local.sources.legacy_html import parse_production_html
from enphase_local.sources.production import (
    PRODUCTION_JSON,
    PRODUCTION_SUMMARY,
    PRODUCTION_V1,
    parse_production,
    parse_production_json,
    parse_production_v1,
)
from enphase_local.sources.registry import Cadence, Role, Speed
from tests.fuzz import JSON_KEY, json_values, mutated_json, parses_or_refuses
from tests.hypothesis_profile import examples
from tests.support import needs_real, needs_seed, real_body, real_cases, seed_example

DETAILS = "/production.json?details=1"


def _seed_doc(endpoint: str) -> dict[str, Any]:
    doc = orjson.loads(seed_example(endpoint))
    assert isinstance(doc, dict)
    return doc


def _entry(doc: dict[str, Any], section: str, **match: Any) -> dict[str, Any]:
    found = [e for e in doc[section] if all(e.get(k) == v for k, v in match.items())]
    assert len(found) == 1
    return found[0]


def _is_html(body: bytes) -> bool:
    return body.lstrip()[:1] == b"<"


# --- the seed ------------------------------------------------------------------------


@needs_seed
def test_seed_production_json_details() -> None:
    report = parse_production_json(seed_example(DETAILS))
    inv = report.inverters
    assert inv is not None
    assert (inv.watts, inv.wh_lifetime, inv.active_count) == (3554, 390554, 12)
    assert (inv.wh_today, inv.wh_last_7_days, inv.reading_time) == (None, None, 1753703609)
    assert inv.source == "production.json:inverters"

    eim = report.production
    assert eim is not None and eim.source == "production.json:eim"
    assert (eim.watts, eim.wh_today, eim.wh_last_7_days) == (5305.189, 19282.609, 550554.609)
    assert (eim.wh_lifetime, eim.reading_time, eim.active_count) == (569121.609, 1753703631, 1)
    assert (eim.volts, eim.amps, eim.power_factor) == (694.538, 22.387, 1.0)
    assert (eim.apparent_va, eim.reactive_var) == (5312.124, 66.542)
    assert report.best_production is eim

    total = report.total_consumption
    assert total is not None and total.source == "production.json:eim"
    assert (total.watts, total.wh_today, total.wh_lifetime) == (324.922, 8958.0, 253002.232)
    net = report.net_consumption
    assert net is not None
    assert (net.watts, net.wh_lifetime, net.wh_today) == (-4980.266, -315944.246, 0)
    assert (net.amps, net.power_factor) == (-21.388, -1.0)

    assert set(report.phases) == {"L1", "L2", "L3"}
    l2 = report.phases["L2"]
    assert l2.production is not None and l2.production.watts == 1169.938
    assert (l2.production.volts, l2.production.wh_lifetime) == (229.76, 130643.441)
    l1, l3 = report.phases["L1"], report.phases["L3"]
    assert l1.net_consumption is not None and l1.net_consumption.watts == -2932.704
    assert l3.consumption is not None and l3.consumption.watts == 5.009
    assert l3.consumption.wh_last_7_days == 1.507
    assert report.used_phases() == ("L1", "L2", "L3")
    # the seed's storage entry has no percentFull: it is not a battery
    assert report.acb is None


@needs_seed
def test_consumption_is_chosen_by_measurement_type_not_position() -> None:
    doc = _seed_doc(DETAILS)
    doc["consumption"].reverse()
    doc["production"].reverse()
    report = parse_production_json(orjson.dumps(doc))
    assert report.total_consumption is not None and report.total_consumption.watts == 324.922
    assert report.net_consumption is not None and report.net_consumption.watts == -4980.266
    assert report.production is not None and report.production.watts == 5305.189
    assert report.inverters is not None and report.inverters.watts == 3554
    l1 = report.phases["L1"]
    assert l1.consumption is not None and l1.consumption.watts == 36.232
    assert l1.net_consumption is not None and l1.net_consumption.watts == -2932.704


@needs_seed
def test_seed_production_plain_json() -> None:
    report = parse_production(seed_example("/production"))
    assert report.production is not None
    assert report.production.source == "production:eim"
    assert report.production.watts == 5305.189
    assert report.inverters is not None and report.inverters.source == "production:inverters"
    assert report.net_consumption is not None
    assert report.net_consumption.wh_lifetime == -315944.246
    assert report.total_consumption is not None and report.total_consumption.wh_today == 8958.0
    assert report.phases == {} and report.used_phases() == ()


@needs_seed
def test_seed_api_v1_production() -> None:
    reading = parse_production_v1(seed_example("/api/v1/production"))
    assert reading == EnergyReading(
        watts=5326,
        wh_today=17645,
        wh_last_7_days=217726,
        wh_lifetime=19229325,
        source="api/v1/production",
    )


@needs_seed
def test_report_to_dict_is_plain_json() -> None:
    report = parse_production_json(seed_example(DETAILS))
    plain = orjson.loads(orjson.dumps(report.to_dict()))
    assert plain["production"]["watts"] == 5305.189
    assert plain["phases"]["L2"]["production"]["watts"] == 1169.938
    assert plain["acb"] is None
    with pytest.raises(AttributeError):
        report.acb = None  # type: ignore[misc]


# --- hand-built documents for the rules --------------------------------------------


def _flow(**extra: Any) -> dict[str, Any]:
    return {"wNow": 10.0, "whToday": 1.0, "whLastSevenDays": 2.0, "whLifetime": 3.0} | extra


INVERTERS = {"type": "inverters", "activeCount": 3, "readingTime": 1700000000, "wNow": 700}


def test_inactive_entries_give_none_even_without_measurement_type() -> None:
    # firmware 4.x: inactive consumption entries lack measurementType
    doc = {
        "production": [INVERTERS, {"type": "eim", "activeCount": 0, **_flow()}],
        "consumption": [
            {"type": "eim", "activeCount": 0, **_flow(lines=[_flow()])},
            {"type": "eim", "activeCount": 0, **_flow()},
        ],
    }
    report = parse_production_json(orjson.dumps(doc))
    assert report.production is None and report.total_consumption is None
    assert report.net_consumption is None and not report.has_consumption
    assert report.phases == {}
    assert report.best_production is report.inverters
    assert report.inverters is not None and report.inverters.watts == 700


def test_an_active_entry_after_an_inactive_one_is_used() -> None:
    doc = {
        "production": [INVERTERS],
        "consumption": [
            {"type": "eim", "activeCount": 0, **_flow()},
            {"type": "eim", "activeCount": 1, "measurementType": "net-consumption", **_flow()},
            {"type": "eim", "activeCount": 1, "measurementType": "mystery", **_flow(wNow=1)},
        ],
    }
    report = parse_production_json(orjson.dumps(doc))
    assert report.net_consumption is not None and report.net_consumption.watts == 10.0
    assert report.total_consumption is None and report.production is None


def test_reading_time_zero_means_never_read() -> None:
    doc = {"production": [INVERTERS | {"readingTime": 0}]}
    report = parse_production_json(orjson.dumps(doc))
    assert report.inverters is not None and report.inverters.reading_time is None


def test_used_phases_skips_all_zero_lines() -> None:
    zero = {"wNow": 0, "whLifetime": 0}
    doc = {
        "production": [
            {
                "type": "eim",
                "activeCount": 1,
                "measurementType": "production",
                **_flow(lines=[_flow(), {"wNow": 0, "whLifetime": 5}, zero]),
            }
        ],
        "consumption": [
            {
                "type": "eim",
                "activeCount": 1,
                "measurementType": "total-consumption",
                **_flow(lines=[zero, zero, zero]),
            }
        ],
    }
    report = parse_production_json(orjson.dumps(doc))
    assert set(report.phases) == {"L1", "L2", "L3"}  # every line kept
    assert report.used_phases() == ("L1", "L2")
    l3 = report.phases["L3"]
    assert l3.production is not None and l3.consumption is not None
    assert l3.net_consumption is None


def test_acb_only_from_entries_with_percent_full() -> None:
    not_battery = {"type": "acb", "activeCount": 2, "wNow": 5, "whNow": 6, "state": "idle"}
    battery = {
        "type": "acb",
        "activeCount": 2,
        "readingTime": 1700000000,
        "wNow": -150,
        "whNow": 1200,
        "percentFull": 60,
        "state": "charging",
    }
    doc = {"production": [INVERTERS], "storage": [not_battery, battery]}
    acb = parse_production_json(orjson.dumps(doc)).acb
    assert acb is not None
    assert (acb.watts, acb.wh_now, acb.soc_percent) == (-150, 1200, 60)
    assert (acb.state, acb.active_count, acb.reading_time) == (AcbState.CHARGING, 2, 1700000000)

    odd = battery | {"state": "hibernating"}
    doc = {"production": [INVERTERS], "storage": [odd]}
    acb = parse_production_json(orjson.dumps(doc)).acb
    assert acb is not None and acb.state is AcbState.UNKNOWN
    doc = {"production": [INVERTERS], "storage": [not_battery]}
    assert parse_production_json(orjson.dumps(doc)).acb is None


def test_non_metered_document_has_inverters_only() -> None:
    report = parse_production_json(orjson.dumps({"production": [INVERTERS], "storage": []}))
    assert isinstance(report, ProductionReport)
    assert report.production is None and not report.has_consumption and report.acb is None
    assert report.best_production is report.inverters


# --- malformed bodies: clear messages ----------------------------------------------

ALL_JSON_PARSERS = [parse_production_json, parse_production, parse_production_v1]


@pytest.mark.parametrize("parser", ALL_JSON_PARSERS)
@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"<html><body><h2>401 Unauthorized</h2></body></html>", "HTML page"),
        (b'{"error": "404 - Not Found"}', "404 - Not Found"),
        (b'{"production": [{"type": "inverters", "wNow"', "not valid JSON"),
        (b"", "empty body"),
        (b"[1, 2]", "expected an object"),
    ],
)
def test_malformed_bodies_say_what_is_wrong(parser: Any, body: bytes, fragment: str) -> None:
    with pytest.raises(EnvoyParseError) as info:
        parser(body)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ({"production": {"type": "inverters"}}, "body.production: expected a list"),
        ({"storage": []}, "body.production: missing"),
        ({"production": [dict(INVERTERS, wNow="700")]}, "production[0].wNow: expected a number"),
        (
            {"production": [dict(INVERTERS, activeCount=None)]},
            "activeCount: expected an integer, got None",
        ),
        ({"production": [dict(INVERTERS, activeCount=1.5)]}, "expected an integer"),
        ({"production": [INVERTERS], "consumption": [3]}, "consumption[0]: expected an object"),
        (
            {"production": [{"type": "eim", "activeCount": 1, **_flow(lines=[_flow()] * 4)}]},
            "at most 3 phases",
        ),
        (
            {"production": [{"type": "eim", "activeCount": 1, **_flow(lines=[{"wNow": True}])}]},
            "lines[0].wNow: expected a number",
        ),
        (
            {"production": [INVERTERS], "storage": [{"percentFull": 5, "wNow": 1, "whNow": 1}]},
            "storage[0].activeCount: missing",
        ),
    ],
)
def test_wrong_types_name_the_field(doc: dict[str, Any], fragment: str) -> None:
    with pytest.raises(EnvoyParseError) as info:
        parse_production_json(orjson.dumps(doc))
    assert fragment in str(info.value)
    assert info.value.path == DETAILS


def test_v1_wrong_types() -> None:
    body = b'{"wattsNow": "5", "wattHoursToday": 1, "wattHoursSevenDays": 2, "wattHoursLifetime": 3'
    body += b"}"
    with pytest.raises(EnvoyParseError, match="wattsNow: expected a number"):
        parse_production_v1(body)
    with pytest.raises(EnvoyParseError, match="wattHoursLifetime: missing"):
        parse_production_v1(b'{"wattsNow": 5, "wattHoursToday": 1, "wattHoursSevenDays": 2}')


def test_sources() -> None:
    assert (PRODUCTION_JSON.key, PRODUCTION_JSON.path) == ("production_json", DETAILS)
    assert (PRODUCTION_SUMMARY.key, PRODUCTION_SUMMARY.path) == (
        "production_summary",
        "/production",
    )
    assert (PRODUCTION_V1.key, PRODUCTION_V1.path) == ("production_v1", "/api/v1/production")
    for source in (PRODUCTION_JSON, PRODUCTION_SUMMARY, PRODUCTION_V1):
        assert source.role is Role.OWNER and source.cadence is Cadence.LIVE
    assert PRODUCTION_JSON.speed is Speed.SLOW and PRODUCTION_SUMMARY.speed is Speed.SLOW
    assert PRODUCTION_V1.speed is Speed.FAST
    assert PRODUCTION_JSON.parse is parse_production_json
    assert PRODUCTION_SUMMARY.parse is parse_production
    assert PRODUCTION_V1.parse is parse_production_v1


# --- every real capture ------------------------------------------------------------

# A production CT reads a few watts negative at night: the inverters' standby draw.
STANDBY_W = 25.0


def _active_types(doc: dict[str, Any]) -> set[str]:
    """measurementTypes of the active eim consumption entries, read straight from the JSON."""
    return {
        e["measurementType"]
        for e in doc.get("consumption", [])
        if e.get("activeCount") and e.get("measurementType")
    }


def _check_counters(reading: EnergyReading) -> None:
    if reading.wh_lifetime is not None and reading.wh_today is not None:
        assert reading.wh_lifetime >= reading.wh_today


def _check_report(report: ProductionReport, doc: dict[str, Any], endpoint: str) -> None:
    assert report.inverters is not None and report.inverters.watts >= 0
    assert report.inverters.source == f"{endpoint}:inverters"
    best = report.best_production
    assert best is not None and best.watts >= -STANDBY_W
    eim = [e for e in doc["production"] if e.get("type") == "eim"]
    assert (report.production is not None) == any(e["activeCount"] for e in eim)
    if report.production is not None:
        assert report.production.source == f"{endpoint}:eim"
        _check_counters(report.production)
    active = _active_types(doc)
    assert (report.total_consumption is not None) == ("total-consumption" in active)
    assert (report.net_consumption is not None) == ("net-consumption" in active)
    if report.total_consumption is not None:
        assert report.total_consumption.watts >= -STANDBY_W
        _check_counters(report.total_consumption)
    for flow in ("production", "total_consumption", "net_consumption"):
        aggregate = getattr(report, flow)
        name = {"total_consumption": "consumption"}.get(flow, flow)
        lines = [getattr(p, name) for p in report.phases.values() if getattr(p, name)]
        if aggregate is None or not lines:
            continue
        assert sum(r.watts for r in lines) == pytest.approx(aggregate.watts, abs=0.05)
        assert sum(r.wh_lifetime for r in lines) == pytest.approx(aggregate.wh_lifetime, abs=0.05)
    for name in report.used_phases():
        assert name in {"L1", "L2", "L3"}


@needs_real
@pytest.mark.parametrize("folder", real_cases("production.json_details_1"))
def test_real_production_json(folder: str) -> None:
    body = real_body(folder, "production.json_details_1")
    assert body is not None
    if _is_html(body):
        # firmware 3.x: production.json is an HTML "Page Not Found" or error page
        for parser in (parse_production_json, parse_production_html):
            with pytest.raises(EnvoyParseError):
                parser(body)
        return
    report = parse_production_json(body)
    _check_report(report, orjson.loads(body), "production.json")
    if folder == "8.2.4382_ACB":
        assert report.acb is not None and report.acb.soc_percent == 25
        assert report.acb.state is AcbState.DISCHARGING and report.acb.active_count == 3
    else:
        assert report.acb is None
    if folder == "8.3.1598_collar":
        assert report.used_phases() == ("L1", "L2")  # L3 all zero on a split-phase site
    if folder == "4.2.27":
        assert report.best_production is report.inverters  # eim present but inactive


@needs_real
@pytest.mark.parametrize("folder", real_cases("production"))
def test_real_production(folder: str) -> None:
    body = real_body(folder, "production")
    assert body is not None
    if _is_html(body):
        reading = parse_production_html(body)
        assert reading.source == "production.html" and reading.watts >= 0
        _check_counters(reading)
        return
    report = parse_production(body)
    _check_report(report, orjson.loads(body), "production")


@needs_real
@pytest.mark.parametrize("folder", real_cases("api_v1_production"))
def test_real_api_v1_production(folder: str) -> None:
    body = real_body(folder, "api_v1_production")
    assert body is not None
    reading = parse_production_v1(body)
    assert reading.source == "api/v1/production" and reading.watts >= 0
    assert reading.wh_lifetime is not None and reading.wh_last_7_days is not None
    assert reading.wh_today is not None and reading.wh_today >= 0
    assert reading.wh_lifetime >= reading.wh_last_7_days >= 0
    _check_counters(reading)


# --- property tests: only EnvoyParseError, whatever comes --------------------------

PARSERS = [parse_production_json, parse_production, parse_production_v1, parse_production_html]

JSON = json_values(
    keys=st.sampled_from(["production", "consumption", "storage", "wNow", "type", "x"]) | JSON_KEY
)

SWAPS = st.sampled_from([None, True, "12", -1, 1.5, [], {}, [1], {"a": 1}, 1e300, 2**62])
"""Values of another type to put in place of a key's value."""


def _documents() -> list[tuple[Any, Any]]:
    """(parser, valid document) pairs; without ../shared, hand-built stand-ins."""
    try:
        details = _seed_doc(DETAILS)
        plain = _seed_doc("/production")
        v1 = _seed_doc("/api/v1/production")
    except (OSError, LookupError):
        details = plain = {
            "production": [INVERTERS, {"type": "eim", "activeCount": 1, **_flow(lines=[_flow()])}],
            "consumption": [
                {"type": "eim", "activeCount": 1, "measurementType": "net-consumption", **_flow()}
            ],
            "storage": [{"type": "acb", "activeCount": 1, "wNow": 1, "whNow": 1, "percentFull": 5}],
        }
        v1 = {"wattsNow": 1, "wattHoursToday": 1, "wattHoursSevenDays": 1, "wattHoursLifetime": 1}
    return [(parse_production_json, details), (parse_production, plain), (parse_production_v1, v1)]


DOCUMENTS = _documents()


def test_documents_used_for_mutation_are_valid() -> None:
    for parser, doc in DOCUMENTS:
        parser(orjson.dumps(doc))


@settings(deadline=None, max_examples=examples(300))
@given(st.data())
def test_mutated_documents_raise_only_parse_errors(data: st.DataObject) -> None:
    parser, doc = data.draw(st.sampled_from(DOCUMENTS))
    body = data.draw(mutated_json(doc, SWAPS))
    parses_or_refuses(parser, body)
    cut = data.draw(st.integers(0, len(body)))
    parses_or_refuses(parser, body[:cut])


@settings(deadline=None, max_examples=examples(100))
@given(st.data())
def test_truncated_documents_are_refused(data: st.DataObject) -> None:
    parser, doc = data.draw(st.sampled_from(DOCUMENTS))
    body = orjson.dumps(doc)
    cut = data.draw(st.integers(0, len(body) - 1))
    with pytest.raises(EnvoyParseError):
        parser(body[:cut])

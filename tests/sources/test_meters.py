"""CT meters: configuration, readings and reports parsers, per-phase voltage, and the join."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enphase_local.engine.joins import join_meters
from enphase_local.errors import EnvoyParseError
from enphase_local.models.meters import (
    CtType,
    MeterConfig,
    MeteringStatus,
    MeterReading,
    MeterState,
    PhaseMode,
    meter_keys,
    per_phase_volts,
)
from enphase_local.sources.meters import (
    METERS,
    METERS_READINGS,
    METERS_REPORTS,
    parse_meter_readings,
    parse_meter_reports,
    parse_meters,
)
from enphase_local.sources.registry import Cadence, Role, Speed
from tests.fuzz import JSON_VALUE, mutated_json, parses_or_refuses
from tests.hypothesis_profile import examples
from tests.support import needs_real, needs_seed, real_body, real_cases, seed_example

CONFIG = "ivp_meters"
READINGS = "ivp_meters_readings"
REPORTS = "ivp_meters_reports"
EXTRA_EID = 1023410688  # the all-zero readings entry of 8.3.5025 and later


def _body(folder: str, name: str) -> bytes:
    body = real_body(folder, name)
    assert body is not None, f"{folder}/{name} is missing"
    return body


def _config(eid: int, kind: str, **extra: Any) -> dict[str, Any]:
    doc = {
        "eid": eid,
        "state": "enabled",
        "measurementType": kind,
        "phaseMode": "split",
        "phaseCount": 2,
        "meteringStatus": "normal",
        "statusFlags": [],
    }
    doc.update(extra)
    return doc


def _values(volts: float, watts: float) -> dict[str, Any]:
    return {
        "timestamp": 1700000000,
        "actEnergyDlvd": 10.0,
        "actEnergyRcvd": 2.0,
        "apparentEnergy": 12.0,
        "reactEnergyLagg": 1.0,
        "reactEnergyLead": 0.5,
        "instantaneousDemand": watts,
        "activePower": watts,
        "apparentPower": abs(watts),
        "reactivePower": 0.0,
        "pwrFactor": 1.0,
        "voltage": volts,
        "current": 1.0,
        "freq": 50.0,
    }


def _reading(eid: int, channel_volts: list[float]) -> dict[str, Any]:
    channels = [{"eid": eid * 10 + i, **_values(v, 100.0)} for i, v in enumerate(channel_volts)]
    return {
        "eid": eid,
        **_values(sum(channel_volts), 100.0 * len(channel_volts)),
        "channels": channels,
    }


REPORT_DOC: list[dict[str, Any]] = [
    {
        "createdAt": 1700000000,
        "reportType": "production",
        "cumulative": {
            "currW": 200.0,
            "actPower": 200.0,
            "apprntPwr": 210.0,
            "reactPwr": -5.0,
            "whDlvdCum": 1000.0,
            "whRcvdCum": 1.0,
            "varhLagCum": 30.0,
            "varhLeadCum": 4.0,
            "vahCum": 1100.0,
            "rmsVoltage": 460.0,
            "rmsCurrent": 0.9,
            "pwrFactor": 0.95,
            "freqHz": 50.0,
        },
    }
]
REPORT_DOC[0]["lines"] = [dict(REPORT_DOC[0]["cumulative"], rmsVoltage=230.0)] * 2


# --- seed: values read by hand from ../shared/seed/endpoint_json.txt ----------------------


@needs_seed
def test_seed_configuration() -> None:
    configs = parse_meters(seed_example("/ivp/meters"))
    assert [c.eid for c in configs] == [704643328, 704643584, 704643840]
    assert [c.measurement_type for c in configs] == [
        CtType.PRODUCTION,
        CtType.NET_CONSUMPTION,
        CtType.STORAGE,
    ]
    for c in configs:
        assert c.state is MeterState.ENABLED and c.enabled
        assert c.phase_mode is PhaseMode.SPLIT and c.phase_count == 2
        assert c.metering_status is MeteringStatus.NORMAL and c.status_flags == ()


@needs_seed
def test_seed_readings() -> None:
    readings = parse_meter_readings(seed_example("/ivp/meters/readings"))
    assert [r.eid for r in readings] == [704643328, 704643584, 704643840]
    prod = readings[0]
    assert prod.timestamp == 1722967007
    assert prod.wh_delivered == 13431336.968 and prod.wh_received == 164.852
    assert prod.vah == 17695037.667
    assert prod.varh_lagging == 2870787.07 and prod.varh_leading == 197885.914
    assert prod.watts == 7131.017 and prod.va == 7237.365 and prod.var == -3.719
    assert prod.amps == 58.537 and prod.hz == 60.0 and prod.power_factor == 0.985
    # the aggregate voltage is the sum of the two live phases: 123.571 + 123.736
    assert prod.volts_sum == 247.307
    assert prod.volts == pytest.approx((123.571 + 123.736) / 2)
    assert [c.phase for c in prod.channels] == ["L1", "L2", "L3"]
    assert [c.volts for c in prod.channels] == [123.571, 123.736, 0.0]

    net_l3 = readings[1].channels[2]
    assert net_l3.phase == "L3" and net_l3.eid == 1778385427
    assert net_l3.watts == -3545.209 and net_l3.power_factor == -0.994
    assert net_l3.volts == 123.696 and net_l3.amps == 28.813
    assert net_l3.wh_received == 2706201.405 and net_l3.va == 3563.706 and net_l3.var == 22.091

    storage = readings[2]
    assert storage.watts == -7083.656 and storage.volts_sum == 247.392
    assert storage.channels[2].hz == 0.0 and storage.channels[0].watts == -3538.447


@needs_seed
def test_seed_join_keeps_configured_phases() -> None:
    meters = join_meters(
        parse_meters(seed_example("/ivp/meters")),
        parse_meter_readings(seed_example("/ivp/meters/readings")),
    )
    assert list(meters) == ["production", "net-consumption", "storage"]
    prod = meters["production"]
    assert prod.key == "production" and prod.measurement_type is CtType.PRODUCTION
    assert prod.reading is not None and prod.reading.eid == prod.config.eid == 704643328
    assert [c.phase for c in prod.reading.channels] == ["L1", "L2"]
    assert prod.reading.volts == pytest.approx(123.6535)
    net = meters["net-consumption"].reading
    assert net is not None and net.volts == pytest.approx((123.482 + 123.69) / 2)
    assert net.watts == 1749.504
    plain = meters["storage"].to_dict()
    assert plain["config"]["measurement_type"] == "storage"
    assert plain["reading"]["channels"][1]["watts"] == -3545.209
    assert orjson.loads(orjson.dumps(plain)) == plain


# --- real captures -----------------------------------------------------------------------


@needs_real
@pytest.mark.parametrize("folder", real_cases(CONFIG))
def test_every_real_configuration_parses(folder: str) -> None:
    configs = parse_meters(_body(folder, CONFIG))
    for c in configs:
        assert c.measurement_type is not CtType.UNKNOWN
        assert c.state is not MeterState.UNKNOWN and c.phase_mode is not PhaseMode.UNKNOWN
        assert c.metering_status is not MeteringStatus.UNKNOWN
        assert 1 <= c.phase_count <= 3
        assert all(isinstance(f, str) and f for f in c.status_flags)


def _plausible_volts(volts: float) -> bool:
    return volts == 0 or 90 <= volts <= 280


@needs_real
@pytest.mark.parametrize("folder", real_cases(READINGS))
def test_every_real_reading_parses_and_joins(folder: str) -> None:
    readings = parse_meter_readings(_body(folder, READINGS))
    for r in readings:
        assert r.timestamp >= 0 and r.wh_delivered >= 0
        assert _plausible_volts(r.volts), (r.eid, r.volts)
        assert r.hz == 0 or 45 <= r.hz <= 65
        assert [c.phase for c in r.channels] == [f"L{i + 1}" for i in range(len(r.channels))]
        for c in r.channels:
            assert 0 <= c.volts <= 280 and (c.hz == 0 or 45 <= c.hz <= 65)
    config_body = real_body(folder, CONFIG)
    if config_body is None:
        return
    configs = parse_meters(config_body)
    meters = join_meters(configs, readings)
    assert len(meters) == len(configs)
    configured = {c.eid for c in configs}
    for key, meter in meters.items():
        assert key.split("#")[0] == meter.config.measurement_type.value
        assert meter.config.eid in configured
        reading = meter.reading
        assert reading is not None, f"{folder}: no reading for {key}"
        assert reading.eid == meter.config.eid
        assert len(reading.channels) <= meter.config.phase_count
        assert _plausible_volts(reading.volts), (key, reading.volts)
        assert reading.volts <= reading.volts_sum + 0.5
    assert EXTRA_EID not in {m.config.eid for m in meters.values()}


@needs_real
def test_extra_all_zero_reading_is_dropped() -> None:
    for folder in ("8.3.1598_collar", "8.3.5167_3rd-pv", "8.3.5169_with_generator"):
        readings = parse_meter_readings(_body(folder, READINGS))
        extra = [r for r in readings if r.eid == EXTRA_EID]
        assert len(extra) == 1 and extra[0].watts == 0 and extra[0].volts_sum == 0
        meters = join_meters(parse_meters(_body(folder, CONFIG)), readings)
        assert len(meters) == len(readings) - 1


@needs_real
def test_collar_meter_types_by_hand() -> None:
    folder = "8.3.1598_collar"
    meters = join_meters(
        parse_meters(_body(folder, CONFIG)), parse_meter_readings(_body(folder, READINGS))
    )
    assert list(meters) == [
        "production",
        "net-consumption",
        "storage",
        "backfeed",
        "load",
        "evse",
        "pv3p",
    ]
    assert [m.enabled for m in meters.values()] == [True] * 4 + [False] * 3
    backfeed = meters["backfeed"].reading
    assert backfeed is not None and meters["backfeed"].config.eid == 704644352
    assert backfeed.watts == -686.225 and backfeed.volts_sum == 120.58
    # L1 at 120.587 V, L2 reads zero volts (its current is 5.722 A): one live phase
    assert backfeed.volts == 120.587 and backfeed.hz == 0.0
    storage = meters["storage"].reading
    assert storage is not None and storage.watts == -1297.667
    assert storage.volts == pytest.approx((120.674 + 119.923) / 2)
    pv3p = meters["pv3p"].reading
    assert pv3p is not None and pv3p.timestamp == 0 and pv3p.volts == 0


@needs_real
def test_unwired_phase_noise_is_not_averaged_in() -> None:
    # 7.6.175_total: three-phase configuration, one phase wired; L2 and L3 read 0.99 V and 4.112 V
    readings = parse_meter_readings(_body("7.6.175_total", READINGS))
    assert readings[0].volts_sum == 236.068
    assert [c.volts for c in readings[0].channels] == [230.966, 0.99, 4.112]
    assert readings[0].volts == 230.966
    # 7.3.466: phase count 1, the join keeps L1 only
    folder = "7.3.466_metered_disabled_cts"
    configs = parse_meters(_body(folder, CONFIG))
    assert configs[0].metering_status is MeteringStatus.CHECK_WIRING
    assert configs[0].status_flags == ("negative-production",)
    assert configs[0].state is MeterState.DISABLED and configs[0].phase_mode is PhaseMode.THREE
    meters = join_meters(configs, parse_meter_readings(_body(folder, READINGS)))
    prod = meters["production"].reading
    assert prod is not None and [c.phase for c in prod.channels] == ["L1"]
    assert prod.volts == 235.236 and prod.watts == 488.925


@needs_real
def test_three_phase_volts_by_hand() -> None:
    readings = parse_meter_readings(_body("8.3.5167_3rd-pv", READINGS))
    assert readings[0].volts_sum == 694.641
    assert readings[0].volts == pytest.approx((237.779 + 230.017 + 226.845) / 3)


@needs_real
def test_no_ct_firmware_answers_empty_lists() -> None:
    assert parse_meters(_body("5.0.62", CONFIG)) == ()
    assert parse_meter_readings(_body("5.0.62", READINGS)) == ()


@needs_real
@pytest.mark.parametrize("folder", real_cases(REPORTS))
def test_real_reports(folder: str) -> None:
    reports = parse_meter_reports(_body(folder, REPORTS))
    assert list(reports) == ["production", "net-consumption", "total-consumption"]
    prod = reports["production"]
    assert prod.report_type is CtType.PRODUCTION and prod.timestamp == 1785593365
    assert prod.watts == 2895.974 and prod.va == 3674.036 and prod.var == -17.659
    assert prod.wh_delivered == 11567984.789 and prod.wh_received == 12.975
    assert prod.volts_sum == 248.397 and prod.amps == 29.587 and prod.hz == 60.0
    assert prod.volts == pytest.approx((123.794 + 124.603) / 2)
    assert [line.phase for line in prod.lines] == ["L1", "L2"]
    assert prod.lines[1].volts == 124.603 and prod.lines[0].watts == 1442.743
    net = reports["net-consumption"]
    assert net.watts == 173.416 and net.varh_leading == 6565575.06


# --- hand-made documents -------------------------------------------------------------------


def test_hand_made_report() -> None:
    reports = parse_meter_reports(orjson.dumps(REPORT_DOC))
    report = reports["production"]
    assert report.volts_sum == 460.0 and report.volts == 230.0 and len(report.lines) == 2
    doc = copy.deepcopy(REPORT_DOC)
    del doc[0]["lines"]
    doc.append(copy.deepcopy(doc[0]))
    reports = parse_meter_reports(orjson.dumps(doc))
    assert list(reports) == ["production", "production#2"]
    assert reports["production"].lines == () and reports["production"].volts == 460.0


def test_repeated_types_get_numbered_keys() -> None:
    configs = parse_meters(
        orjson.dumps(
            [
                _config(1, "load"),
                _config(2, "production"),
                _config(3, "load"),
                _config(4, "load"),
                _config(5, "heat-pump"),
            ]
        )
    )
    readings = parse_meter_readings(orjson.dumps([_reading(3, [120.0, 121.0, 0.0])]))
    meters = join_meters(configs, readings)
    assert list(meters) == ["load", "production", "load#2", "load#3", "unknown"]
    assert meters["load#2"].config.eid == 3 and meters["load#2"].reading is not None
    assert meters["load"].reading is None and meters["load#3"].reading is None
    assert meters["unknown"].measurement_type is CtType.UNKNOWN
    assert meter_keys([CtType.LOAD, CtType.LOAD]) == ["load", "load#2"]


def test_firmware_4_without_status_flags() -> None:
    doc = _config(704643328, "production")
    del doc["statusFlags"]
    (config,) = parse_meters(orjson.dumps([doc]))
    assert config.status_flags == () and config.eid == 704643328


def test_unknown_enum_values_do_not_crash() -> None:
    doc = _config(7, "Production", state="sleeping", phaseMode="quad", meteringStatus="odd")
    (config,) = parse_meters(orjson.dumps([doc]))
    assert config.measurement_type is CtType.PRODUCTION
    assert config.state is MeterState.UNKNOWN and config.phase_mode is PhaseMode.UNKNOWN
    assert config.metering_status is MeteringStatus.UNKNOWN and not config.enabled


def test_reading_without_channels_keeps_the_raw_voltage() -> None:
    doc = _reading(9, [])
    doc["voltage"] = 231.5
    del doc["channels"]
    (reading,) = parse_meter_readings(orjson.dumps([doc]))
    assert reading.channels == () and reading.volts == reading.volts_sum == 231.5
    assert reading.for_phases(1) is reading


def test_for_phases_recomputes_volts() -> None:
    (reading,) = parse_meter_readings(orjson.dumps([_reading(9, [230.0, 240.0, 250.0])]))
    assert reading.volts == pytest.approx(240.0)
    assert reading.for_phases(1).volts == 230.0 and len(reading.for_phases(1).channels) == 1
    assert reading.for_phases(2).volts == pytest.approx(235.0)
    assert reading.for_phases(0) is reading and reading.for_phases(3) is reading


@pytest.mark.parametrize(
    ("volts_sum", "channels", "expected"),
    [
        (247.3, [123.6, 123.7, 0.0], 123.65),
        (236.0, [231.0, 1.0, 4.0], 231.0),
        (240.0, [], 240.0),
        (0.0, [0.0, 0.0, 0.0], 0.0),
        (5.0, [0.0, 0.0], 5.0),
        (690.0, [230.0, 228.0, 232.0], 230.0),
    ],
)
def test_per_phase_volts(volts_sum: float, channels: list[float], expected: float) -> None:
    assert per_phase_volts(volts_sum, channels) == pytest.approx(expected)


def test_duplicate_meter_eid_is_refused() -> None:
    body = orjson.dumps([_config(1, "production"), _config(1, "net-consumption")])
    with pytest.raises(EnvoyParseError, match="duplicate meter eid"):
        parse_meters(body)


def test_first_reading_of_an_eid_wins() -> None:
    configs = (
        MeterConfig(1, MeterState.ENABLED, CtType.LOAD, PhaseMode.SINGLE, 1, MeteringStatus.NORMAL),
    )
    readings = parse_meter_readings(orjson.dumps([_reading(1, [230.0]), _reading(1, [0.0])]))
    reading = join_meters(configs, readings)["load"].reading
    assert isinstance(reading, MeterReading) and reading.volts == 230.0


PARSERS: list[tuple[Callable[[bytes], Any], str]] = [
    (parse_meters, "/ivp/meters"),
    (parse_meter_readings, "/ivp/meters/readings"),
    (parse_meter_reports, "/ivp/meters/reports"),
]


@pytest.mark.parametrize(("parser", "path"), PARSERS)
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>401</html>",
        b'{"error": "404 - Not Found"}',
        b"{}",
        b"[1]",
        b'[{"eid": "x"}]',
        b'[{"eid": true, "phaseCount": 1}]',
        b"[null]",
        b'{"a": [1, 2',
    ],
)
def test_bad_bodies_raise_parse_error(
    parser: Callable[[bytes], Any], path: str, body: bytes
) -> None:
    with pytest.raises(EnvoyParseError) as info:
        parser(body)
    assert info.value.path == path


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("eid", "704643328"),
        ("phaseCount", "2"),
        ("state", 1),
        ("statusFlags", [1]),
        ("statusFlags", "x"),
    ],
)
def test_wrong_configuration_types_raise(key: str, value: Any) -> None:
    with pytest.raises(EnvoyParseError):
        parse_meters(orjson.dumps([{**_config(1, "production"), key: value}]))


@pytest.mark.parametrize("key", ["activePower", "voltage", "freq", "eid", "timestamp"])
def test_missing_or_wrong_reading_fields_raise(key: str) -> None:
    doc = _reading(1, [230.0])
    doc[key] = "oops"
    with pytest.raises(EnvoyParseError):
        parse_meter_readings(orjson.dumps([doc]))
    del doc[key]
    with pytest.raises(EnvoyParseError):
        parse_meter_readings(orjson.dumps([doc]))
    doc = _reading(1, [230.0])
    doc["channels"][0][key] = None
    with pytest.raises(EnvoyParseError):
        parse_meter_readings(orjson.dumps([doc]))


def test_sources() -> None:
    assert (METERS.key, METERS.path, METERS.parse) == ("meters", "/ivp/meters", parse_meters)
    assert (METERS.role, METERS.cadence, METERS.speed) == (Role.OWNER, Cadence.CONFIG, Speed.FAST)
    assert (METERS_READINGS.key, METERS_READINGS.path) == (
        "meters_readings",
        "/ivp/meters/readings",
    )
    assert METERS_READINGS.parse is parse_meter_readings
    assert (METERS_READINGS.role, METERS_READINGS.cadence, METERS_READINGS.speed) == (
        Role.OWNER,
        Cadence.LIVE,
        Speed.FAST,
    )
    assert (METERS_REPORTS.key, METERS_REPORTS.path) == ("meters_reports", "/ivp/meters/reports")
    assert METERS_REPORTS.parse is parse_meter_reports and METERS_REPORTS.role is Role.OWNER


# --- properties: nothing but EnvoyParseError escapes ---------------------------------------

FUZZ = settings(
    max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@FUZZ
@given(body=st.binary(max_size=200))
@pytest.mark.parametrize(("parser", "path"), PARSERS)
def test_random_bytes_raise_only_parse_errors(
    parser: Callable[[bytes], Any], path: str, body: bytes
) -> None:
    parses_or_refuses(parser, body)


@FUZZ
@given(doc=JSON_VALUE)
@pytest.mark.parametrize(("parser", "path"), PARSERS)
def test_random_json_raises_only_parse_errors(
    parser: Callable[[bytes], Any], path: str, doc: Any
) -> None:
    parses_or_refuses(parser, orjson.dumps(doc))


@needs_seed
@FUZZ
@given(data=st.data())
@pytest.mark.parametrize(
    ("parser", "source"),
    [(parse_meters, "/ivp/meters"), (parse_meter_readings, "/ivp/meters/readings")],
)
def test_mutated_seed_documents_raise_only_parse_errors(
    parser: Callable[[bytes], Any], source: str, data: st.DataObject
) -> None:
    doc = orjson.loads(seed_example(source))
    parses_or_refuses(parser, data.draw(mutated_json(doc, max_changes=4)))


@FUZZ
@given(body=mutated_json(REPORT_DOC, max_changes=4))
def test_mutated_reports_raise_only_parse_errors(body: bytes) -> None:
    parses_or_refuses(parse_meter_reports, body)

"""Every preset answers the endpoints its hardware and firmware have, in the real shapes."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import orjson
import pytest

from enphase_local.simulator import PRESETS, SimClock, SiteBackend

ALL = [
    "/info",
    "/info.xml",
    "/home",
    "/production",
    "/production.json",
    "/api/v1/production",
    "/api/v1/production/inverters",
    "/ivp/pdm/device_data",
    "/ivp/meters",
    "/ivp/meters/readings",
    "/ivp/meters/reports",
    "/ivp/ensemble/inventory",
    "/ivp/ensemble/power",
    "/ivp/ensemble/secctrl",
    "/ivp/ensemble/status",
    "/ivp/ensemble/dry_contacts",
    "/ivp/ss/dry_contact_settings",
    "/ivp/ensemble/generator",
    "/ivp/ss/gen_config",
    "/ivp/ss/gen_mode",
    "/ivp/ss/gen_schedule",
    "/admin/lib/tariff",
    "/admin/lib/acb_config",
    "/inventory.json",
    "/ivp/ss/pel_settings",
    "/ivp/sc/pvlimit",
    "/ivp/livedata/status",
]
MODERN_ALWAYS = {
    "/info",
    "/info.xml",
    "/home",
    "/production",
    "/production.json",
    "/api/v1/production",
    "/api/v1/production/inverters",
    "/ivp/meters",
    "/ivp/meters/readings",
    "/ivp/ensemble/inventory",
    "/ivp/ensemble/power",
    "/ivp/ss/gen_config",
    "/ivp/ss/gen_schedule",
    "/admin/lib/tariff",
    "/inventory.json",
    "/ivp/ss/pel_settings",
    "/ivp/sc/pvlimit",
}
ENSEMBLE = {"/ivp/ensemble/secctrl", "/ivp/ensemble/status", "/ivp/livedata/status"}
EXPECTED_200: dict[str, set[str]] = {
    "legacy-3x": {
        "/info",
        "/info.xml",
        "/production",
        "/api/v1/production",
        "/api/v1/production/inverters",
    },
    "legacy-5x": {
        "/info",
        "/info.xml",
        "/production",
        "/production.json",
        "/api/v1/production",
        "/api/v1/production/inverters",
        "/ivp/meters",
        "/ivp/meters/readings",
        "/admin/lib/tariff",
        "/inventory.json",
        "/ivp/ensemble/inventory",
        "/ivp/ensemble/power",
        "/ivp/ensemble/secctrl",
        "/ivp/ensemble/status",
        "/ivp/ensemble/dry_contacts",
        "/ivp/ensemble/generator",
    },
    "standard": MODERN_ALWAYS,
    "metered-split": MODERN_ALWAYS,
    "metered-3phase": MODERN_ALWAYS | {"/ivp/pdm/device_data", "/ivp/meters/reports"},
    "export-limit": MODERN_ALWAYS | {"/ivp/pdm/device_data", "/ivp/meters/reports"},
}
BATTERY_EXTRA = ENSEMBLE | {
    "/ivp/pdm/device_data",
    "/ivp/meters/reports",
    "/ivp/ensemble/dry_contacts",
    "/ivp/ss/dry_contact_settings",
    "/ivp/ensemble/generator",
}
for _name in ("battery-backup", "tariff-ignored", "cloud-overwrite"):
    EXPECTED_200[_name] = MODERN_ALWAYS | BATTERY_EXTRA
EXPECTED_200["generator"] = MODERN_ALWAYS | BATTERY_EXTRA | {"/ivp/ss/gen_mode"}
EXPECTED_200["acb"] = (
    MODERN_ALWAYS
    | ENSEMBLE
    | {"/ivp/pdm/device_data", "/ivp/meters/reports", "/admin/lib/acb_config"}
)
EXPECTED_200["collar"] = MODERN_ALWAYS | ENSEMBLE | {"/ivp/pdm/device_data", "/ivp/meters/reports"}

START = 1_720_000_000.0


def noon(name: str) -> float:
    tz = ZoneInfo(PRESETS[name].timezone)
    return datetime(2024, 7, 3, 12, 30, tzinfo=tz).timestamp()


def backend(name: str, at: float | None = None, seed: int = 0) -> tuple[SiteBackend, SimClock]:
    clock = SimClock(start=at if at is not None else noon(name), speed=0)
    return SiteBackend.from_preset(name, clock=clock, seed=seed), clock


def get(b: SiteBackend, path: str, **query: str) -> object:
    reply = b.handle("GET", path, query, b"")
    assert reply is not None and reply.status == 200, path
    return orjson.loads(reply.body)


def test_every_preset_is_covered() -> None:
    assert set(EXPECTED_200) == set(PRESETS)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_answers_exactly_its_endpoints(name: str) -> None:
    b, _ = backend(name)
    got = set()
    for path in ALL:
        reply = b.handle("GET", path, {}, b"")
        if reply is None or reply.status == 404:
            continue
        assert reply.status == 200
        got.add(path)
        if reply.content_type == "application/json":
            orjson.loads(reply.body)
    assert got == EXPECTED_200[name]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_info_xml_names_the_site(name: str) -> None:
    b, _ = backend(name)
    reply = b.handle("GET", "/info", {}, b"")
    assert reply is not None and reply.content_type == "application/xml"
    root = ElementTree.fromstring(reply.body)
    cfg = PRESETS[name]
    assert root.findtext("device/sn") == cfg.serial == b.serial
    assert root.findtext("device/software") == cfg.firmware == b.firmware
    tokens = root.findtext("web-tokens")
    assert (tokens == "true") is cfg.fw.at_least(7)
    if cfg.fw.at_least(4):
        assert root.findtext("device/imeter") == ("true" if cfg.metered else "false")


def test_legacy_3x_html_production_and_ensemble_404_bodies() -> None:
    b, _ = backend("legacy-3x")
    page = b.handle("GET", "/production", {}, b"")
    assert page is not None and page.content_type == "text/html"
    text = page.body.decode()
    for label in ("Currently", "Today", "Past Week", "Since Installation"):
        assert f"<td>{label}</td>" in text
    assert "MWh" in text  # 14.6 MWh lifetime
    reply = b.handle("GET", "/ivp/ensemble/inventory", {}, b"")
    assert reply is not None and reply.status == 404
    assert reply.body == b'{ "error" : "404 - Not Found" }'
    assert b.handle("GET", "/production.json", {}, b"") is None
    inverters = get(b, "/api/v1/production/inverters")
    assert isinstance(inverters, list) and len(inverters) == 12
    assert "devType" not in inverters[0]


def test_legacy_5x_ensemble_error_with_200_and_no_eim() -> None:
    b, _ = backend("legacy-5x")
    reply = b.handle("GET", "/ivp/ensemble/power", {}, b"")
    assert reply is not None and reply.status == 200
    assert orjson.loads(reply.body) == {"error": "404 - Not Found"}
    doc = get(b, "/production.json")
    assert isinstance(doc, dict)
    assert [e["type"] for e in doc["production"]] == ["inverters"]
    assert "consumption" not in doc
    assert get(b, "/ivp/meters") == []


def test_lines_only_with_details_from_7_6() -> None:
    b, _ = backend("metered-split")
    plain = get(b, "/production.json")
    detailed = get(b, "/production.json", details="1")
    assert isinstance(plain, dict) and isinstance(detailed, dict)
    assert "lines" not in plain["production"][1]
    assert len(detailed["production"][1]["lines"]) == 2
    assert [c["measurementType"] for c in detailed["consumption"]] == [
        "total-consumption",
        "net-consumption",
    ]


def test_meters_shapes_three_phase() -> None:
    b, _ = backend("metered-3phase")
    meters = get(b, "/ivp/meters")
    assert isinstance(meters, list)
    assert [m["measurementType"] for m in meters] == ["production", "net-consumption"]
    assert all(
        m["phaseMode"] == "three" and m["phaseCount"] == 3 and m["statusFlags"] == []
        for m in meters
    )
    readings = get(b, "/ivp/meters/readings")
    assert isinstance(readings, list)
    for r in readings:
        assert len(r["channels"]) == 3
        assert r["voltage"] == pytest.approx(sum(c["voltage"] for c in r["channels"]), abs=0.002)
        assert 600 < r["voltage"] < 720  # sum of three ~230 V phases
    dd = get(b, "/ivp/pdm/device_data")
    assert isinstance(dd, dict)
    assert dd["deviceCount"] == 17 and dd["deviceDataLimit"] == 50
    pcu = dd["553648384"]
    reading = pcu["channels"][0]["lastReading"]
    assert pcu["devName"] == "pcu" and 220_000 < reading["acVoltageINmV"] < 240_000
    assert 49_900 < reading["acFrequencyINmHz"] < 50_100


def test_firmware_8_inventory_drops_fields_and_enpower_reads_fahrenheit() -> None:
    b, _ = backend("battery-backup")
    inv = get(b, "/ivp/ensemble/inventory")
    assert isinstance(inv, list)
    groups = {g["type"]: g["devices"] for g in inv}
    assert len(groups["ENCHARGE"]) == 3 and len(groups["ENPOWER"]) == 1
    for dev in groups["ENCHARGE"] + groups["ENPOWER"]:
        assert "operating" not in dev and "zigbee_dongle_fw_version" not in dev
    assert groups["ENPOWER"][0]["temperature"] > 60  # °F
    power = get(b, "/ivp/ensemble/power")
    assert isinstance(power, dict) and len(power["devices:"]) == 3


def test_collar_site_lists_collar_c6_and_its_ct_types() -> None:
    b, _ = backend("collar")
    inv = get(b, "/ivp/ensemble/inventory")
    assert isinstance(inv, list)
    assert [g["type"] for g in inv] == [
        "ENCHARGE",
        "COLLAR",
        "C6 COMBINER CONTROLLER",
        "C6 RGM",
    ]
    meters = get(b, "/ivp/meters")
    assert isinstance(meters, list)
    states = {m["measurementType"]: m["state"] for m in meters}
    assert states == {
        "production": "enabled",
        "net-consumption": "enabled",
        "storage": "enabled",
        "backfeed": "enabled",
        "load": "disabled",
        "evse": "disabled",
        "pv3p": "disabled",
    }


def test_generator_documents() -> None:
    b, _ = backend("generator")
    assert get(b, "/ivp/ss/gen_mode") == {"gen_cmd": "auto", "last_updated_by": "ITK"}
    cfg = get(b, "/ivp/ss/gen_config")
    assert isinstance(cfg, dict) and cfg["charge_from_generator"] is True
    gen = get(b, "/ivp/ensemble/generator")
    assert isinstance(gen, dict) and gen["present"] == 1
    plain, _ = backend("battery-backup")
    assert get(plain, "/ivp/ss/gen_config") == {}


def test_acb_storage_entry_and_inventory_json() -> None:
    b, _ = backend("acb")
    doc = get(b, "/production.json")
    assert isinstance(doc, dict)
    storage = doc["storage"][0]
    assert storage["type"] == "acb" and storage["activeCount"] == 3 and "percentFull" in storage
    inv = get(b, "/inventory.json")
    assert isinstance(inv, list)
    groups = {g["type"]: g["devices"] for g in inv}
    assert len(groups["PCU"]) == 17 and len(groups["ACB"]) == 3 and groups["NSRB"] == []
    assert isinstance(groups["PCU"][0]["installed"], str)


def test_livedata_stream_disabled_until_enabled() -> None:
    b, _ = backend("battery-backup")
    live = get(b, "/ivp/livedata/status")
    assert isinstance(live, dict) and live["connection"]["sc_stream"] == "disabled"
    reply = b.handle("POST", "/ivp/livedata/stream", {}, b'{"enable":1}')
    assert reply is not None and reply.status == 200
    live = get(b, "/ivp/livedata/status")
    assert isinstance(live, dict) and live["connection"]["sc_stream"] == "enabled"


def test_unknown_paths_and_preset_names() -> None:
    b, _ = backend("standard")
    assert b.handle("GET", "/nope", {}, b"") is None
    assert b.handle("POST", "/ivp/ensemble/relay", {}, b'{"mains_admin_state":"open"}') is None
    with pytest.raises(ValueError, match="unknown preset"):
        SiteBackend.from_preset("nope", clock=SimClock(start=START, speed=0))
    assert b.timezone == PRESETS["standard"].timezone and b.config is PRESETS["standard"]

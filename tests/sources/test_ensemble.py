"""Ensemble endpoints (inventory, power, secctrl) and the combined Encharge battery view."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enphase_local.engine.battery import summarize_encharge
from enphase_local.errors import EnvoyParseError
from enphase_local.models.battery import BatteryAggregate, EnchargePower
from enphase_local.models.ensemble import (
    CollarGridState,
    EnchargeUnit,
    EnsembleInventory,
    GridMode,
    RelayState,
)
from enphase_local.sources.ensemble import (
    ENSEMBLE_INVENTORY,
    ENSEMBLE_POWER,
    ENSEMBLE_SECCTRL,
    fahrenheit_to_celsius,
    parse_ensemble_inventory,
    parse_ensemble_power,
    parse_ensemble_secctrl,
)
from enphase_local.sources.registry import Cadence, Role, Speed
from tests.fuzz import mutated_json, parses_or_refuses
from tests.hypothesis_profile import examples
from tests.support import needs_real, real_body, real_cases

# --- hand-written examples, shaped like the captures (serials invented) ------

ENCHARGE = {
    "part_num": "836-00750-r27",
    "serial_num": "500000000001",
    "installed": 1700000000,
    "device_status": ["envoy.global.ok", "prop.done"],
    "last_rpt_date": 1700000600,
    "admin_state": 6,
    "admin_state_str": "ENCHG_STATE_READY",
    "img_pnum_running": "3.0.6614_rel/31.13",
    "bmu_fw_version": "3.8.63",
    "communicating": True,
    "sleep_enabled": False,
    "percentFull": 40,
    "temperature": 21,
    "maxCellTemp": 22,
    "reported_enc_grid_state": "grid-tied",
    "led_status": 12,
    "dc_switch_off": False,
    "encharge_capacity": 3500,
    "phase": "ph-b",
}
ENPOWER = {
    "part_num": "860-00276-r33",
    "serial_num": "500000000009",
    "installed": 1700000000,
    "last_rpt_date": 1700000500,
    "admin_state_str": "ENPWR_STATE_OPER_OPEN",
    "img_pnum_running": "2.7.6936_rel/31.43",
    "communicating": True,
    "temperature": 212,
    "mains_admin_state": "open",
    "mains_oper_state": "open",
    "Enpwr_grid_mode": "multimode-offgrid",
    "Enchg_grid_mode": "multimode-offgrid",
    "Enpwr_relay_state_bm": 304,
}
INVENTORY_DOC: list[Any] = [
    {"type": "ENCHARGE", "devices": [ENCHARGE]},
    {"type": "ENPOWER", "devices": [ENPOWER]},
    {"type": "SOMETHING NEW", "devices": [{"whatever": 1}]},
]
POWER_DOC = {
    "devices:": [
        {
            "serial_num": "500000000001",
            "real_power_mw": 1250500,
            "apparent_power_mva": 1300000,
            "soc": 41,
        }
    ]
}
SECCTRL_DOC = {
    "shutdown": False,
    "configured_backup_soc": 30,
    "adjusted_backup_soc": 35,
    "agg_soc": 40,
    "Max_energy": 3500,
    "ENC_agg_soc": 40,
    "ENC_agg_soh": 98,
    "ENC_agg_backup_energy": 1050,
    "ENC_agg_avail_energy": 1400,
    "Enc_commissioned_capacity": 3500,
    "Enc_max_available_capacity": 3500,
    "ACB_agg_soc": 0,
    "ACB_agg_energy": 0,
    "VLS_Limit": 5,
}


def body(doc: Any) -> bytes:
    return json.dumps(doc).encode()


# --- /ivp/ensemble/inventory ------------------------------------------------------


def test_inventory_example() -> None:
    inv = parse_ensemble_inventory(body(INVENTORY_DOC))
    (unit,) = inv.encharge
    assert unit.serial == "500000000001" and unit.part_number == "836-00750-r27"
    assert (unit.soc_percent, unit.temperature_c, unit.max_cell_temp_c) == (40, 21, 22)
    assert unit.capacity_wh == 3500 and unit.last_report == 1700000600
    assert unit.grid_state is GridMode.GRID_TIED and unit.phase == "ph-b"
    assert unit.firmware == "3.0.6614_rel/31.13" and unit.bmu_firmware == "3.8.63"
    assert unit.operating is None and unit.zigbee_dongle_fw_version is None
    enpower = inv.enpower
    assert enpower is not None
    assert enpower.temperature_c == 100.0  # 212 °F
    assert enpower.mains_oper_state is RelayState.OPEN
    assert enpower.grid_mode is GridMode.MULTIMODE_OFFGRID and enpower.grid_mode.on_grid is False
    assert enpower.relay_state_bitmask == 304
    assert inv.collar is None and inv.c6_combiner is None and inv.c6_rgm is None


def test_inventory_empty_and_unknown_values() -> None:
    assert parse_ensemble_inventory(b"[]") == EnsembleInventory()
    empty_groups = [{"type": "ENCHARGE", "devices": []}, {"type": "ENPOWER", "devices": []}]
    assert parse_ensemble_inventory(body(empty_groups)) == EnsembleInventory()
    odd = copy.deepcopy(ENPOWER) | {"Enpwr_grid_mode": "islanded-ish", "mains_oper_state": "ajar"}
    enpower = parse_ensemble_inventory(body([{"type": "ENPOWER", "devices": [odd]}])).enpower
    assert enpower is not None
    assert enpower.grid_mode is GridMode.UNKNOWN and enpower.grid_mode.on_grid is None
    assert enpower.mains_oper_state is RelayState.UNKNOWN


@pytest.mark.parametrize(
    "doc",
    [
        {"type": "ENCHARGE", "devices": []},  # not a list of groups
        [{"devices": []}],  # group without a type
        [{"type": 7, "devices": []}],
        [{"type": "ENCHARGE", "devices": {}}],
        [{"type": "ENCHARGE", "devices": [ENCHARGE | {"percentFull": "40"}]}],
        [
            {
                "type": "ENCHARGE",
                "devices": [{k: v for k, v in ENCHARGE.items() if k != "serial_num"}],
            }
        ],
        [{"type": "ENCHARGE", "devices": [ENCHARGE | {"reported_enc_grid_state": 1}]}],
        [{"type": "ENPOWER", "devices": [ENPOWER | {"temperature": None}]}],
        [{"type": "ENPOWER", "devices": [ENPOWER | {"Enpwr_grid_mode": ["grid-tied"]}]}],
        [{"type": "COLLAR", "devices": ["not an object"]}],
    ],
)
def test_inventory_refuses_wrong_shapes(doc: Any) -> None:
    with pytest.raises(EnvoyParseError) as info:
        parse_ensemble_inventory(body(doc))
    assert info.value.path == "/ivp/ensemble/inventory"


def test_fahrenheit_to_celsius() -> None:
    assert fahrenheit_to_celsius(32) == 0.0
    assert fahrenheit_to_celsius(79) == 26.1
    assert fahrenheit_to_celsius(-40) == -40.0


@needs_real
@pytest.mark.parametrize("folder", real_cases("ivp_ensemble_inventory"))
def test_real_inventory_parses(folder: str) -> None:
    raw = real_body(folder, "ivp_ensemble_inventory")
    assert raw is not None
    inv = parse_ensemble_inventory(raw)
    serials = [u.serial for u in inv.encharge]
    assert len(set(serials)) == len(serials)
    for unit in inv.encharge:
        assert unit.serial and unit.part_number
        assert 0 <= unit.soc_percent <= 100
        assert 1000 <= unit.capacity_wh <= 20000
        assert -20 <= unit.temperature_c <= 60
        assert unit.last_report > 1_500_000_000
        # firmware 8 dropped these two keys; 7.x still sends them
        assert (unit.operating is None) == folder.startswith("8.")
        assert (unit.zigbee_dongle_fw_version is None) == folder.startswith("8.")
    if inv.enpower is not None:
        assert -20 <= inv.enpower.temperature_c <= 60  # converted from °F
        assert inv.enpower.mains_oper_state is RelayState.CLOSED
        assert inv.enpower.grid_mode.on_grid is True
    assert inv.to_dict()["encharge"] == [u.to_dict() for u in inv.encharge]


@needs_real
def test_real_collar_site() -> None:
    raw = real_body("8.3.1598_collar", "ivp_ensemble_inventory")
    assert raw is not None
    inv = parse_ensemble_inventory(raw)
    assert [u.soc_percent for u in inv.encharge] == [92, 86]
    assert [u.capacity_wh for u in inv.encharge] == [5000, 5000]
    assert all(u.grid_state is GridMode.GRID_TIED for u in inv.encharge)
    assert inv.enpower is None
    collar = inv.collar
    assert collar is not None
    assert collar.grid_state is CollarGridState.ON_GRID and collar.mid_state == "close"
    assert collar.collar_state == "Installed" and collar.control_error == 0
    assert collar.temperature_c == 42 and collar.firmware == "3.0.6-D0"
    c6 = inv.c6_combiner
    assert c6 is not None and c6.firmware == "0.1.20-D1" and c6.communicating is True
    assert c6.admin_state_str == "ENCMN_C6_CC_READY"
    rgm = inv.c6_rgm
    assert rgm is not None and rgm.firmware == "2.2.1-D4119" and rgm.device_state == 80


@needs_real
def test_real_generator_site_enpower() -> None:
    raw = real_body("8.3.5169_with_generator", "ivp_ensemble_inventory")
    assert raw is not None
    inv = parse_ensemble_inventory(raw)
    assert inv.encharge == ()
    enpower = inv.enpower
    assert enpower is not None
    assert enpower.serial == "202411990001"
    assert enpower.temperature_c == pytest.approx(26.1)  # 79 °F
    assert enpower.mains_admin_state is RelayState.CLOSED
    assert enpower.mains_oper_state is RelayState.CLOSED
    assert enpower.grid_mode is GridMode.GRID_TIED
    assert enpower.encharge_grid_mode is GridMode.UNKNOWN
    assert enpower.relay_state_bitmask == 15664
    assert enpower.firmware == "2.0.6936_rel/31.43" and enpower.operating is None


@needs_real
def test_real_firmware_7_inventory() -> None:
    raw = real_body("7.3.517", "ivp_ensemble_inventory")
    assert raw is not None
    inv = parse_ensemble_inventory(raw)
    assert len(inv.encharge) == 3
    unit = inv.encharge[0]
    assert unit.operating is True and unit.zigbee_dongle_fw_version == "100B"
    assert unit.grid_state is None and unit.phase is None and unit.capacity_wh == 3360
    assert inv.enpower is not None
    assert inv.enpower.temperature_c == pytest.approx(31.1)  # 88 °F
    assert inv.enpower.grid_mode is GridMode.MULTIMODE_ONGRID


# --- /ivp/ensemble/power ------------------------------------------------------------


def test_power_example() -> None:
    power = parse_ensemble_power(body(POWER_DOC))
    assert power == {
        "500000000001": EnchargePower(
            serial="500000000001", watts=1250.5, va=1300.0, soc_percent=41
        )
    }
    assert parse_ensemble_power(b'{"devices:": []}') == {}


def test_power_accepts_a_fixed_key_name() -> None:
    fixed = {"devices": POWER_DOC["devices:"]}
    assert parse_ensemble_power(body(fixed))["500000000001"].watts == 1250.5


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"batteries": []},
        {"devices:": {}},
        {
            "devices:": [
                {"serial_num": "1", "real_power_mw": "5", "apparent_power_mva": 0, "soc": 1}
            ]
        },
        {"devices:": [{"serial_num": "1", "apparent_power_mva": 0, "soc": 1}]},
        {"devices:": [{"serial_num": 1, "real_power_mw": 0, "apparent_power_mva": 0, "soc": 1}]},
    ],
)
def test_power_refuses_wrong_shapes(doc: Any) -> None:
    with pytest.raises(EnvoyParseError):
        parse_ensemble_power(body(doc))


@needs_real
@pytest.mark.parametrize("folder", real_cases("ivp_ensemble_power"))
def test_real_power_parses(folder: str) -> None:
    raw = real_body(folder, "ivp_ensemble_power")
    assert raw is not None
    power = parse_ensemble_power(raw)
    for serial, unit in power.items():
        assert serial == unit.serial
        assert 0 <= unit.soc_percent <= 100
        assert abs(unit.watts) < 10_000  # one battery: a few kW at most


@needs_real
def test_real_power_values() -> None:
    raw = real_body("8.3.1598_collar", "ivp_ensemble_power")
    assert raw is not None
    power = parse_ensemble_power(raw)
    assert power["492516006337"].watts == -532.0 and power["492516006337"].soc_percent == 92
    assert power["492517004892"].watts == -552.0 and power["492517004892"].va == -552.0
    raw = real_body("8.2.4382_ACB", "ivp_ensemble_power")
    assert raw is not None
    assert parse_ensemble_power(raw)["122311091641"].watts == 105.0


@needs_real
@pytest.mark.parametrize(
    ("name", "parse"),
    [
        ("ivp_ensemble_power", parse_ensemble_power),
        ("ivp_ensemble_inventory", parse_ensemble_inventory),
        ("ivp_ensemble_secctrl", parse_ensemble_secctrl),
    ],
)
def test_real_404_body_is_a_gateway_error(name: str, parse: Callable[[bytes], Any]) -> None:
    raw = real_body("5.0.62", name)
    assert raw is not None
    with pytest.raises(EnvoyParseError) as info:
        parse(raw)
    assert info.value.gateway_error == "404 - Not Found"


# --- /ivp/ensemble/secctrl ---------------------------------------------------------


def test_secctrl_example_and_missing_keys() -> None:
    agg = parse_ensemble_secctrl(body(SECCTRL_DOC))
    assert agg.soc_percent == 40 and agg.soh_percent == 98 and agg.available_wh == 1400
    assert agg.backup_wh == 1050 and agg.max_available_wh == 3500 and agg.commissioned_wh == 3500
    assert agg.configured_backup_soc_percent == 30 and agg.adjusted_backup_soc_percent == 35
    assert agg.combined_soc_percent == 40 and agg.combined_max_wh == 3500
    assert agg.acb_soc_percent == 0 and agg.acb_wh == 0 and agg.very_low_soc_percent == 5
    old = {k: v for k, v in SECCTRL_DOC.items() if k not in ("ENC_agg_soh", "VLS_Limit")}
    agg = parse_ensemble_secctrl(body(old))
    assert agg.soh_percent is None and agg.very_low_soc_percent is None and agg.soc_percent == 40


@pytest.mark.parametrize("doc", [[], {"ENC_agg_soc": "40"}, {"Max_energy": True, "x": 1, "y": 2}])
def test_secctrl_refuses_wrong_shapes(doc: Any) -> None:
    with pytest.raises(EnvoyParseError):
        parse_ensemble_secctrl(body(doc))


@needs_real
@pytest.mark.parametrize("folder", real_cases("ivp_ensemble_secctrl"))
def test_real_secctrl_parses(folder: str) -> None:
    raw = real_body(folder, "ivp_ensemble_secctrl")
    assert raw is not None
    agg = parse_ensemble_secctrl(raw)
    for value in (agg.soc_percent, agg.combined_soc_percent, agg.acb_soc_percent):
        assert value is not None and 0 <= value <= 100
    assert agg.available_wh is not None and agg.max_available_wh is not None
    assert 0 <= agg.available_wh <= agg.max_available_wh
    assert (agg.very_low_soc_percent is None) == (not folder.startswith("8."))


@needs_real
def test_real_secctrl_values() -> None:
    raw = real_body("8.3.1598_collar", "ivp_ensemble_secctrl")
    assert raw is not None
    agg = parse_ensemble_secctrl(raw)
    assert agg.soc_percent == 89 and agg.available_wh == 8900 and agg.max_available_wh == 10000
    raw = real_body("8.2.4382_ACB", "ivp_ensemble_secctrl")
    assert raw is not None
    agg = parse_ensemble_secctrl(raw)
    assert agg.acb_soc_percent == 25 and agg.acb_wh == 930
    assert agg.combined_soc_percent == 39 and agg.combined_max_wh == 7220
    raw = real_body("7.3.517", "ivp_ensemble_secctrl")
    assert raw is not None
    assert parse_ensemble_secctrl(raw).soh_percent is None


# --- the combined battery view ----------------------------------------------------


def _unit(serial: str, soc: float, capacity: float) -> EnchargeUnit:
    return EnchargeUnit(
        serial=serial,
        part_number="836-00750-r27",
        soc_percent=soc,
        temperature_c=20,
        capacity_wh=capacity,
        communicating=True,
        last_report=1700000000,
    )


def test_summary_prefers_secctrl_and_live_unit_soc() -> None:
    inv = parse_ensemble_inventory(body(INVENTORY_DOC))
    power = parse_ensemble_power(body(POWER_DOC))
    agg = parse_ensemble_secctrl(body(SECCTRL_DOC))
    summary = summarize_encharge(inv, power, agg)
    assert summary is not None
    assert (summary.soc_percent, summary.available_wh, summary.capacity_wh) == (40, 1400, 3500)
    assert summary.reserve_soc_percent == 35  # the adjusted reserve is the one applied
    unit = summary.units["500000000001"]
    assert (unit.soc_percent, unit.watts, unit.temperature_c, unit.capacity_wh) == (
        41,  # live SoC from the power endpoint, not the inventory's 40
        1250.5,
        21,
        3500,
    )
    assert summary.to_dict()["units"]["500000000001"]["watts"] == 1250.5


def test_summary_falls_back_to_capacity_weighted_units() -> None:
    inv = EnsembleInventory(encharge=(_unit("a", 100, 3360), _unit("b", 50, 5000)))
    summary = summarize_encharge(inv, None, None)
    assert summary is not None
    assert summary.soc_percent == pytest.approx((100 * 3360 + 50 * 5000) / 8360)
    assert summary.capacity_wh == 8360
    assert summary.available_wh == pytest.approx(3360 + 2500)
    assert summary.reserve_soc_percent is None
    assert summary.units["a"].watts is None


def test_summary_ignores_an_all_zero_secctrl() -> None:
    zeros = BatteryAggregate(
        soc_percent=0,
        available_wh=0,
        max_available_wh=0,
        commissioned_wh=0,
        configured_backup_soc_percent=20,
    )
    inv = EnsembleInventory(encharge=(_unit("a", 80, 5000),))
    summary = summarize_encharge(inv, None, zeros)
    assert summary is not None and summary.soc_percent == 80 and summary.available_wh == 4000
    assert summary.reserve_soc_percent == 20  # configured, when no adjusted value is given
    assert summarize_encharge(EnsembleInventory(), {}, zeros) is None
    assert summarize_encharge(None, None, None) is None


def test_summary_from_power_or_secctrl_alone() -> None:
    power = {
        "a": EnchargePower("a", watts=-100, va=100, soc_percent=60),
        "b": EnchargePower("b", watts=-50, va=50, soc_percent=70),
    }
    summary = summarize_encharge(None, power, None)
    assert summary is not None and summary.soc_percent == 65 and summary.capacity_wh is None
    assert summary.available_wh is None and summary.units["b"].temperature_c is None
    agg = BatteryAggregate(soc_percent=55, available_wh=2750, commissioned_wh=5000)
    summary = summarize_encharge(None, None, agg)
    assert summary is not None and summary.units == {}
    assert (summary.soc_percent, summary.available_wh, summary.capacity_wh) == (55, 2750, 5000)


@needs_real
def test_real_summary_collar_site() -> None:
    folder = "8.3.1598_collar"
    inv_raw = real_body(folder, "ivp_ensemble_inventory")
    power_raw = real_body(folder, "ivp_ensemble_power")
    agg_raw = real_body(folder, "ivp_ensemble_secctrl")
    assert inv_raw is not None and power_raw is not None and agg_raw is not None
    inv = parse_ensemble_inventory(inv_raw)
    summary = summarize_encharge(
        inv, parse_ensemble_power(power_raw), parse_ensemble_secctrl(agg_raw)
    )
    assert summary is not None
    assert (summary.soc_percent, summary.available_wh, summary.capacity_wh) == (89, 8900, 10000)
    assert summary.units["492516006337"].watts == -532.0
    # without secctrl, the capacity-weighted SoC of two equal units is their mean
    alone = summarize_encharge(inv, None, None)
    assert alone is not None and alone.soc_percent == 89 and alone.available_wh == 8900


@needs_real
def test_real_summary_sites_without_batteries() -> None:
    folder = "8.3.5169_with_generator"
    inv_raw = real_body(folder, "ivp_ensemble_inventory")
    agg_raw = real_body(folder, "ivp_ensemble_secctrl")
    assert inv_raw is not None and agg_raw is not None
    inv = parse_ensemble_inventory(inv_raw)
    assert summarize_encharge(inv, {}, parse_ensemble_secctrl(agg_raw)) is None


def test_sources() -> None:
    assert (ENSEMBLE_INVENTORY.key, ENSEMBLE_INVENTORY.path) == (
        "ensemble_inventory",
        "/ivp/ensemble/inventory",
    )
    assert ENSEMBLE_INVENTORY.cadence is Cadence.REPORT
    assert (ENSEMBLE_POWER.key, ENSEMBLE_POWER.path) == ("ensemble_power", "/ivp/ensemble/power")
    assert (ENSEMBLE_SECCTRL.key, ENSEMBLE_SECCTRL.path) == (
        "ensemble_secctrl",
        "/ivp/ensemble/secctrl",
    )
    for source in (ENSEMBLE_INVENTORY, ENSEMBLE_POWER, ENSEMBLE_SECCTRL):
        assert source.role is Role.OWNER and source.speed is Speed.FAST
    assert ENSEMBLE_POWER.cadence is Cadence.LIVE and ENSEMBLE_SECCTRL.cadence is Cadence.LIVE
    assert ENSEMBLE_POWER.parse is parse_ensemble_power


# --- property tests: nothing but EnvoyParseError ------------------------------------

PARSERS = [
    (parse_ensemble_inventory, INVENTORY_DOC),
    (parse_ensemble_power, POWER_DOC),
    (parse_ensemble_secctrl, SECCTRL_DOC),
]
FAST = settings(
    max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize(("parse", "doc"), PARSERS)
@FAST
@given(data=st.data())
def test_mutated_documents(parse: Callable[[bytes], Any], doc: Any, data: st.DataObject) -> None:
    parses_or_refuses(parse, data.draw(mutated_json(doc)))


REAL_DOCS = [
    (parse, name, folder)
    for parse, name in (
        (parse_ensemble_inventory, "ivp_ensemble_inventory"),
        (parse_ensemble_power, "ivp_ensemble_power"),
        (parse_ensemble_secctrl, "ivp_ensemble_secctrl"),
    )
    for folder in real_cases(name)
    if folder in ("8.3.1598_collar", "7.3.517", "8.3.5169_with_generator")
]


@needs_real
@pytest.mark.parametrize(("parse", "name", "folder"), REAL_DOCS)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_mutated_real_documents(
    parse: Callable[[bytes], Any], name: str, folder: str, data: st.DataObject
) -> None:
    raw = real_body(folder, name)
    assert raw is not None
    parses_or_refuses(parse, data.draw(mutated_json(json.loads(raw))))


# --- 8.3.6000+: relay sub-states (issue 12 case 6) -----------------------------------------


@pytest.mark.parametrize(
    ("sent", "contact", "substate"),
    [
        ("closed", RelayState.CLOSED, None),
        ("open", RelayState.OPEN, None),
        ("open synchronizing", RelayState.OPEN, "synchronizing"),
        ("open synchronized", RelayState.OPEN, "synchronized"),
        ("Open  Synchronized", RelayState.OPEN, "Synchronized"),
        ("closed_synchronizing", RelayState.CLOSED, "synchronizing"),
        ("ajar", RelayState.UNKNOWN, "ajar"),
    ],
)
def test_relay_contact_state_and_substate(
    sent: str, contact: RelayState, substate: str | None
) -> None:
    assert RelayState.with_substate(sent) == (contact, substate)


@needs_real
def test_synchronizing_relay_in_a_real_inventory_is_open() -> None:
    """The 8.3.5169 inventory with the Enpower's relay as 8.3.6000+ reports it off grid."""
    body = real_body("8.3.5169_with_generator", "ivp_ensemble_inventory")
    assert body is not None
    groups = json.loads(body)
    enpower = next(g for g in groups if g["type"] == "ENPOWER")["devices"][0]
    enpower["mains_admin_state"] = "open"
    enpower["mains_oper_state"] = "open synchronizing"
    inventory = parse_ensemble_inventory(json.dumps(groups).encode())
    assert inventory.enpower is not None
    assert inventory.enpower.mains_oper_state is RelayState.OPEN
    assert inventory.enpower.mains_oper_substate == "synchronizing"
    assert inventory.enpower.mains_admin_state is RelayState.OPEN
    assert inventory.enpower.mains_admin_substate is None
    plain = inventory.enpower.to_dict()
    assert (plain["mains_oper_state"], plain["mains_oper_substate"]) == ("open", "synchronizing")

"""``/inventory.json?deleted=1`` and the combined AC Battery view."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enphase_local.engine.battery import summarize_acb
from enphase_local.errors import EnvoyParseError
from enphase_local.models.battery import AcbState, AcbStorage, AcbUnit
from enphase_local.models.ensemble import RelayState
from enphase_local.sources.inventory import INVENTORY, parse_inventory
from enphase_local.sources.registry import Cadence, Role, Speed
from tests.fuzz import mutated_json, parses_or_refuses
from tests.hypothesis_profile import examples
from tests.support import needs_real, real_body, real_cases

# Written for these tests in the shape the gateway uses (epochs as numeric strings).
ACB = {
    "part_num": "800-00930-r02",
    "installed": "1579193476",
    "serial_num": "121234567890",
    "device_status": ["envoy.global.ok"],
    "last_rpt_date": "1608070219",
    "admin_state": 1,
    "dev_type": 11,
    "created_date": "1579193476",
    "img_load_date": "1579193476",
    "img_pnum_running": "520-00076-r01-v01.12.03",
    "ptpn": "540-00134-r01-v01.12.03",
    "chaneid": 1711341601,
    "device_control": [{"gficlearset": False}],
    "producing": False,
    "communicating": True,
    "sleep_enabled": False,
    "percentFull": 25,
    "maxCellTemp": 16,
    "sleep_min_soc": 25,
    "sleep_max_soc": 30,
    "charge_status": "idle",
}
ACB_2 = ACB | {
    "serial_num": "121234567891",
    "percentFull": 35,
    "sleep_enabled": True,
    "charge_status": "charging",
    "last_rpt_date": "1608070300",
}
PCU = {
    "part_num": "800-01127-r02",
    "installed": "1650000000",
    "serial_num": "482200000001",
    "device_status": ["envoy.global.ok"],
    "last_rpt_date": "1700000300",
    "admin_state": 1,
    "dev_type": 1,
    "img_pnum_running": "520-00082-r01-v04.38.10",
    "producing": True,
    "communicating": True,
    "provisioned": True,
    "operating": True,
    "phase": "ph-b",
}
PCU_DELETED = PCU | {
    "serial_num": "482200000002",
    "deleted": True,
    "producing": False,
    "communicating": False,
    "device_status": ["envoy.global.ok", "envoy.cond_flags.pcu_ctrl.dc-pwr-low"],
}
NSRB = {
    "part_num": "800-00597-r02",
    "installed": "1650000100",
    "serial_num": "482200000099",
    "device_status": ["envoy.global.ok"],
    "last_rpt_date": "1700000200",
    "admin_state": 1,
    "dev_type": 12,
    "img_pnum_running": "520-00067-r01-v02.22.04",
    "producing": False,
    "communicating": True,
    "provisioned": True,
    "operating": True,
    "relay": "open",
    "forced": True,
    "reason_code": 6,
    "reason": "forced-open",
    "line-count": 2,
    "line1-connected": False,
    "line2-connected": False,
}
DOC: list[Any] = [
    {"type": "PCU", "devices": [PCU, PCU_DELETED]},
    {"type": "ACB", "devices": [ACB, ACB_2]},
    {"type": "NSRB", "devices": [NSRB]},
    {"type": "GADGET", "devices": [{"anything": True}]},
]


def body(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def test_example() -> None:
    inv = parse_inventory(body(DOC))
    assert [d.serial for d in inv.pcu] == ["482200000001", "482200000002"]
    pcu = inv.pcu[0]
    assert pcu.installed == 1650000000 and pcu.last_report == 1700000300
    assert (pcu.producing, pcu.communicating, pcu.provisioned, pcu.operating) == (
        True,
        True,
        True,
        True,
    )
    assert pcu.phase == "ph-b" and pcu.firmware == "520-00082-r01-v04.38.10"
    assert pcu.device_status == ("envoy.global.ok",) and pcu.deleted is None
    assert inv.pcu[1].deleted is True and len(inv.pcu[1].device_status) == 2
    assert inv.esub == ()


def test_acb_units() -> None:
    acb = parse_inventory(body(DOC)).acb
    assert acb[0] == AcbUnit(
        serial="121234567890",
        soc_percent=25,
        max_cell_temp_c=16,
        sleep_enabled=False,
        sleep_min_soc_percent=25,
        sleep_max_soc_percent=30,
        charge_status=AcbState.IDLE,
        producing=False,
        communicating=True,
        last_report=1608070219,
    )
    assert acb[1].charge_status is AcbState.CHARGING and acb[1].sleep_enabled is True
    odd = ACB | {"charge_status": "resting"}
    (unit,) = parse_inventory(body([{"type": "ACB", "devices": [odd]}])).acb
    assert unit.charge_status is AcbState.UNKNOWN
    assert acb[0].to_dict()["charge_status"] == "idle"


def test_q_relays() -> None:
    (relay,) = parse_inventory(body(DOC)).nsrb
    assert relay.serial == "482200000099" and relay.relay is RelayState.OPEN
    assert relay.forced is True and relay.reason == "forced-open"
    assert (relay.line1_connected, relay.line2_connected, relay.line3_connected) == (
        False,
        False,
        None,
    )
    assert relay.last_report == 1700000200
    closed = NSRB | {"relay": "closed", "forced": False, "line1-connected": True}
    (relay,) = parse_inventory(body([{"type": "NSRB", "devices": [closed]}])).nsrb
    assert relay.relay is RelayState.CLOSED and relay.line1_connected is True


@pytest.mark.parametrize(
    "doc",
    [
        {"type": "PCU", "devices": []},
        [{"type": "PCU"}, 3],
        [{"type": "PCU", "devices": [PCU | {"installed": "yesterday"}]}],
        [{"type": "PCU", "devices": [PCU | {"device_status": ["ok", 3]}]}],
        [{"type": "PCU", "devices": [PCU | {"producing": "maybe"}]}],
        [{"type": "ACB", "devices": [{k: v for k, v in ACB.items() if k != "percentFull"}]}],
        [{"type": "ACB", "devices": [ACB | {"charge_status": 1}]}],
        [{"type": "NSRB", "devices": [NSRB | {"line1-connected": "yes"}]}],
        [{"type": "NSRB", "devices": [{k: v for k, v in NSRB.items() if k != "serial_num"}]}],
    ],
)
def test_refuses_wrong_shapes(doc: Any) -> None:
    with pytest.raises(EnvoyParseError) as info:
        parse_inventory(body(doc))
    assert info.value.path == "/inventory.json?deleted=1"


@needs_real
@pytest.mark.parametrize("folder", real_cases("inventory.json_deleted_1"))
def test_real_inventory_parses(folder: str) -> None:
    raw = real_body(folder, "inventory.json_deleted_1")
    assert raw is not None
    inv = parse_inventory(raw)
    assert inv.pcu
    for device in (*inv.pcu, *inv.esub):
        assert device.serial and device.part_number and device.device_status
        assert device.installed is not None and device.installed > 1_400_000_000
        assert device.last_report is not None and device.last_report >= device.installed


@needs_real
def test_real_inventory_values() -> None:
    raw = real_body("8.3.5169_with_generator", "inventory.json_deleted_1")
    assert raw is not None
    inv = parse_inventory(raw)
    assert len(inv.pcu) == 20 and inv.acb == () and inv.nsrb == ()
    serials = sorted(d.serial for d in inv.pcu)
    assert serials == [f"4822089900{n:02d}" for n in range(1, 21)]
    first = next(d for d in inv.pcu if d.serial == "482208990001")
    assert first.installed == 1750786534 and first.last_report == 1785593319
    assert first.firmware == "521-00005-r06-v02.61.01" and first.phase == "ph-a"
    assert all(d.producing and d.communicating and d.provisioned for d in inv.pcu)
    (esub,) = inv.esub
    assert esub.serial == "202410990002" and esub.provisioned is None and esub.producing is False


# --- the combined AC Battery view -----------------------------------------------


def _units() -> tuple[AcbUnit, ...]:
    return parse_inventory(body(DOC)).acb


def test_acb_summary_from_production_bank() -> None:
    bank = AcbStorage(
        watts=260, wh_now=930, soc_percent=25, state=AcbState.DISCHARGING, active_count=3
    )
    summary = summarize_acb(bank, _units())
    assert summary is not None
    assert (summary.watts, summary.wh_now, summary.soc_percent) == (260, 930, 25)
    assert summary.state is AcbState.DISCHARGING and summary.count == 3
    assert set(summary.units) == {"121234567890", "121234567891"}
    plain = summary.to_dict()
    assert plain["state"] == "discharging"
    assert plain["units"]["121234567891"]["sleep_max_soc_percent"] == 30


def test_acb_summary_from_units_alone() -> None:
    summary = summarize_acb(None, _units())
    assert summary is not None
    assert summary.soc_percent == 30  # mean of 25 and 35
    assert summary.watts is None and summary.wh_now is None and summary.count == 2
    assert summary.state is AcbState.UNKNOWN  # idle and charging disagree
    (one,) = _units()[:1]
    single = summarize_acb(None, (one,))
    assert single is not None and single.state is AcbState.IDLE


def test_acb_summary_without_acb() -> None:
    empty_bank = AcbStorage(watts=0, wh_now=0, soc_percent=0, state=AcbState.IDLE, active_count=0)
    assert summarize_acb(None, ()) is None
    assert summarize_acb(empty_bank, ()) is None
    summary = summarize_acb(empty_bank, _units())
    assert summary is not None and summary.soc_percent == 30 and summary.watts is None


def test_source() -> None:
    assert (INVENTORY.key, INVENTORY.path) == ("inventory", "/inventory.json?deleted=1")
    assert INVENTORY.role is Role.OWNER and INVENTORY.cadence is Cadence.CONFIG
    assert INVENTORY.speed is Speed.SLOW and INVENTORY.parse is parse_inventory


# --- property tests: nothing but EnvoyParseError --------------------------------

FAST = settings(max_examples=examples(200), deadline=None)


@FAST
@given(data=st.data())
def test_mutated_documents(data: st.DataObject) -> None:
    parses_or_refuses(parse_inventory, data.draw(mutated_json(DOC)))


@needs_real
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_mutated_real_document(data: st.DataObject) -> None:
    raw = real_body("8.3.5169_with_generator", "inventory.json_deleted_1")
    assert raw is not None
    parses_or_refuses(parse_inventory, data.draw(mutated_json(json.loads(raw))))

"""Writes: validated, applied only when valid, visible in the right views, with real delays."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from enphase_local.simulator import PRESETS, SimClock, SiteBackend


def site(name: str, hour: int = 12) -> tuple[SiteBackend, SimClock]:
    tz = ZoneInfo(PRESETS[name].timezone)
    clock = SimClock(start=datetime(2024, 7, 3, hour, tzinfo=tz).timestamp(), speed=0)
    return SiteBackend.from_preset(name, clock=clock, seed=5), clock


def get(b: SiteBackend, path: str) -> Any:
    reply = b.handle("GET", path, {}, b"")
    assert reply is not None and reply.status == 200, path
    return orjson.loads(reply.body)


def send(b: SiteBackend, method: str, path: str, doc: Any) -> tuple[int, Any]:
    body = doc if isinstance(doc, bytes) else orjson.dumps(doc)
    reply = b.handle(method, path, {}, body)
    assert reply is not None, path
    return reply.status, orjson.loads(reply.body)


def tariff_with(b: SiteBackend, **changes: Any) -> dict[str, Any]:
    doc = get(b, "/admin/lib/tariff")
    doc["tariff"]["storage_settings"].update(changes)
    return {"tariff": doc["tariff"]}


def test_tariff_write_changes_mode_and_battery_behaviour_keeping_unknown_keys() -> None:
    b, clock = site("battery-backup", hour=20)  # evening: self-consumption discharges
    assert b.state()["battery_w"] > 0
    doc = tariff_with(b, mode="backup", reserved_soc=100)
    doc["tariff"]["vendor_extension"] = {"keep": [1, 2.5, "x"], "rate": 0.321370005607605}
    status, _ = send(b, "PUT", "/admin/lib/tariff", doc)
    assert status == 200
    after = get(b, "/admin/lib/tariff")
    assert after["tariff"]["vendor_extension"] == {"keep": [1, 2.5, "x"], "rate": 0.321370005607605}
    assert after["tariff"]["storage_settings"]["mode"] == "backup"
    assert "schedule" in after
    clock.advance(60)
    assert b.state()["battery_w"] <= 0  # backup mode holds the charge
    assert get(b, "/ivp/ensemble/secctrl")["configured_backup_soc"] == 100


def test_whole_document_is_served_back_byte_for_byte() -> None:
    b, _ = site("battery-backup")
    doc = get(b, "/admin/lib/tariff")
    doc["tariff"]["storage_settings"]["charge_from_grid"] = True
    body = orjson.dumps(doc, option=orjson.OPT_INDENT_2)
    assert send(b, "PUT", "/admin/lib/tariff", body)[0] == 200
    reply = b.handle("GET", "/admin/lib/tariff", {}, b"")
    assert reply is not None and reply.body == body


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        {"nottariff": {}},
        {"tariff": {"storage_settings": {"mode": "turbo"}}},
        {"tariff": {"storage_settings": {"reserved_soc": 150}}},
        {"tariff": {"storage_settings": {"charge_from_grid": "yes"}}},
    ],
)
def test_bad_tariff_writes_are_400_and_change_nothing(body: Any) -> None:
    b, _ = site("battery-backup")
    before = b.handle("GET", "/admin/lib/tariff", {}, b"")
    status, doc = send(b, "PUT", "/admin/lib/tariff", body)
    assert status == 400 and "error" in doc
    assert b.handle("GET", "/admin/lib/tariff", {}, b"") == before


def test_ignore_tariff_writes_quirk() -> None:
    b, _ = site("tariff-ignored")
    status, _ = send(b, "PUT", "/admin/lib/tariff", tariff_with(b, mode="backup"))
    assert status == 200
    assert get(b, "/admin/lib/tariff")["tariff"]["storage_settings"]["mode"] == "self-consumption"
    assert b.state()["storage_mode"] == "self-consumption"


def test_cloud_overwrites_local_mode_after_delay() -> None:
    b, clock = site("cloud-overwrite")
    after_s = PRESETS["cloud-overwrite"].quirks.cloud_overwrite_after_s
    assert after_s is not None
    assert send(b, "PUT", "/admin/lib/tariff", tariff_with(b, mode="backup"))[0] == 200
    clock.advance(after_s - 5)
    assert get(b, "/admin/lib/tariff")["tariff"]["storage_settings"]["mode"] == "backup"
    assert b.state()["storage_mode"] == "backup"
    clock.advance(10)
    assert get(b, "/admin/lib/tariff")["tariff"]["storage_settings"]["mode"] == "self-consumption"
    assert b.state()["storage_mode"] == "self-consumption"


def test_relay_oper_state_follows_after_delay_and_off_grid_flows() -> None:
    b, clock = site("battery-backup", hour=20)
    delay = PRESETS["battery-backup"].relay_delay_s
    assert send(b, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"})[0] == 200
    enpower = get(b, "/ivp/ensemble/inventory")[1]["devices"][0]
    assert enpower["mains_admin_state"] == "open" and enpower["mains_oper_state"] == "closed"
    clock.advance(delay - 1)
    assert get(b, "/ivp/ensemble/inventory")[1]["devices"][0]["mains_oper_state"] == "closed"
    clock.advance(2)
    enpower = get(b, "/ivp/ensemble/inventory")[1]["devices"][0]
    assert enpower["mains_oper_state"] == "open"
    state = b.state()
    assert state["grid_w"] == 0
    assert state["battery_w"] == pytest.approx(state["load_w"] - state["pv_w"], abs=0.01)
    live = get(b, "/ivp/livedata/status")["meters"]
    assert live["main_relay_state"] == 0 and live["grid"]["agg_p_mw"] == 0
    assert send(b, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "closed"})[0] == 200
    clock.advance(delay + 1)
    assert b.state()["relay"] == "closed"
    assert send(b, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "ajar"})[0] == 400


def test_dry_contact_open_close_and_settings_settle() -> None:
    b, clock = site("battery-backup")
    status, _ = send(
        b, "POST", "/ivp/ensemble/dry_contacts", {"dry_contacts": {"id": "NO1", "status": "open"}}
    )
    assert status == 200
    contacts = {c["id"]: c["status"] for c in get(b, "/ivp/ensemble/dry_contacts")["dry_contacts"]}
    assert contacts == {"NC1": "closed", "NC2": "closed", "NO1": "open", "NO2": "closed"}
    settings = get(b, "/ivp/ss/dry_contact_settings")["dry_contacts"]
    nc2 = dict(settings[1], load_name="Pool pump", type="LOAD")
    assert send(b, "POST", "/ivp/ss/dry_contact_settings", {"dry_contacts": nc2})[0] == 200
    assert get(b, "/ivp/ss/dry_contact_settings")["dry_contacts"][1]["load_name"] == "Pool pump"
    contacts = {c["id"]: c["status"] for c in get(b, "/ivp/ensemble/dry_contacts")["dry_contacts"]}
    assert contacts["NC2"] == "open"  # settling
    clock.advance(PRESETS["battery-backup"].dry_contact_settle_s + 1)
    contacts = {c["id"]: c["status"] for c in get(b, "/ivp/ensemble/dry_contacts")["dry_contacts"]}
    assert contacts["NC2"] == "closed"
    partial = {"id": "NC2", "load_name": "x"}
    assert send(b, "POST", "/ivp/ss/dry_contact_settings", {"dry_contacts": partial})[0] == 400
    assert (
        send(
            b,
            "POST",
            "/ivp/ensemble/dry_contacts",
            {"dry_contacts": {"id": "ZZ", "status": "open"}},
        )[0]
        == 400
    )


def test_generator_writes() -> None:
    b, clock = site("generator", hour=21)
    assert b.state()["generator_w"] == 0
    assert send(b, "POST", "/ivp/ss/gen_mode", {"gen_cmd": "on"})[0] == 200
    assert get(b, "/ivp/ss/gen_mode")["gen_cmd"] == "on"
    clock.advance(30)
    state = b.state()
    assert state["generator_w"] > 0 and state["grid_w"] == pytest.approx(0, abs=0.01)
    gen = get(b, "/ivp/ensemble/generator")
    assert (
        gen["admin_mode"] == 1 and gen["admin_state"] == "closed" and gen["oper_state"] == "closed"
    )
    assert send(b, "POST", "/ivp/ss/gen_mode", {"gen_cmd": "maybe"})[0] == 400
    sched = get(b, "/ivp/ss/gen_schedule")
    sched["exercise_config"]["duration"] = 30
    assert send(b, "POST", "/ivp/ss/gen_schedule", sched)[0] == 200
    assert get(b, "/ivp/ss/gen_schedule")["exercise_config"]["duration"] == 30
    sched["exercise_config"]["duration"] = 35
    assert send(b, "POST", "/ivp/ss/gen_schedule", sched)[0] == 400
    config = get(b, "/ivp/ss/gen_config")
    config["charge_from_generator"] = False
    assert send(b, "POST", "/ivp/ss/gen_config", config)[0] == 200
    assert get(b, "/ivp/ss/gen_config")["charge_from_generator"] is False
    assert send(b, "POST", "/ivp/ss/gen_config", {"charge_from_generator": True})[0] == 400


def test_generator_runs_off_grid_in_auto_when_battery_low() -> None:
    b, clock = site("generator", hour=21)
    assert send(b, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"})[0] == 200
    clock.advance(60)
    state = b.state()
    assert state["grid_w"] == 0
    assert state["generator_w"] == pytest.approx(
        state["load_w"], abs=0.01
    )  # no battery: gen carries the house


def test_acb_sleep_and_wake() -> None:
    b, clock = site("acb", hour=20)
    serials = PRESETS["acb"].acb_serials()
    items = [{"serial_num": s, "sleep_min_soc": 25, "sleep_max_soc": 30} for s in serials]
    assert send(b, "PUT", "/admin/lib/acb_config", {"acb_sleep": items})[0] == 200
    assert len(get(b, "/admin/lib/acb_config")["acb_sleep"]) == 3
    clock.advance(60)
    assert b.state()["acb_w"] == 0  # all asleep
    assert (
        send(b, "DELETE", "/admin/lib/acb_config", {"acb_sleep": [{"serial_num": serials[0]}]})[0]
        == 200
    )
    assert len(get(b, "/admin/lib/acb_config")["acb_sleep"]) == 2
    bad = [{"serial_num": "000000000000", "sleep_min_soc": 25, "sleep_max_soc": 30}]
    assert send(b, "PUT", "/admin/lib/acb_config", {"acb_sleep": bad})[0] == 400
    bad = [{"serial_num": serials[0], "sleep_min_soc": 50, "sleep_max_soc": 30}]
    assert send(b, "PUT", "/admin/lib/acb_config", {"acb_sleep": bad})[0] == 400


def test_writes_absent_without_hardware() -> None:
    b, _ = site("metered-split")
    assert b.handle("POST", "/ivp/ss/gen_mode", {}, b'{"gen_cmd":"on"}') is None
    assert b.handle("PUT", "/admin/lib/acb_config", {}, b'{"acb_sleep":[]}') is None
    assert b.handle("POST", "/ivp/livedata/stream", {}, b'{"enable":1}') is None

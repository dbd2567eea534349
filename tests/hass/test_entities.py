"""Entities against a simulated gateway: one per feature-table instance, values the simulator's.

Expected values are read from the simulator by a separate `Envoy` (the library
on its own session), and spot values from the snapshot's JSON contract, so a
wrong conversion on the way into Home Assistant fails here.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.enphase_local import const
from custom_components.enphase_local.const import CORE_DOMAIN, DOMAIN, OPT_LIVE, OPT_TAKE_OVER
from custom_components.enphase_local.entity import PLATFORM_OF_KIND
from enphase_local.features import FEATURES, Kind, Readings, instances
from enphase_local.models.snapshot import Snapshot
from tests.hass.helpers import add_entry, unload
from tests.hass.simthread import SimThread


def _state_of(kind: Kind, device_class: str | None, value: Any) -> str:
    """The state string Home Assistant shows for a table value."""
    if kind in (Kind.SWITCH, Kind.BINARY_SENSOR):
        return "on" if value else "off"
    if device_class == "timestamp":
        return datetime.fromtimestamp(float(value)).astimezone().isoformat()
    if kind is Kind.TIME:
        return f"{int(value) // 60:02d}:{int(value) % 60:02d}:00"
    return str(value)


def _entity_id(hass: HomeAssistant, kind: Kind, unique_id: str) -> str | None:
    return er.async_get(hass).async_get_entity_id(PLATFORM_OF_KIND[kind], DOMAIN, unique_id)


async def check_every_entry(hass: HomeAssistant, expected: Snapshot) -> int:
    """Every table instance of `expected` is an entity showing its value; how many were compared."""
    readings = Readings(expected)
    serial = expected.gateway.serial
    checked = 0
    for inst in instances(FEATURES, readings):
        f = inst.feature
        if f.id in ("data_age", "token_days_left", "last_update"):
            continue  # they depend on when each side read
        entity_id = _entity_id(hass, f.kind, f"{serial}_{inst.uid}")
        assert entity_id is not None, f"no entity for {inst.uid}"
        state = hass.states.get(entity_id)
        if not f.enabled_by_default:
            assert state is None  # registered, disabled until the user enables it
            continue
        assert state is not None, entity_id
        if f.kind is Kind.BUTTON:
            continue
        value = inst.value(readings)
        shown = state.state
        if isinstance(value, float) and f.kind in (Kind.SENSOR, Kind.NUMBER):
            assert float(shown) == pytest.approx(value), entity_id
        else:
            want = _state_of(f.kind, f.device_class, value)
            if f.device_class == "timestamp":
                assert datetime.fromisoformat(shown) == datetime.fromisoformat(want), entity_id
            else:
                assert shown == want, entity_id
        checked += 1
    return checked


async def test_every_table_entry_is_an_entity_with_the_simulators_value(
    hass: HomeAssistant, sim: SimThread
) -> None:
    entry = await add_entry(hass, sim)
    expected = await hass.async_add_executor_job(sim.snapshot)
    serial = expected.gateway.serial
    assert await check_every_entry(hass, expected) > 40
    doc = expected.to_dict()
    production = hass.states.get(_entity_id(hass, Kind.SENSOR, f"{serial}_production_power") or "")
    assert production is not None
    assert float(production.state) == pytest.approx(doc["production"]["watts"])
    assert production.attributes["unit_of_measurement"] == "W"
    assert production.attributes["device_class"] == "power"
    mode = hass.states.get(_entity_id(hass, Kind.SELECT, f"{serial}_storage_mode") or "")
    assert mode is not None and mode.state == doc["tariff"]["storage_mode"]
    token = hass.states.get(_entity_id(hass, Kind.SENSOR, f"{serial}_token_days_left") or "")
    assert token is not None and float(token.state) > 30
    await unload(hass, entry)


async def test_a_control_change_is_confirmed_by_the_gateway(
    hass: HomeAssistant, sim: SimThread
) -> None:
    entry = await add_entry(hass, sim)
    serial = entry.unique_id
    reserve = _entity_id(hass, Kind.NUMBER, f"{serial}_reserve_soc")
    assert reserve is not None
    before = await hass.async_add_executor_job(sim.snapshot)
    assert before.tariff is not None and before.tariff.reserve_soc_percent != 42
    await hass.services.async_call(
        "number", "set_value", {"entity_id": reserve, "value": 42}, blocking=True
    )
    await hass.async_block_till_done()
    state = hass.states.get(reserve)
    assert state is not None
    assert float(state.state) == 42
    assert state.attributes["last_write"] == "confirmed"
    after = await hass.async_add_executor_job(sim.snapshot)
    assert after.tariff is not None and after.tariff.reserve_soc_percent == 42
    switch = _entity_id(hass, Kind.SWITCH, f"{serial}_charge_from_grid")
    assert switch is not None
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    state = hass.states.get(switch)
    assert state is not None and state.state == "on"
    assert state.attributes["last_write"] == "confirmed"
    await unload(hass, entry)


async def test_entities_go_unavailable_when_the_gateway_dies(
    hass: HomeAssistant, sim: SimThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await add_entry(hass, sim)
    serial = entry.unique_id
    power = _entity_id(hass, Kind.SENSOR, f"{serial}_production_power")
    assert power is not None
    state = hass.states.get(power)
    assert state is not None and state.state != "unavailable"
    await hass.async_add_executor_job(sim.stop)
    later = time.time() + 600  # ten minutes on: every source is due again
    monkeypatch.setattr(const, "CLOCK", lambda: later)
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    state = hass.states.get(power)
    assert state is not None and state.state == "unavailable"
    assert entry.runtime_data.last_update_success is False
    await unload(hass, entry)


async def test_live_entities_follow_the_stream(hass: HomeAssistant, sim: SimThread) -> None:
    entry = await add_entry(hass, sim, options={OPT_LIVE: True})
    coordinator = entry.runtime_data
    got = asyncio.Event()
    stop = coordinator.async_add_live_listener(got.set)
    async with asyncio.timeout(30):  # a frame is due about every second
        await got.wait()
    stop()
    frame = coordinator.frame
    live = _entity_id(hass, Kind.SENSOR, f"{entry.unique_id}_live_solar_power")
    assert live is not None
    await hass.async_block_till_done()
    state = hass.states.get(live)
    assert state is not None
    assert float(state.state) == pytest.approx(coordinator.frame.solar_watts)  # type: ignore[union-attr]
    assert frame is not None and frame.source in ("livedata", "stream_meter", "meters_readings")
    await unload(hass, entry)


async def test_diagnostics_are_redacted(
    hass: HomeAssistant, hass_client: Any, sim: SimThread
) -> None:
    entry = await add_entry(hass, sim)
    assert sim.gw is not None
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diag)
    assert sim.token() not in text and entry.data["token"] not in text
    assert sim.gw.serial not in text
    assert entry.data["fingerprint"] not in text
    assert diag["snapshot"]["production"]["watts"] > 0
    assert diag["last_update_success"] is True
    await unload(hass, entry)


async def test_an_expired_token_asks_for_reauth(
    hass: HomeAssistant, sim: SimThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await add_entry(hass, sim)
    assert sim.gw is not None
    sim.call(sim.gw.expire_tokens)
    later = time.time() + 600
    monkeypatch.setattr(const, "CLOCK", lambda: later)
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    from homeassistant.helpers import issue_registry as ir

    assert ir.async_get(hass).async_get_issue(DOMAIN, f"token_expired_{entry.unique_id}")
    flow_id = flows[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] == "menu"
    result = await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "token"})
    new_token = sim.call(sim.gw.owner_token)
    result = await hass.config_entries.flow.async_configure(flow_id, {"token": new_token})
    assert result["type"] == "abort" and result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data["token"] == new_token
    assert entry.state is ConfigEntryState.LOADED
    await unload(hass, entry)


async def test_taking_over_the_core_integrations_entities(
    hass: HomeAssistant, sim: SimThread
) -> None:
    assert sim.gw is not None
    serial = sim.gw.serial
    core_entry = MockConfigEntry(domain=CORE_DOMAIN, unique_id=serial)
    core_entry.add_to_hass(hass)
    registry = er.async_get(hass)
    old = registry.async_get_or_create(
        "sensor",
        CORE_DOMAIN,
        f"{serial}_lifetime_production",
        config_entry=core_entry,
        suggested_object_id="envoy_lifetime_energy_production",
    )
    entry = await add_entry(hass, sim, options={OPT_LIVE: False, OPT_TAKE_OVER: True})
    moved = registry.async_get(old.entity_id)
    assert moved is not None
    assert moved.platform == DOMAIN
    assert moved.unique_id == f"{serial}_production_lifetime"
    assert moved.config_entry_id == entry.entry_id
    state = hass.states.get(old.entity_id)
    assert state is not None and float(state.state) > 0
    await unload(hass, entry)


async def _change_storage_mode(hass: HomeAssistant, entry: MockConfigEntry) -> tuple[str, str]:
    """Select another storage mode through the entity; its entity id and the mode asked for."""
    mode = _entity_id(hass, Kind.SELECT, f"{entry.unique_id}_storage_mode")
    assert mode is not None
    state = hass.states.get(mode)
    assert state is not None
    target = "backup" if state.state != "backup" else "economy"
    await hass.services.async_call(
        "select", "select_option", {"entity_id": mode, "option": target}, blocking=True
    )
    return mode, target


async def test_an_ignored_write_becomes_a_repair_issue(
    hass: HomeAssistant, sim_of: Callable[[str], SimThread]
) -> None:
    """Firmware 8.2.4225+ answers 200 to storage writes and ignores them: say so, and why."""
    from homeassistant.helpers import issue_registry as ir

    sim = sim_of("tariff-ignored")
    entry = await add_entry(hass, sim)
    mode, target = await _change_storage_mode(hass, entry)
    state = hass.states.get(mode)
    assert state is not None and state.state != target
    assert state.attributes["last_write"] == "ignored"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"write_{entry.unique_id}_storage_mode")
    assert issue is not None and issue.translation_key == "write_ignored"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["message"]
    await unload(hass, entry)


async def test_a_write_the_cloud_puts_back_is_reported_reverted(
    hass: HomeAssistant, sim_of: Callable[[str], SimThread]
) -> None:
    """Confirmed, then read again later: the cloud stand-in put it back, a repair issue says so."""
    from homeassistant.helpers import issue_registry as ir
    from homeassistant.util import dt as dt_util
    from pytest_homeassistant_custom_component.common import async_fire_time_changed

    from custom_components.enphase_local.const import VERIFY_AFTER_S

    sim = sim_of("cloud-overwrite")
    entry = await add_entry(hass, sim)
    mode, target = await _change_storage_mode(hass, entry)
    state = hass.states.get(mode)
    assert state is not None and state.state == target
    assert state.attributes["last_write"] == "confirmed"
    registry = ir.async_get(hass)
    issue_id = f"write_{entry.unique_id}_storage_mode"
    assert registry.async_get_issue(DOMAIN, issue_id) is None
    sim.call(lambda: sim.clock.advance(120))  # the cloud overwrites after 90 s of its time
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=VERIFY_AFTER_S + 1))
    await hass.async_block_till_done()
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None and issue.translation_key == "write_reverted"
    state = hass.states.get(mode)
    assert state is not None and state.attributes["last_write"] == "reverted"
    await unload(hass, entry)


async def test_system_health_reports_each_gateway(hass: HomeAssistant, sim: SimThread) -> None:
    from homeassistant.setup import async_setup_component
    from pytest_homeassistant_custom_component.common import get_system_health_info

    entry = await add_entry(hass, sim)
    assert await async_setup_component(hass, "system_health", {})
    await hass.async_block_till_done()
    info = await get_system_health_info(hass, DOMAIN)
    assert info["gateways"] == 1
    assert info["gateway_1_reachable"] is True
    assert info["gateway_1_firmware"] == entry.runtime_data.data.gateway.firmware
    await unload(hass, entry)


async def test_generator_controls_through_time_and_select(
    hass: HomeAssistant, sim_of: Callable[[str], SimThread]
) -> None:
    sim = sim_of("generator")
    entry = await add_entry(hass, sim)
    serial = entry.unique_id
    start = _entity_id(hass, Kind.TIME, f"{serial}_generator_exercise_start")
    assert start is not None
    await hass.services.async_call(
        "time", "set_value", {"entity_id": start, "time": "06:30:00"}, blocking=True
    )
    state = hass.states.get(start)
    assert state is not None and state.state == "06:30:00"
    assert state.attributes["last_write"] == "confirmed"
    after = await hass.async_add_executor_job(sim.snapshot)
    assert after.generator is not None and after.generator.schedule is not None
    assert after.generator.schedule.start_minute == 6 * 60 + 30
    mode = _entity_id(hass, Kind.SELECT, f"{serial}_generator_mode")
    assert mode is not None
    await hass.services.async_call(
        "select", "select_option", {"entity_id": mode, "option": "auto"}, blocking=True
    )
    state = hass.states.get(mode)
    assert state is not None and state.state == "auto"
    contact = _entity_id(hass, Kind.SWITCH, f"{serial}_dry_contact_nc1")
    assert contact is not None
    await hass.services.async_call("switch", "turn_off", {"entity_id": contact}, blocking=True)
    state = hass.states.get(contact)
    assert state is not None and state.attributes["last_write"] in ("confirmed", "pending")
    await unload(hass, entry)


async def test_waking_the_ac_batteries(
    hass: HomeAssistant, sim_of: Callable[[str], SimThread]
) -> None:
    sim = sim_of("acb")
    entry = await add_entry(hass, sim)
    wake = _entity_id(hass, Kind.BUTTON, f"{entry.unique_id}_acb_wake")
    assert wake is not None
    await hass.services.async_call("button", "press", {"entity_id": wake}, blocking=True)
    state = hass.states.get(wake)
    assert state is not None and state.state != "unavailable"
    assert state.attributes["last_write"] in ("confirmed", "pending")
    await unload(hass, entry)


async def test_a_write_the_gateway_refuses_fails_the_service_call(
    hass: HomeAssistant, sim: SimThread
) -> None:
    from homeassistant.exceptions import HomeAssistantError

    entry = await add_entry(hass, sim)
    reserve = _entity_id(hass, Kind.NUMBER, f"{entry.unique_id}_reserve_soc")
    assert reserve is not None and sim.gw is not None
    # every tariff request answers 500 for a while: the read before the write, or the write
    sim.call(lambda: sim.gw.faults.fail_next(10, status=500, path="/admin/lib/tariff"))  # type: ignore[union-attr]
    before = hass.states.get(reserve)
    with pytest.raises(HomeAssistantError, match="did not take the change"):
        await hass.services.async_call(
            "number", "set_value", {"entity_id": reserve, "value": 55}, blocking=True
        )
    after = hass.states.get(reserve)
    assert before is not None and after is not None and after.state == before.state
    await unload(hass, entry)


async def test_set_up_waits_for_a_gateway_that_is_down(hass: HomeAssistant, sim: SimThread) -> None:
    """No answer at set-up: retried later (not ready), not an error and not a reauth."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="122232000127",
        data={"host": "127.0.0.1:9", "serial": "122232000127", "token": sim.token()},
        options={OPT_LIVE: False},
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_set_up_with_a_refused_token_asks_for_reauth(
    hass: HomeAssistant, sim: SimThread
) -> None:
    from tests.hass.helpers import make_entry

    assert sim.gw is not None
    await make_entry(hass, sim)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    sim.call(sim.gw.expire_tokens)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]

"""Newer entities in Home Assistant: collar and combiner devices, battery settings, export limit.

Against simulated gateways over loopback HTTPS, as `test_entities.py`:
values are what a separate `Envoy` reads from the same simulator, and
controls are set through Home Assistant's own service calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component

from custom_components.enphase_local.const import DOMAIN
from enphase_local.features import Kind
from tests.hass.helpers import add_entry, unload
from tests.hass.simthread import SimThread
from tests.hass.test_entities import _entity_id, check_every_entry

DOC = Path(__file__).resolve().parents[2] / "docs" / "export-limit.md"


async def test_the_collar_and_combiner_are_devices_with_their_state(
    hass: HomeAssistant, sim_of: Callable[[str], SimThread]
) -> None:
    sim = sim_of("collar")
    entry = await add_entry(hass, sim)
    expected = await hass.async_add_executor_job(sim.snapshot)
    assert await check_every_entry(hass, expected) > 30
    assert expected.collar is not None and expected.c6cc is not None
    devices = dr.async_get(hass)
    gateway = devices.async_get_device(identifiers={(DOMAIN, expected.gateway.serial)})
    assert gateway is not None
    for serial, model in (
        (expected.collar.serial, "IQ Meter Collar"),
        (expected.c6cc.serial, "IQ Combiner 6C"),
    ):
        device = devices.async_get_device(identifiers={(DOMAIN, serial)})
        assert device is not None and device.model == model
        assert device.via_device_id == gateway.id
    state_id = _entity_id(
        hass, Kind.SENSOR, f"{entry.unique_id}_collar_state_{expected.collar.serial}"
    )
    state = hass.states.get(state_id or "")
    assert state is not None and state.state == expected.collar.admin_state_str
    await unload(hass, entry)


async def test_battery_settings_say_where_they_were_read(
    hass: HomeAssistant, sim_of: Callable[[str], SimThread]
) -> None:
    """D8.2.4264 (tariff-ignoring): reserve and charge from grid are the controller's."""
    sim = sim_of("tariff-ignored")
    entry = await add_entry(hass, sim)
    expected = await hass.async_add_executor_job(sim.snapshot)
    settings = expected.battery_settings
    assert settings is not None
    serial = entry.unique_id
    reserve = hass.states.get(_entity_id(hass, Kind.NUMBER, f"{serial}_reserve_soc") or "")
    assert reserve is not None
    assert float(reserve.state) == settings.reserve_soc_percent
    assert reserve.attributes["read_from"] == "controller"
    grid = hass.states.get(_entity_id(hass, Kind.SWITCH, f"{serial}_charge_from_grid") or "")
    assert grid is not None and grid.attributes["read_from"] == "controller"
    mode = hass.states.get(_entity_id(hass, Kind.SELECT, f"{serial}_storage_mode") or "")
    assert mode is not None and mode.attributes["read_from"] == "tariff"
    await unload(hass, entry)


async def _enable(hass: HomeAssistant, entry_id: str, *entity_ids: str) -> None:
    """Enable entities that are off by default, as a user does, and reload the entry."""
    registry = er.async_get(hass)
    for entity_id in entity_ids:
        registry.async_update_entity(entity_id, disabled_by=None)
    assert await hass.config_entries.async_reload(entry_id)
    await hass.async_block_till_done()


def _recipe() -> tuple[str, set[str]]:
    """docs/export-limit.md's automation YAML, and every gateway entity id the section names."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### With the native integration")[1].split("### With a shell command")[0]
    block = section.split("<!-- ha-automation -->")[1].split("<!-- /ha-automation -->")[0]
    yaml_text = block.strip().removeprefix("```yaml").removesuffix("```")
    return yaml_text, set(re.findall(r"\b[a-z_]+\.enphase_gateway_\w+", section))


async def test_the_documented_zero_export_automation_works_with_an_installer_token(
    hass: HomeAssistant, sim_of: Callable[[str], SimThread]
) -> None:
    """The recipe's automation, loaded as written: a negative price sets 0 W, a positive clears."""
    sim = sim_of("export-limit")
    assert sim.gw is not None
    entry = await add_entry(hass, sim, token=sim.gw.installer_token())
    serial = entry.unique_id
    assert serial == "122313005528"  # the serial the doc's entity ids name
    yaml_text, named = _recipe()
    registry = er.async_get(hass)
    for entity_id in named:  # every id the doc names is this integration's
        found = registry.async_get(entity_id)
        assert found is not None and found.platform == DOMAIN, entity_id
    number = _entity_id(hass, Kind.NUMBER, f"{serial}_export_limit_watts")
    limiting = _entity_id(hass, Kind.SWITCH, f"{serial}_export_limiting")
    assert number is not None and limiting is not None and {number, limiting} <= named
    assert hass.states.get(number) is None  # registered, off by default
    await _enable(hass, entry.entry_id, number, limiting)
    hass.states.async_set("sensor.electricity_price", "0.08")
    config = yaml.safe_load(yaml_text)
    assert await async_setup_component(hass, "automation", {"automation": config})
    await hass.async_block_till_done()
    hass.states.async_set("sensor.electricity_price", "-0.02")
    await hass.async_block_till_done()
    state = hass.states.get(number)
    assert state is not None and state.attributes.get("last_write") == "confirmed"
    assert float(state.state) == 0.0
    shown = hass.states.get(f"binary_sensor.enphase_gateway_{serial}_export_limiting_on")
    assert shown is not None and shown.state == "on"
    after = await hass.async_add_executor_job(sim.snapshot)
    assert after.export_limit is not None and after.export_limit.limit_watts == 0.0
    hass.states.async_set("sensor.electricity_price", "0.05")
    await hass.async_block_till_done()
    switch = hass.states.get(limiting)
    assert switch is not None and switch.state == "off"
    assert switch.attributes["last_write"] == "confirmed"
    cleared = await hass.async_add_executor_job(sim.snapshot)
    assert cleared.export_limit is not None and cleared.export_limit.enabled is False
    await unload(hass, entry)


async def test_an_owner_token_is_told_to_get_an_installer_token(
    hass: HomeAssistant, sim_of: Callable[[str], SimThread]
) -> None:
    sim = sim_of("export-limit")
    entry = await add_entry(hass, sim)
    number = _entity_id(hass, Kind.NUMBER, f"{entry.unique_id}_export_limit_watts")
    assert number is not None
    assert _entity_id(hass, Kind.SWITCH, f"{entry.unique_id}_production") is None  # unreadable
    await _enable(hass, entry.entry_id, number)
    with pytest.raises(ServiceValidationError, match="enphase token --installer"):
        await hass.services.async_call(
            "number", "set_value", {"entity_id": number, "value": 0}, blocking=True
        )
    assert sim.gw is not None
    assert not [e for e in sim.gw.log.entries if e.method in ("PUT", "POST", "DELETE")]
    await unload(hass, entry)


async def test_an_ac_battery_sleeps_from_its_switch(
    hass: HomeAssistant, sim_of: Callable[[str], SimThread]
) -> None:
    sim = sim_of("acb")
    entry = await add_entry(hass, sim)
    expected = await hass.async_add_executor_job(sim.snapshot)
    assert expected.acb is not None
    unit = next(iter(expected.acb.units))
    switch = _entity_id(hass, Kind.SWITCH, f"{entry.unique_id}_acb_unit_sleep_{unit}")
    assert switch is not None
    state = hass.states.get(switch)
    assert state is not None and state.state == "off"
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    state = hass.states.get(switch)
    assert state is not None and state.state == "on"
    assert state.attributes["last_write"] == "confirmed"
    after = await hass.async_add_executor_job(sim.snapshot)
    assert after.acb is not None and after.acb.units[unit].sleep_enabled is True
    await unload(hass, entry)

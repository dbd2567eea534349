"""Readings of one device each: microinverters, batteries, the system controller.

Per-item features (`Scope` other than SITE): one entity per inverter and
battery unit. The CT meters are in `features.meters`, the IQ Meter Collar
and the IQ Combiner 6C in `features.equipment`; all of them are collected
into `DEVICE_FEATURES` here, in the table's order.
"""

from __future__ import annotations

from typing import Any

from .equipment import EQUIPMENT
from .meters import METERS
from .model import Feature, Kind, Readings, Scope
from .read import at, item
from .styles import COUNTER, DIAG, POWER, SOC, TEMP

__all__ = ["DEVICE_FEATURES"]

_POWER, _COUNTER, _TEMP, _SOC, _DIAG = POWER, COUNTER, TEMP, SOC, DIAG

INVERTERS: tuple[Feature, ...] = (
    Feature(
        "inverter_power",
        "Power",
        Kind.SENSOR,
        item("inverters", "watts"),
        scope=Scope.INVERTER,
        core_unique_id="{key}",
        **_POWER,
    ),
    Feature(
        "inverter_last_report",
        "Last report",
        Kind.SENSOR,
        item("inverters", "last_report"),
        scope=Scope.INVERTER,
        device_class="timestamp",
        enabled_by_default=False,
        core_unique_id="{key}_last_reported",
        **_DIAG,
    ),
    Feature(
        "inverter_energy_lifetime",
        "Lifetime energy",
        Kind.SENSOR,
        item("inverters", "detail.wh_lifetime"),
        scope=Scope.INVERTER,
        enabled_by_default=False,
        **_COUNTER,
    ),
    Feature(
        "inverter_energy_today",
        "Energy today",
        Kind.SENSOR,
        item("inverters", "detail.wh_today"),
        scope=Scope.INVERTER,
        enabled_by_default=False,
        **_COUNTER,
    ),
    Feature(
        "inverter_temperature",
        "Temperature",
        Kind.SENSOR,
        item("inverters", "detail.temperature_c"),
        scope=Scope.INVERTER,
        enabled_by_default=False,
        **(_TEMP | _DIAG),
    ),
    Feature(
        "inverter_dc_voltage",
        "DC voltage",
        Kind.SENSOR,
        item("inverters", "detail.dc_volts"),
        scope=Scope.INVERTER,
        unit="V",
        device_class="voltage",
        state_class="measurement",
        enabled_by_default=False,
        **_DIAG,
    ),
)


def _dc_switch_on(r: Readings, key: str) -> bool | None:
    off = item("battery.units", "dc_switch_off")(r, key)
    return None if off is None else not off


BATTERIES: tuple[Feature, ...] = (
    Feature(
        "battery_unit_level",
        "Battery",
        Kind.SENSOR,
        item("battery.units", "soc_percent"),
        scope=Scope.BATTERY,
        core_unique_id="{key}_soc",
        **_SOC,
    ),
    Feature(
        "battery_unit_power",
        "Power",
        Kind.SENSOR,
        item("battery.units", "watts"),
        scope=Scope.BATTERY,
        core_unique_id="{key}_real_power_mw",
        **_POWER,
    ),
    Feature(
        "battery_unit_temperature",
        "Temperature",
        Kind.SENSOR,
        item("battery.units", "temperature_c"),
        scope=Scope.BATTERY,
        core_unique_id="{key}_temperature",
        **_TEMP,
    ),
    Feature(
        "battery_unit_capacity",
        "Capacity",
        Kind.SENSOR,
        item("battery.units", "capacity_wh"),
        scope=Scope.BATTERY,
        unit="Wh",
        device_class="energy_storage",
        **_DIAG,
    ),
    Feature(
        "battery_unit_communicating",
        "Communicating",
        Kind.BINARY_SENSOR,
        item("battery.units", "communicating"),
        scope=Scope.BATTERY,
        device_class="connectivity",
        core_unique_id="{key}_communicating",
        **_DIAG,
    ),
    Feature(
        "battery_unit_dc_switch",
        "DC switch",
        Kind.BINARY_SENSOR,
        _dc_switch_on,
        scope=Scope.BATTERY,
        core_unique_id="{key}_dc_switch",
        doc="on: the unit's DC switch is on (the core integration's dc_switch)",
        **_DIAG,
    ),
    Feature(
        "acb_unit_level",
        "Battery",
        Kind.SENSOR,
        item("acb.units", "soc_percent"),
        scope=Scope.ACB,
        **_SOC,
    ),
    Feature(
        "acb_unit_temperature",
        "Temperature",
        Kind.SENSOR,
        item("acb.units", "max_cell_temp_c"),
        scope=Scope.ACB,
        **_TEMP,
    ),
)


def _enpower(path: str) -> Any:
    def get(r: Readings, _key: str) -> Any:
        return at(r.snapshot.enpower, path)

    return get


ENPOWER: tuple[Feature, ...] = (
    Feature(
        "enpower_temperature",
        "Temperature",
        Kind.SENSOR,
        _enpower("temperature_c"),
        scope=Scope.ENPOWER,
        core_unique_id="{enpower}_temperature",
        **(_TEMP | _DIAG),
    ),
    Feature(
        "enpower_last_report",
        "Last report",
        Kind.SENSOR,
        _enpower("last_report"),
        scope=Scope.ENPOWER,
        device_class="timestamp",
        core_unique_id="{enpower}_last_reported",
        **_DIAG,
    ),
    Feature(
        "enpower_communicating",
        "Communicating",
        Kind.BINARY_SENSOR,
        _enpower("communicating"),
        scope=Scope.ENPOWER,
        device_class="connectivity",
        core_unique_id="{enpower}_communicating",
        **_DIAG,
    ),
    Feature(
        "grid_status",
        "Grid status",
        Kind.BINARY_SENSOR,
        lambda r, _k: (
            None
            if r.snapshot.enpower is None
            else r.snapshot.enpower.mains_oper_state.value == "closed"
        ),
        scope=Scope.ENPOWER,
        device_class="power",
        core_unique_id="{enpower}_mains_oper_state",
        icon="mdi:transmission-tower",
    ),
)

DEVICE_FEATURES: tuple[Feature, ...] = (*METERS, *INVERTERS, *BATTERIES, *ENPOWER, *EQUIPMENT)

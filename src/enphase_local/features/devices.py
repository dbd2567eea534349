"""Readings of one device each: CT meters, microinverters, batteries, the system controller.

Per-item features (`Scope` other than SITE): one entity per meter, inverter,
battery unit. The CT meter diagnostics (metering status, flags, voltage,
frequency) are what the core integration shows per CT; the storage CT's two
counters are its battery charge/discharge energy.
"""

from __future__ import annotations

from typing import Any

from ..models.meters import MeteringStatus
from ..models.snapshot import Snapshot
from .model import Category, Feature, Kind, Readings, Scope
from .read import at, item

__all__ = ["DEVICE_FEATURES"]

_POWER: dict[str, Any] = {
    "unit": "W",
    "device_class": "power",
    "state_class": "measurement",
    "precision": 0,
}
_COUNTER: dict[str, Any] = {
    "unit": "Wh",
    "device_class": "energy",
    "state_class": "total_increasing",
}
_TEMP: dict[str, Any] = {"unit": "°C", "device_class": "temperature", "state_class": "measurement"}
_SOC: dict[str, Any] = {
    "unit": "%",
    "device_class": "battery",
    "state_class": "measurement",
    "precision": 0,
}
_DIAG: dict[str, Any] = {"category": Category.DIAGNOSTIC}

_CORE_CT = {"net-consumption": "net_consumption", "production": "production", "storage": "storage"}


def _meter(key: str, snapshot: Snapshot) -> Any:
    meter = snapshot.meters.get(key)
    return meter if meter is not None and meter.enabled else None


def _reading(attr: str) -> Any:
    def get(r: Readings, key: str) -> Any:
        meter = _meter(key, r.snapshot)
        reading = None if meter is None else meter.reading
        return None if reading is None else getattr(reading, attr)

    return get


def _flags(r: Readings, key: str) -> int | None:
    meter = r.snapshot.meters.get(key)
    return None if meter is None else len(meter.config.status_flags)


def _status(r: Readings, key: str) -> str | None:
    meter = r.snapshot.meters.get(key)
    return None if meter is None else meter.config.metering_status.value


def _meter_feature(fid: str, name: str, get: Any, core: Any, **kw: Any) -> Feature:
    return Feature(fid, name, Kind.SENSOR, get, scope=Scope.METER, core_unique_id=core, **kw)


METERS: tuple[Feature, ...] = (
    _meter_feature(
        "ct_power",
        "CT power",
        _reading("watts"),
        {"net-consumption": "{serial}_net_consumption", "storage": "{serial}_battery_discharge"},
        **_POWER,
    ),
    _meter_feature(
        "ct_energy_delivered",
        "CT energy delivered",
        _reading("wh_delivered"),
        {
            "net-consumption": "{serial}_lifetime_net_consumption",
            "storage": "{serial}_lifetime_battery_discharged",
        },
        doc="net-consumption CT: grid import; storage CT: battery discharge",
        **_COUNTER,
    ),
    _meter_feature(
        "ct_energy_received",
        "CT energy received",
        _reading("wh_received"),
        {
            "net-consumption": "{serial}_lifetime_net_production",
            "storage": "{serial}_lifetime_battery_charged",
        },
        doc="net-consumption CT: grid export; storage CT: battery charge",
        **_COUNTER,
    ),
    _meter_feature(
        "ct_voltage",
        "CT voltage",
        _reading("volts"),
        {"net-consumption": "{serial}_voltage", "storage": "{serial}_storage_voltage"},
        unit="V",
        device_class="voltage",
        state_class="measurement",
        precision=1,
        enabled_by_default=False,
        **_DIAG,
    ),
    _meter_feature(
        "ct_frequency",
        "CT frequency",
        _reading("hz"),
        {"net-consumption": "{serial}_frequency"},
        unit="Hz",
        device_class="frequency",
        state_class="measurement",
        precision=1,
        enabled_by_default=False,
        **_DIAG,
    ),
    _meter_feature(
        "ct_metering_status",
        "CT metering status",
        _status,
        "{serial}_{key_}_ct_metering_status",
        device_class="enum",
        options=tuple(m.value for m in MeteringStatus),
        enabled_by_default=False,
        **_DIAG,
    ),
    _meter_feature(
        "ct_status_flags",
        "CT status flags",
        _flags,
        "{serial}_{key_}_ct_status_flags",
        enabled_by_default=False,
        **_DIAG,
    ),
)

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

DEVICE_FEATURES: tuple[Feature, ...] = (*METERS, *INVERTERS, *BATTERIES, *ENPOWER)

"""Entity ids for Home Assistant: this project's own, or the core enphase_envoy integration's.

Why: Home Assistant makes an entity id once, from the discovery config's
``default_entity_id`` (2025.10 and later) or ``object_id`` (before), and keeps
it; a user who moves here from the core ``enphase_envoy`` integration keeps
dashboards, automations and history only if the ids are the same. So
``entity_ids = "core"`` (``[sinks.mqtt]``) names every entity the core
integration also has as core names it: the device name (``Envoy <serial>``,
``Enpower <serial>``, ``Encharge <serial>``, ``Inverter <serial>``, a relay's
load name) and the entity's translated name, slugified. ``"native"`` (the
default) names them ``enphase_<serial>_<component key>``.

Which core entity a feature is comes from the feature table
(`Feature.core_unique_id`); `_CORE_NAMES` maps the core integration's unique
id key to its entity name. It was generated from Home Assistant 2025.4.4's
``homeassistant/components/enphase_envoy`` (its entity descriptions and
strings.json); per-phase keys (``..._l1``) are the key's name plus ``_l1``.
"""

from __future__ import annotations

import re

from ..features import Instance, Scope
from ..models.snapshot import Snapshot

__all__ = ["ENTITY_ID_MODES", "core_object_id", "native_object_id", "slug"]

ENTITY_ID_MODES = ("native", "core")

_CORE_NAMES: dict[str, dict[str, str]] = {
    "binary_sensor": {
        "communicating": "communicating",
        "dc_switch": "dc_switch",
        "mains_oper_state": "grid_status",
    },
    "number": {
        "reserve_soc": "reserve_battery_level",
        "soc_high": "restore_battery_level",
        "soc_low": "cutoff_battery_level",
    },
    "select": {
        "generator_action": "generator_action",
        "grid_action": "grid_action",
        "microgrid_action": "microgrid_action",
        "mode": "mode",
        "storage_mode": "storage_mode",
    },
    "sensor": {
        "acb_available_energy": "available_acb_battery_energy",
        "acb_battery_state": "battery_state",
        "acb_power": "power",
        "acb_soc": "battery",
        "aggregated_available_energy": "aggregated_available_battery_energy",
        "aggregated_max_battery_capacity": "aggregated_battery_capacity",
        "aggregated_soc": "aggregated_battery_soc",
        "available_energy": "available_battery_energy",
        "balanced_net_consumption": "balanced_net_power_consumption",
        "battery_discharge": "current_battery_discharge",
        "battery_level": "battery",
        "consumption": "current_power_consumption",
        "daily_consumption": "energy_consumption_today",
        "daily_production": "energy_production_today",
        "frequency": "frequency_net_consumption_ct",
        "inverters": "",
        "last_reported": "last_reported",
        "lifetime_balanced_net_consumption": "lifetime_balanced_net_energy_consumption",
        "lifetime_battery_charged": "lifetime_battery_energy_charged",
        "lifetime_battery_discharged": "lifetime_battery_energy_discharged",
        "lifetime_consumption": "lifetime_energy_consumption",
        "lifetime_net_consumption": "lifetime_net_energy_consumption",
        "lifetime_net_production": "lifetime_net_energy_production",
        "lifetime_production": "lifetime_energy_production",
        "max_capacity": "battery_capacity",
        "net_consumption": "current_net_power_consumption",
        "net_consumption_ct_metering_status": "metering_status_net_consumption_ct",
        "net_consumption_ct_status_flags": "meter_status_flags_active_net_consumption_ct",
        "net_ct_current": "net_consumption_ct_current",
        "net_ct_powerfactor": "power_factor_net_consumption_ct",
        "production": "current_power_production",
        "production_ct_current": "production_ct_current",
        "production_ct_frequency": "frequency_production_ct",
        "production_ct_metering_status": "metering_status_production_ct",
        "production_ct_powerfactor": "power_factor_production_ct",
        "production_ct_status_flags": "meter_status_flags_active_production_ct",
        "production_ct_voltage": "voltage_production_ct",
        "real_power_mw": "power",
        "reserve_energy": "reserve_battery_energy",
        "reserve_soc": "reserve_battery_level",
        "seven_days_consumption": "energy_consumption_last_seven_days",
        "seven_days_production": "energy_production_last_seven_days",
        "soc": "battery",
        "storage_ct_current": "storage_ct_current",
        "storage_ct_frequency": "frequency_storage_ct",
        "storage_ct_metering_status": "metering_status_storage_ct",
        "storage_ct_powerfactor": "power_factor_storage_ct",
        "storage_ct_status_flags": "meter_status_flags_active_storage_ct",
        "storage_voltage": "voltage_storage_ct",
        "temperature": "temperature",
        "voltage": "voltage_net_consumption_ct",
    },
    "switch": {
        "charge_from_grid": "charge_from_grid",
        "mains_admin_state": "grid_enabled",
        "relay_status": "",
    },
}


def slug(text: str) -> str:
    """Home Assistant's slugify for the names that occur here (ASCII words and digits)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def native_object_id(serial: str, component_key: str) -> str:
    """This project's entity object id: stable, unique per gateway, the same in every HA."""
    return slug(f"enphase_{serial}_{component_key}")


def _core_name(platform: str, key: str) -> str | None:
    names = _CORE_NAMES.get(platform, {})
    if key in names:
        return names[key]
    phase = re.fullmatch(r"(.*)_(l[123])", key)
    if phase is not None and phase[1] in names:
        return f"{names[phase[1]]}_{phase[2]}"
    return None


def _core_device(serial: str, inst: Instance, core_uid: str, snapshot: Snapshot) -> tuple[str, str]:
    """(the core device's slug, the part of the core unique id after the device's serial)."""
    key = inst.key
    match inst.feature.scope:
        case Scope.INVERTER:
            return f"inverter_{slug(key)}", core_uid.removeprefix(key).lstrip("_") or "inverters"
        case Scope.BATTERY:
            return f"encharge_{slug(key)}", core_uid.removeprefix(f"{key}_")
        case Scope.DRY_CONTACT:
            contact = snapshot.dry_contacts.get(key)
            load = contact.settings.load_name if contact and contact.settings else ""
            return slug(load or key), core_uid.rsplit(f"relay_{key}_", 1)[-1]
    enpower = snapshot.enpower.serial if snapshot.enpower is not None else None
    if enpower is not None and enpower != serial and core_uid.startswith(f"{enpower}_"):
        return f"enpower_{slug(enpower)}", core_uid.removeprefix(f"{enpower}_")
    return f"envoy_{slug(serial)}", core_uid.removeprefix(f"{serial}_")


def core_object_id(platform: str, serial: str, inst: Instance, snapshot: Snapshot) -> str | None:
    """The object id the core integration gives this entity, or None when it has none."""
    core_uid = inst.feature.core_id(serial, inst.key, snapshot)
    if core_uid is None:
        return None
    device, key = _core_device(serial, inst, core_uid, snapshot)
    name = _core_name(platform, key)
    if name is None or not device:
        return None
    return f"{device}_{name}" if name else device

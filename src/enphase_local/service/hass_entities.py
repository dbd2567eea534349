"""Where each feature-table instance lives on MQTT: its device, document, key and unique id.

The one home of that decision, read by the discovery configs (`hass_device`),
the state documents (`mqtt_payloads`) and the commands (`mqtt_commands`), so
an entity's ``value_template`` and the document it reads cannot disagree.

- **Device**: items of a scope that is a thing of its own (a microinverter, a
  battery, an AC Battery, the system controller, a CT meter) get their own
  device ``via_device`` the gateway; everything else is the gateway's.
- **Document**: the gateway's live readings go on ``state`` (at most one a
  second), its other readings on ``energy`` (retained, at each snapshot), its
  controls on ``control`` (retained); each item device has one retained
  document, ``inverter/<serial>``, ``battery/<serial>``, ``enpower/<serial>``,
  ``meter/<name>``, so its sensors are known again right after a Home
  Assistant restart.
- **Keys and unique ids**: the instance's `uid`, except for the entities the
  sink had before the feature table (`LEGACY_KEYS`, `LEGACY_ITEM_KEYS`): they
  keep their document key, component key and unique id, so Home Assistant
  keeps their entity ids, names and history, and users' templates still read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..features import Feature, Instance, Kind, Scope, Source

__all__ = ["LEGACY_KEYS", "PLATFORMS", "Placement", "place", "writable_names"]

PLATFORMS: dict[Kind, str] = {kind: kind.value for kind in Kind} | {Kind.TIME: "text"}
"""The MQTT platform of each kind of feature: its name, but MQTT has no time platform
(a time control is ``HH:MM`` text)."""

LEGACY_KEYS: dict[str, str] = {
    "live_solar_power": "solar_w",
    "live_house_power": "house_w",
    "live_grid_power": "grid_w",
    "live_battery_power": "battery_w",
    "live_generator_power": "generator_w",
    "battery_level": "soc_percent",
    "production_lifetime": "production_wh",
    "consumption_lifetime": "consumption_wh",
    "production_today": "production_today_wh",
    "consumption_today": "consumption_today_wh",
    "energy_grid_import_lifetime": "grid_import_wh",
    "energy_grid_export_lifetime": "grid_export_wh",
    "energy_battery_charge_lifetime": "battery_charge_wh",
    "energy_battery_discharge_lifetime": "battery_discharge_wh",
    "energy_house_lifetime": "house_wh",
    "energy_house_today": "house_today_wh",
    "grid_enabled": "grid_relay",
}
"""Gateway features the sink published before the feature table: feature id -> old key."""

_DOCUMENT_ONLY = frozenset({"production_today", "consumption_today", "energy_house_today"})
"""Old keys that were in the documents but never entities: their entities are new (uid)."""

LEGACY_ITEM_KEYS: dict[str, tuple[str | None, str]] = {
    "inverter_power": ("inverter_{key}_power", "watts"),
    "inverter_energy_lifetime": ("inverter_{key}_energy", "wh_lifetime"),
    "inverter_energy_today": (None, "wh_today"),
    "inverter_last_report": (None, "last_report"),
    "inverter_temperature": (None, "temperature_c"),
    "inverter_dc_voltage": (None, "dc_volts"),
    "battery_unit_level": ("battery_{key}_soc", "soc_percent"),
    "battery_unit_power": ("battery_{key}_power", "watts"),
    "battery_unit_temperature": ("battery_{key}_temperature", "temperature_c"),
    "battery_unit_capacity": (None, "capacity_wh"),
    "acb_unit_level": ("battery_{key}_soc", "soc_percent"),
    "acb_unit_temperature": ("battery_{key}_temperature", "temperature_c"),
    "dry_contact": ("dry_contact_{key}", "dry_contact_{key}"),
}
"""Item features published before: feature id -> (old component key, old document key)."""

_DEVICES: dict[str, tuple[str, str, str]] = {
    Scope.INVERTER.value: ("inverter", "Microinverter", "IQ Microinverter"),
    Scope.BATTERY.value: ("battery", "Battery", "IQ Battery"),
    Scope.ACB.value: ("battery", "Battery", "AC Battery"),
    Scope.ENPOWER.value: ("enpower", "System controller", "IQ System Controller"),
    Scope.METER.value: ("meter", "CT", "Current transformer"),
    "collar": ("collar", "Meter collar", "IQ Meter Collar"),
    "c6": ("c6", "Combiner", "IQ Combiner 6C"),
}
"""Scopes (by value) whose items are devices of their own: (document leaf, name, model)."""


@dataclass(frozen=True, slots=True)
class Placement:
    """One instance on MQTT (see the module docstring)."""

    inst: Instance
    platform: str
    device: str
    """The device's id: ``enphase_<serial>`` (the gateway or an item with a serial of its own)."""
    node: str
    """Its discovery config's id, ``<prefix>/device/<node>/config``: the gateway's serial
    first, so that two configs naming one device (a site's sums and the gateway itself)
    never overwrite each other."""
    leaf: str
    """Its document's topic below ``<base>/<gateway serial>/``."""
    key: str
    """Its key in that document."""
    component: str
    """Its key in the device config's ``cmps``: also its command name and result topic."""
    unique_id: str

    @property
    def feature(self) -> Feature:
        return self.inst.feature

    @property
    def gateway(self) -> bool:
        return self.inst.feature.scope.value not in _DEVICES

    def sub_device(self) -> tuple[str, str] | None:
        """(name prefix, model) of the item's own device, or None for the gateway."""
        found = _DEVICES.get(self.inst.feature.scope.value)
        return None if found is None else found[1:]


def _item_device(serial: str, inst: Instance) -> str:
    if inst.feature.scope is Scope.METER:  # meter names repeat across gateways
        return f"enphase_{serial}_{inst.key.replace('-', '_')}"
    return f"enphase_{inst.key}"


def place(serial: str, inst: Instance) -> Placement:
    """Where `inst` of gateway `serial` lives (see the module docstring)."""
    feature = inst.feature
    platform = PLATFORMS[feature.kind]
    scoped = _DEVICES.get(feature.scope.value)
    legacy_component, legacy_key = LEGACY_ITEM_KEYS.get(feature.id, (None, None))
    node = f"enphase_{serial}"
    if scoped is not None:
        device = _item_device(serial, inst)
        node = f"{node}_{inst.key.replace('-', '_')}"
        leaf = f"{scoped[0]}/{inst.key}"
        key = legacy_key or feature.id
        component = legacy_component.format(key=inst.key) if legacy_component else inst.uid
    else:
        device = f"enphase_{serial}"
        if feature.writable or feature.kind is Kind.BUTTON:
            leaf = "control"
        elif feature.source is Source.LIVE:
            leaf = "state"
        else:
            leaf = "energy"
        old = LEGACY_KEYS.get(feature.id)
        if legacy_key is not None:
            old = legacy_key.format(key=inst.key)
        key = old or inst.uid
        component = inst.uid if feature.id in _DOCUMENT_ONLY else key
    uid = f"enphase_{serial}_{component}"
    return Placement(inst, platform, device, node, leaf, key, component, uid)


def writable_names(features: Iterable[Feature]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What ``commands = [...]`` may name: (exact names, prefixes of per-item names).

    A control's feature id (every item of it), its old name (``grid_relay``),
    ``<feature id>_*`` (every item, spelled as before) or ``<feature id>_<item>``.
    """
    exact: list[str] = []
    prefixes: list[str] = []
    for feature in features:
        if not feature.writable:
            continue
        exact.append(feature.id)
        if feature.id in LEGACY_KEYS:
            exact.append(LEGACY_KEYS[feature.id])
        if feature.scope is not Scope.SITE:
            exact.append(f"{feature.id}_*")
            prefixes.append(f"{feature.id}_")
    return tuple(exact), tuple(prefixes)

"""Home Assistant MQTT discovery: the retained configs that make entities appear.

One device per gateway (model, serial, firmware, configuration URL), one
sub-device per battery and per microinverter (``via_device`` the gateway).
Entities carry the `device_class`, `state_class` and units that the Energy
dashboard accepts: lifetime counters are ``energy`` / ``total_increasing`` in
Wh, power and SoC ``measurement``. Controls (select, number, switch) send to
command topics that the MQTT sink passes through the confirmed-write path;
each control has a companion ``enum`` sensor showing the last command's
outcome.

`discovery_configs` is pure: snapshot in, ``{topic: config}`` out. The sink
diffs successive results and publishes an empty retained config for every
topic that disappeared, which is how Home Assistant removes an entity.

Availability: every entity lists the collector's availability topic (its MQTT
last will) and the gateway's, with ``availability_mode: all``, so a killed
collector or an unreachable gateway both show the entities unavailable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from ..models.snapshot import Snapshot
from .mqtt_payloads import battery_payloads, control_payload, energy_payload, snapshot_power
from .site_discovery import site_device

__all__ = ["OUTCOMES", "HassNaming", "discovery_configs"]

OUTCOMES = ("confirmed", "pending", "ignored", "reverted", "refused", "failed", "superseded")
"""States of the command-result sensors (see docs/mqtt.md)."""

STORAGE_MODES = ("backup", "self-consumption", "economy")
GENERATOR_MODES = ("off", "on", "auto")


def _version() -> str:
    try:
        return metadata.version("enphase-local")
    except metadata.PackageNotFoundError:
        return "unknown"


_ORIGIN = {"name": "enphase-local", "sw_version": _version()}


@dataclass(frozen=True, slots=True)
class HassNaming:
    """Where things live: the sink's base topic, the discovery prefix, the collector's will."""

    base: str = "enphase"
    prefix: str = "homeassistant"
    bridge_availability: str = "enphase/bridge/availability"
    inverter_entities_limit: int = 16
    """Above this many microinverters their entities are created disabled (HA users enable some)."""

    def topic(self, serial: str, leaf: str) -> str:
        return f"{self.base}/{serial}/{leaf}"

    def config_topic(self, component: str, serial: str, object_id: str) -> str:
        return f"{self.prefix}/{component}/enphase_{serial}/{object_id}/config"


_Add = Callable[..., None]
"""Adds one entity config: (component, key, name, device, **config)."""

_POWER = {"device_class": "power", "state_class": "measurement", "unit_of_measurement": "W"}
_ENERGY = {"device_class": "energy", "state_class": "total_increasing", "unit_of_measurement": "Wh"}
_SOC = {"device_class": "battery", "state_class": "measurement", "unit_of_measurement": "%"}
_TEMP = {"device_class": "temperature", "state_class": "measurement", "unit_of_measurement": "°C"}

_POWER_SENSORS = (
    ("solar_w", "Solar power"),
    ("house_w", "House power"),
    ("grid_w", "Grid power"),
    ("battery_w", "Battery power"),
    ("generator_w", "Generator power"),
)
_ENERGY_SENSORS = (
    ("production_wh", "Lifetime production"),
    ("consumption_wh", "Lifetime consumption"),
    ("grid_import_wh", "Grid import"),
    ("grid_export_wh", "Grid export"),
    ("battery_charge_wh", "Battery charge energy"),
    ("battery_discharge_wh", "Battery discharge energy"),
    ("house_wh", "House energy"),
)


def discovery_configs(
    naming: HassNaming, serial: str, snapshot: Snapshot, *, has_live: bool = False
) -> dict[str, dict[str, Any]]:
    """Every retained discovery config for one gateway, by topic.

    Only entities with a value on this site are made (a site without a
    consumption CT gets no consumption sensor); `has_live` adds the flows a
    live source measures even when the snapshot lacks them.
    """
    gateway_id = f"enphase_{serial}"
    gw = snapshot.gateway
    site = site_device(serial, snapshot)  # a [[site]]'s sums: their own device, nothing more
    device: dict[str, Any] = site or {
        "identifiers": [gateway_id],
        "name": f"Enphase gateway {serial}",
        "manufacturer": "Enphase Energy",
        "model": "IQ Gateway" if gw.part_number is None else f"IQ Gateway ({gw.part_number})",
        "serial_number": serial,
        "sw_version": gw.firmware,
        "configuration_url": _config_url(gw.host),
    }
    availability = [
        {"topic": naming.bridge_availability},
        {"topic": naming.topic(serial, "availability")},
    ]
    common: dict[str, Any] = {
        "availability": availability,
        "availability_mode": "all",
        "origin": _ORIGIN,
    }
    out: dict[str, dict[str, Any]] = {}

    def add(component: str, key: str, name: str, dev: dict[str, Any], **extra: Any) -> None:
        object_id = key.replace("-", "_")
        config: dict[str, Any] = {
            "name": name,
            "unique_id": f"{gateway_id}_{object_id}",
            "device": dev,
        }
        config.update(common)
        config.update(extra)
        out[naming.config_topic(component, serial, object_id)] = config

    power = snapshot_power(snapshot)
    state = naming.topic(serial, "state")
    for key, name in _POWER_SENSORS:
        measured = power[key] is not None or (has_live and key in ("solar_w", "grid_w", "house_w"))
        if measured:
            add("sensor", key, name, device, state_topic=state, **_value(key), **_POWER)
    if power["soc_percent"] is not None:
        soc = _value("soc_percent") | _SOC
        add("sensor", "soc_percent", "Battery", device, state_topic=state, **soc)
    energy = energy_payload(serial, snapshot)
    for key, name in _ENERGY_SENSORS:
        if energy[key] is not None:
            topic = naming.topic(serial, "energy")
            add("sensor", key, name, device, state_topic=topic, **_value(key), **_ENERGY)
    if site is None:  # a site's controls, batteries and inverters are its gateways' own
        _controls(naming, serial, snapshot, device, add)
        _batteries(naming, serial, snapshot, gateway_id, add)
        _inverters(naming, serial, snapshot, gateway_id, add)
    return out


def _value(key: str) -> dict[str, str]:
    return {"value_template": f"{{{{ value_json.{key} }}}}"}


def _config_url(host: str) -> str:
    return host if host.startswith(("http://", "https://")) else f"https://{host}/"


def _controls(
    naming: HassNaming, serial: str, snapshot: Snapshot, device: dict[str, Any], add: _Add
) -> None:
    controls = control_payload(snapshot)
    state = naming.topic(serial, "control")

    def control(component: str, key: str, name: str, **extra: Any) -> None:
        add(
            component,
            key,
            name,
            device,
            state_topic=state,
            command_topic=naming.topic(serial, f"set/{key}"),
            **_value(key),
            **extra,
        )
        result = naming.topic(serial, f"result/{key}")
        add(
            "sensor",
            f"{key}_result",
            f"{name} command",
            device,
            state_topic=result,
            value_template="{{ value_json.outcome }}",
            json_attributes_topic=result,
            device_class="enum",
            options=list(OUTCOMES),
            entity_category="diagnostic",
            icon="mdi:check-decagram",
        )

    if "storage_mode" in controls:
        control("select", "storage_mode", "Storage mode", options=list(STORAGE_MODES))
    if "reserve_soc" in controls:
        control(
            "number",
            "reserve_soc",
            "Battery reserve",
            min=0,
            max=100,
            step=1,
            mode="box",
            unit_of_measurement="%",
        )
    if "charge_from_grid" in controls:
        control(
            "switch", "charge_from_grid", "Charge from grid", payload_on="ON", payload_off="OFF"
        )
    if "grid_relay" in controls:
        control("switch", "grid_relay", "On grid", payload_on="ON", payload_off="OFF")
    for cid, contact in snapshot.dry_contacts.items():
        label = contact.settings.load_name if contact.settings else ""
        name = f"Dry contact {cid}" + (f" ({label})" if label else "")
        control("switch", f"dry_contact_{cid}", name, payload_on="ON", payload_off="OFF")
    if "generator_mode" in controls:
        control("select", "generator_mode", "Generator mode", options=list(GENERATOR_MODES))


def _sub_device(kind: str, serial: str, gateway_id: str, model: str) -> dict[str, Any]:
    return {
        "identifiers": [f"enphase_{serial}"],
        "name": f"{kind} {serial}",
        "manufacturer": "Enphase Energy",
        "model": model,
        "serial_number": serial,
        "via_device": gateway_id,
    }


def _batteries(
    naming: HassNaming, serial: str, snapshot: Snapshot, gateway_id: str, add: _Add
) -> None:
    for bat, doc in battery_payloads(snapshot).items():
        model = "IQ Battery" if doc["kind"] == "encharge" else "AC Battery"
        dev = _sub_device("Battery", bat, gateway_id, model)
        state = naming.topic(serial, f"battery/{bat}")
        add(
            "sensor",
            f"battery_{bat}_soc",
            "State of charge",
            dev,
            state_topic=state,
            **_value("soc_percent"),
            **_SOC,
        )
        if doc["watts"] is not None:
            add(
                "sensor",
                f"battery_{bat}_power",
                "Power",
                dev,
                state_topic=state,
                **_value("watts"),
                **_POWER,
            )
        if doc["temperature_c"] is not None:
            add(
                "sensor",
                f"battery_{bat}_temperature",
                "Temperature",
                dev,
                state_topic=state,
                entity_category="diagnostic",
                **_value("temperature_c"),
                **_TEMP,
            )


def _inverters(
    naming: HassNaming, serial: str, snapshot: Snapshot, gateway_id: str, add: _Add
) -> None:
    enabled = len(snapshot.inverters) <= naming.inverter_entities_limit
    for inv, view in snapshot.inverters.items():
        dev = _sub_device("Microinverter", inv, gateway_id, "IQ Microinverter")
        state = naming.topic(serial, f"inverter/{inv}")
        add(
            "sensor",
            f"inverter_{inv}_power",
            "Power",
            dev,
            state_topic=state,
            enabled_by_default=enabled,
            **_value("watts"),
            **_POWER,
        )
        if view.detail is not None and view.detail.wh_lifetime is not None:
            add(
                "sensor",
                f"inverter_{inv}_energy",
                "Lifetime energy",
                dev,
                state_topic=state,
                enabled_by_default=enabled,
                **_value("wh_lifetime"),
                **_ENERGY,
            )

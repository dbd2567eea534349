"""Home Assistant MQTT discovery: one retained config per device, made from the feature table.

Device-based discovery (Home Assistant 2024.11+): ``<prefix>/device/<id>/config``
holds the device (``dev``), the origin (``o``: name, version, support URL), the
availability every component shares, and the components (``cmps``) keyed by
their component key (`hass_entities.place`). One device per gateway; each
microinverter, battery, system controller and CT meter is a device of its own
``via_device`` the gateway. Removing a component is leaving it out of ``cmps``
(Home Assistant removes the entity); removing a device is an empty retained
config (the sink does both, see `mqtt`).

Every component comes from a feature-table instance: its name, unit, device
and state class, entity category, display precision, icon, options and range;
a control also gets a companion ``enum`` sensor showing its last command's
outcome. Entity ids: `hass_entity_ids` (``default_entity_id`` for Home
Assistant 2025.10+, ``object_id`` for older ones).

Availability: the collector's topic (its MQTT last will) and the gateway's,
``availability_mode: all``, so a killed collector or an unreachable gateway
both show the entities unavailable.

`device_configs` is pure: placements in, ``{topic: config}`` out; `static_key` says
when its output may differ, so the sink builds the configs again only then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from ..features import FEATURES, Kind, Readings, Scope, instances
from .hass_entities import Placement
from .hass_entities import place as placed_at
from .hass_entity_ids import core_object_id, native_object_id
from .mqtt_payloads import options
from .site_discovery import site_device

__all__ = [
    "OUTCOMES",
    "HassNaming",
    "device_configs",
    "offered",
    "published",
    "site_filter",
    "static_key",
]

OUTCOMES = ("confirmed", "pending", "ignored", "reverted", "refused", "failed", "superseded")
"""States of the command-result sensors (see docs/mqtt.md)."""

SUPPORT_URL = "https://github.com/enphase-local/enphase-local"


def _version() -> str:
    try:
        return metadata.version("enphase-local")
    except metadata.PackageNotFoundError:
        return "unknown"


ORIGIN = {"name": "enphase-local", "sw_version": _version(), "support_url": SUPPORT_URL}


@dataclass(frozen=True, slots=True)
class HassNaming:
    """Where things live: the sink's base topic, the discovery prefix, the collector's will."""

    base: str = "enphase"
    prefix: str = "homeassistant"
    bridge_availability: str = "enphase/bridge/availability"
    inverter_entities_limit: int = 16
    """Above this many microinverters their entities are created disabled (HA users enable some)."""
    entity_ids: str = "native"
    """``native`` or ``core`` (see `hass_entity_ids`)."""

    def topic(self, serial: str, leaf: str) -> str:
        return f"{self.base}/{serial}/{leaf}"

    def device_topic(self, device: str) -> str:
        return f"{self.prefix}/device/{device}/config"

    def legacy_filter(self, serial: str) -> str:
        """The per-entity discovery topics this sink used before device discovery."""
        return f"{self.prefix}/+/enphase_{serial}/+/config"


def _config_url(host: str) -> str:
    return host if host.startswith(("http://", "https://")) else f"https://{host}/"


def _gateway_device(serial: str, readings: Readings) -> dict[str, Any]:
    site = site_device(serial, readings.snapshot)  # a [[site]]'s sums: a device of their own
    if site is not None:
        return site
    gw = readings.snapshot.gateway
    return {
        "identifiers": [f"enphase_{serial}"],
        "name": f"Enphase gateway {serial}",
        "manufacturer": "Enphase Energy",
        "model": "IQ Gateway" if gw.part_number is None else f"IQ Gateway ({gw.part_number})",
        "serial_number": serial,
        "sw_version": gw.firmware,
        "configuration_url": _config_url(gw.host),
    }


def _item_device(serial: str, place: Placement) -> dict[str, Any]:
    label, model = place.sub_device() or ("", "")
    dev: dict[str, Any] = {
        "identifiers": [place.device],
        "name": f"{label} {place.inst.key}",
        "manufacturer": "Enphase Energy",
        "model": model,
        "via_device": f"enphase_{serial}",
    }
    if place.feature.scope is not Scope.METER:
        dev["serial_number"] = place.inst.key
    return dev


def _template(place: Placement) -> str:
    """The value template: the document key; timestamps (epoch seconds) as ISO 8601."""
    ref = f"value_json.{place.key}" if place.key.isidentifier() else f"value_json[{place.key!r}]"
    if place.feature.device_class == "timestamp":
        fmt = "'%Y-%m-%dT%H:%M:%S+00:00', false"
        return f"{{{{ none if {ref} is none else ({ref} | timestamp_custom({fmt})) }}}}"
    if place.feature.kind is Kind.BINARY_SENSOR:
        return f"{{{{ none if {ref} is none else ('ON' if {ref} else 'OFF') }}}}"
    if place.feature.kind in (Kind.NUMBER, Kind.TIME):  # these take no "None": empty is none
        return f"{{{{ '' if {ref} is none else {ref} }}}}"
    if place.feature.kind is Kind.SELECT:  # a value outside the options is no option (no warning)
        return f"{{{{ {ref} if {ref} in {options(place.feature.options)!r} else none }}}}"
    return f"{{{{ {ref} }}}}"


def _entity_ids(naming: HassNaming, serial: str, place: Placement, readings: Readings) -> str:
    if naming.entity_ids == "core":
        core = core_object_id(place.platform, serial, place.inst, readings.snapshot)
        if core is not None:
            return core
    return native_object_id(serial, place.component)


def _component(
    naming: HassNaming, serial: str, place: Placement, readings: Readings, enabled: bool
) -> dict[str, Any]:
    feature = place.feature
    object_id = _entity_ids(naming, serial, place, readings)
    name = feature.name
    if place.inst.key and place.gateway:
        name = f"{name} {place.inst.key}"
    config: dict[str, Any] = {
        "p": place.platform,
        "name": name,
        "unique_id": place.unique_id,
        "object_id": object_id,
        "default_entity_id": f"{place.platform}.{object_id}",
    }
    if not (enabled and feature.enabled_by_default):
        config["enabled_by_default"] = False
    if feature.category is not None:
        config["entity_category"] = feature.category.value
    if feature.icon is not None:
        config["icon"] = feature.icon
    if feature.kind is not Kind.BUTTON:
        config["state_topic"] = naming.topic(serial, place.leaf)
        config["value_template"] = _template(place)
    if feature.attributes is not None and "state_topic" in config:  # e.g. a counter derived
        config["json_attributes_topic"] = config["state_topic"]
        config["json_attributes_template"] = (
            f"{{{{ value_json[{place.key + '_attributes'!r}] | tojson }}}}"
        )
    if feature.writable:
        config["command_topic"] = naming.topic(serial, f"set/{place.component}")
    _shape(config, place)
    return config


def _shape(config: dict[str, Any], place: Placement) -> None:
    """What each platform takes: units and classes, options, range, payloads."""
    feature = place.feature
    kind = feature.kind
    if kind in (Kind.SENSOR, Kind.NUMBER) and feature.unit is not None:
        config["unit_of_measurement"] = feature.unit
    if kind in (Kind.SENSOR, Kind.BINARY_SENSOR, Kind.NUMBER) and feature.device_class:
        config["device_class"] = feature.device_class
    if kind is Kind.SENSOR:
        if feature.state_class is not None:
            config["state_class"] = feature.state_class
        if feature.precision is not None:
            config["suggested_display_precision"] = feature.precision
        if feature.device_class == "enum" and feature.options:
            config["options"] = list(feature.options)
    elif kind is Kind.SELECT:
        config["options"] = options(feature.options)
    elif kind is Kind.NUMBER:
        for key, value in (("min", feature.minimum), ("max", feature.maximum)):
            if value is not None:
                config[key] = value
        config["step"] = feature.step if feature.step is not None else 1
        config["mode"] = "box"
    elif kind is Kind.SWITCH:
        config.update(payload_on="ON", payload_off="OFF")
    elif kind is Kind.BUTTON:
        config["payload_press"] = "PRESS"
    elif kind is Kind.TIME:
        config.update(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", max=5)


def _result(naming: HassNaming, serial: str, place: Placement) -> dict[str, Any]:
    """The companion sensor of a control: its last command's outcome."""
    topic = naming.topic(serial, f"result/{place.component}")
    object_id = native_object_id(serial, f"{place.component}_result")
    return {
        "p": "sensor",
        "name": f"{place.feature.name} command",
        "unique_id": f"{place.unique_id}_result",
        "object_id": object_id,
        "default_entity_id": f"sensor.{object_id}",
        "state_topic": topic,
        "value_template": "{{ value_json.outcome }}",
        "json_attributes_topic": topic,
        "device_class": "enum",
        "options": list(OUTCOMES),
        "entity_category": "diagnostic",
        "icon": "mdi:check-decagram",
    }


def published(serial: str, readings: Readings) -> list[Placement]:
    """Every feature instance the sink publishes for this snapshot, placed: all of a
    gateway's; of a ``[[site]]``'s sums only the site's own readings (its members'
    batteries, inverters and controls are theirs, on their devices: `site_discovery`)."""
    return site_filter(
        serial, readings, [placed_at(serial, i) for i in instances(FEATURES, readings)]
    )


def site_filter(serial: str, readings: Readings, placed: list[Placement]) -> list[Placement]:
    """`placed` as the sink publishes it: all of a gateway's; a site's own readings only."""
    if site_device(serial, readings.snapshot) is None:
        return placed
    return [p for p in placed if p.gateway and not p.feature.writable]


def static_key(
    naming: HassNaming, serial: str, readings: Readings, placed: list[Placement]
) -> tuple[Any, ...]:
    """Everything `device_configs` reads, as one comparable value: equal keys, equal configs.

    The instances (which entities, so also how many microinverters), the gateway's
    device (firmware, part number, host; a site's members) and, for ``core`` entity
    ids, each entity's object id (those read the snapshot: an enpower's serial, a
    dry contact's load name). Values read on every snapshot are not in it: the
    configs hold none, only where to find them.
    """
    ids = tuple(placed)  # the sink keeps its placements: compared by identity first, in C
    gateway = tuple(sorted((k, repr(v)) for k, v in _gateway_device(serial, readings).items()))
    core: tuple[str, ...] = ()
    if naming.entity_ids == "core":
        core = tuple(_entity_ids(naming, serial, p, readings) for p in placed)
    return (naming, ids, gateway, core)


def offered(
    placements: Iterable[Placement], enabled: Callable[[str, str], bool]
) -> list[Placement]:
    """What discovery offers: a control the table keeps off by default (it needs an
    installer token, or the cloud: export limiting, the production switch, the
    shutdown level) only when `enabled` (the sink's ``commands``) says so.

    Why: such a control does nothing for a user who has not set it up, and the
    production switch can leave the inverters off until the next morning; the
    everyday controls stay offered and answer ``refused`` when not enabled.
    """
    return [
        p
        for p in placements
        if not p.feature.writable
        or p.feature.enabled_by_default
        or enabled(p.component, p.feature.id)
    ]


def device_configs(
    naming: HassNaming, serial: str, readings: Readings, placements: Iterable[Placement]
) -> dict[str, dict[str, Any]]:
    """Every retained device discovery config of one gateway, by topic."""
    placed = list(placements)
    inverters = {p.inst.key for p in placed if p.feature.scope is Scope.INVERTER}
    enabled = len(inverters) <= naming.inverter_entities_limit
    availability = [
        {"topic": naming.bridge_availability},
        {"topic": naming.topic(serial, "availability")},
    ]
    out: dict[str, dict[str, Any]] = {}
    for place in placed:
        topic = naming.device_topic(place.node)
        config = out.get(topic)
        if config is None:
            gateway = place.gateway
            dev = _gateway_device(serial, readings) if gateway else _item_device(serial, place)
            config = out[topic] = {
                "dev": dev,
                "o": ORIGIN,
                "availability": availability,
                "availability_mode": "all",
                "cmps": {},
            }
        on = enabled or place.feature.scope is not Scope.INVERTER
        config["cmps"][place.component] = _component(naming, serial, place, readings, on)
        if place.feature.writable:
            config["cmps"][f"{place.component}_result"] = _result(naming, serial, place)
    return out

"""Home Assistant's documented MQTT discovery schema, per platform, as a checker.

Written from the Home Assistant documentation (MQTT discovery, device-based
discovery, and the MQTT Sensor, Binary sensor, Select, Number, Switch, Button
and Text platform pages, and the sensor device-class / unit table), not from
our own builder, so that a config our code gets wrong fails here. Returns a
list of problems (empty: valid). `check_device` takes a device config
(``<prefix>/device/<id>/config``: ``dev``, ``o``, ``cmps``) and checks each
component as Home Assistant sees it: with the device, origin and shared
availability merged in.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

DISCOVERY_TOPIC = re.compile(
    r"^(?P<prefix>[^/+#]+)/(?P<component>[a-z_]+)/(?:(?P<node>[a-zA-Z0-9_-]+)/)?"
    r"(?P<object>[a-zA-Z0-9_-]+)/config$"
)

DEVICE_TOPIC = re.compile(r"^(?P<prefix>[^/+#]+)/device/(?P<object>[a-zA-Z0-9_-]+)/config$")
SHARED = {"availability", "availability_mode", "availability_topic", "qos", "state_topic"}
"""Options a device config may give once for all its components."""

COMMON = {
    "availability",
    "availability_mode",
    "availability_template",
    "availability_topic",
    "default_entity_id",
    "device",
    "enabled_by_default",
    "encoding",
    "entity_category",
    "entity_picture",
    "icon",
    "json_attributes_template",
    "json_attributes_topic",
    "name",
    "object_id",
    "origin",
    "payload_available",
    "payload_not_available",
    "platform",
    "qos",
    "unique_id",
}

PLATFORMS: dict[str, dict[str, set[str]]] = {
    "sensor": {
        "required": {"state_topic"},
        "optional": {
            "device_class",
            "expire_after",
            "force_update",
            "last_reset_value_template",
            "options",
            "state_class",
            "state_topic",
            "suggested_display_precision",
            "unit_of_measurement",
            "value_template",
        },
    },
    "select": {
        "required": {"command_topic", "options"},
        "optional": {"command_template", "optimistic", "retain", "state_topic", "value_template"},
    },
    "number": {
        "required": {"command_topic"},
        "optional": {
            "command_template",
            "device_class",
            "max",
            "min",
            "mode",
            "optimistic",
            "payload_reset",
            "retain",
            "state_topic",
            "step",
            "unit_of_measurement",
            "value_template",
        },
    },
    "binary_sensor": {
        "required": {"state_topic"},
        "optional": {
            "device_class",
            "expire_after",
            "force_update",
            "off_delay",
            "payload_off",
            "payload_on",
            "value_template",
        },
    },
    "button": {
        "required": {"command_topic"},
        "optional": {"command_template", "device_class", "payload_press", "retain"},
    },
    "text": {
        "required": {"command_topic"},
        "optional": {
            "command_template",
            "max",
            "min",
            "mode",
            "pattern",
            "retain",
            "state_topic",
            "value_template",
        },
    },
    "switch": {
        "required": {"command_topic"},
        "optional": {
            "device_class",
            "optimistic",
            "payload_off",
            "payload_on",
            "retain",
            "state_off",
            "state_on",
            "state_topic",
            "value_template",
        },
    },
}

DEVICE_KEYS = {
    "configuration_url",
    "connections",
    "hw_version",
    "identifiers",
    "manufacturer",
    "model",
    "model_id",
    "name",
    "serial_number",
    "suggested_area",
    "sw_version",
    "via_device",
}
ORIGIN_KEYS = {"name", "sw_version", "support_url"}
STATE_CLASSES = {"measurement", "total", "total_increasing"}
# Units Home Assistant accepts for the device classes we use (sensor documentation table).
UNITS: dict[str, set[str | None]] = {
    "power": {"mW", "W", "kW", "MW", "GW", "TW", "BTU/h"},
    "energy": {"J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal", "kcal"},
    "battery": {"%"},
    "temperature": {"°C", "°F", "K"},
    "voltage": {"V", "mV", "µV", "kV", "MV"},
    "frequency": {"Hz", "kHz", "MHz", "GHz"},
    "duration": {"d", "h", "min", "s", "ms"},
    "energy_storage": {"J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh"},
    "timestamp": {None},
    "current": {"A", "mA"},
    "power_factor": {None, "%"},
}
BINARY_SENSOR_CLASSES = {"connectivity", "power", "problem", "running", "plug", "battery"}
ENERGY_DASHBOARD_STATE_CLASSES = {"total", "total_increasing"}


def check(topic: str, config: dict[str, Any]) -> list[str]:
    """Problems of one discovery config under Home Assistant's documented schema."""
    problems: list[str] = []
    match = DISCOVERY_TOPIC.match(topic)
    if match is None:
        return [f"{topic}: not <prefix>/<component>/[<node_id>/]<object_id>/config"]
    component = match["component"]
    platform = PLATFORMS.get(component)
    if platform is None:
        return [f"{topic}: platform {component!r} is not one we check"]
    allowed = COMMON | platform["required"] | platform["optional"]
    problems += [f"{topic}: unknown key {k!r}" for k in sorted(set(config) - allowed)]
    problems += [f"{topic}: missing {k!r}" for k in sorted(platform["required"] - set(config))]
    if not isinstance(config.get("unique_id"), str) or not config["unique_id"]:
        problems.append(f"{topic}: a device needs entities with a unique_id")
    problems += _device(topic, config.get("device"))
    problems += _availability(topic, config)
    if config.get("entity_category") not in (None, "config", "diagnostic"):
        problems.append(f"{topic}: entity_category {config['entity_category']!r}")
    if "enabled_by_default" in config and not isinstance(config["enabled_by_default"], bool):
        problems.append(f"{topic}: enabled_by_default must be a boolean")
    for key in ("state_topic", "command_topic", "json_attributes_topic"):
        value = config.get(key)
        if value is not None and (not isinstance(value, str) or set(value) & set("+#")):
            problems.append(f"{topic}: {key} must be a topic without wildcards")
    if component == "sensor":
        problems += _sensor(topic, config)
    elif component == "select":
        options = config.get("options")
        if (
            not isinstance(options, list)
            or not options
            or not all(isinstance(o, str) for o in options)
        ):
            problems.append(f"{topic}: select options must be a non-empty list of strings")
    elif component == "binary_sensor":
        if config.get("device_class") not in (None, *BINARY_SENSOR_CLASSES):
            problems.append(f"{topic}: binary_sensor device_class {config['device_class']!r}")
    elif component == "text":
        pattern = config.get("pattern")
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error:
                problems.append(f"{topic}: text pattern is not a regular expression")
    elif component == "number":
        if config.get("mode", "auto") not in ("auto", "box", "slider"):
            problems.append(f"{topic}: number mode {config['mode']!r}")
        if not config.get("min", 1) < config.get("max", 100):
            problems.append(f"{topic}: number min must be below max")
    return problems


def _device(topic: str, device: Any) -> list[str]:
    if not isinstance(device, dict):
        return [f"{topic}: no device"]
    problems = [f"{topic}: unknown device key {k!r}" for k in sorted(set(device) - DEVICE_KEYS)]
    ids = device.get("identifiers")
    if not (isinstance(ids, list | str) and ids) and not device.get("connections"):
        problems.append(f"{topic}: a device needs identifiers or connections")
    url = device.get("configuration_url")
    if url is not None and urlsplit(url).scheme not in ("http", "https", "homeassistant"):
        problems.append(f"{topic}: configuration_url {url!r} is not an http(s) URL")
    return problems


def _availability(topic: str, config: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if config.get("availability_mode", "latest") not in ("all", "any", "latest"):
        problems.append(f"{topic}: availability_mode {config['availability_mode']!r}")
    entries = config.get("availability", [])
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("topic"), str) for e in entries
    ):
        problems.append(f"{topic}: availability must be a list of {{topic: ...}}")
    origin = config.get("origin")
    if origin is not None and (not isinstance(origin, dict) or "name" not in origin):
        problems.append(f"{topic}: origin needs a name")
    elif origin is not None:
        problems += [f"{topic}: unknown origin key {k!r}" for k in set(origin) - ORIGIN_KEYS]
    return problems


def _sensor(topic: str, config: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    device_class = config.get("device_class")
    state_class = config.get("state_class")
    unit = config.get("unit_of_measurement")
    if state_class is not None and state_class not in STATE_CLASSES:
        problems.append(f"{topic}: state_class {state_class!r}")
    if device_class == "enum":
        if state_class is not None or unit is not None:
            problems.append(f"{topic}: an enum sensor has no state_class and no unit")
        if not isinstance(config.get("options"), list) or not config["options"]:
            problems.append(f"{topic}: an enum sensor lists its options")
    elif device_class in UNITS:
        if unit not in UNITS[device_class]:
            problems.append(f"{topic}: unit {unit!r} is not valid for {device_class}")
    elif device_class is not None:
        problems.append(f"{topic}: device_class {device_class!r} is not one we expect")
    # no state class: a plain figure (last 7 days), no statistics
    if device_class == "energy" and state_class not in (None, *ENERGY_DASHBOARD_STATE_CLASSES):
        problems.append(f"{topic}: an energy sensor is total or total_increasing")
    if device_class in ("power", "battery", "temperature") and state_class != "measurement":
        problems.append(f"{topic}: {device_class} should be a measurement")
    if "options" in config and device_class != "enum":
        problems.append(f"{topic}: options only with device_class enum")
    return problems


def check_device(topic: str, config: dict[str, Any]) -> list[str]:
    """Problems of one device discovery config, and of each of its components."""
    match = DEVICE_TOPIC.match(topic)
    if match is None:
        return [f"{topic}: not <prefix>/device/<object_id>/config"]
    problems = [
        f"{topic}: unknown device config key {k!r}"
        for k in sorted(set(config) - {"dev", "o", "cmps", *SHARED})
    ]
    problems += [f"{topic}: missing {k!r}" for k in ("dev", "o", "cmps") if k not in config]
    components = config.get("cmps")
    if not isinstance(components, dict) or not components:
        return [*problems, f"{topic}: cmps must map component keys to configs"]
    shared = {k: v for k, v in config.items() if k in SHARED}
    for key, component in components.items():
        if not re.fullmatch(r"[a-zA-Z0-9_-]+", key):
            problems.append(f"{topic}: component key {key!r}")
            continue
        platform = component.get("p", component.get("platform"))
        single = {k: v for k, v in component.items() if k not in ("p", "platform")}
        merged = {**shared, **single, "device": config.get("dev"), "origin": config.get("o")}
        problems += check(f"{match['prefix']}/{platform}/{match['object']}/{key}/config", merged)
    return problems

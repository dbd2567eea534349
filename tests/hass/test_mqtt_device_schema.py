"""The MQTT sink's device discovery configs, checked by Home Assistant's own schemas.

What Home Assistant 2025.4's MQTT discovery does with a device config
(homeassistant/components/mqtt/discovery.py): expand the abbreviations,
validate it with ``DEVICE_DISCOVERY_SCHEMA``, then hand each component, with
the device, origin and shared availability merged in, to its platform's
``DISCOVERY_SCHEMA``. Done here for every preset's configs, in both entity id
modes; a unit Home Assistant would warn about fails too.
"""

from __future__ import annotations

import importlib
import logging
import re
from datetime import datetime
from typing import Any

import orjson
import pytest
from homeassistant.components.mqtt.discovery import (
    MQTTDiscoveryPayload,
    _replace_all_abbreviations,
)
from homeassistant.components.mqtt.schemas import DEVICE_DISCOVERY_SCHEMA
from homeassistant.core import HomeAssistant
from homeassistant.helpers.template import Template

from enphase_local.features import FEATURES, Readings, instances
from enphase_local.service.hass_discovery import HassNaming, device_configs
from enphase_local.service.hass_entities import place
from enphase_local.service.mqtt_payloads import documents
from tests.simkit import envoy_for, gateway

SHARED = ("availability", "availability_mode")


async def _site(
    preset: str, entity_ids: str = "native"
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The device configs of a simulated `preset` site, and its documents by topic."""
    async with gateway(preset) as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
    serial = snap.gateway.serial
    readings = Readings(snap)
    placed = [place(serial, inst) for inst in instances(FEATURES, readings)]
    naming = HassNaming(prefix="homeassistant", entity_ids=entity_ids)
    docs = documents(serial, readings, placed)
    by_topic = {naming.topic(serial, leaf): doc for leaf, doc in docs.items()}
    return device_configs(naming, serial, readings, placed), by_topic


async def _configs(preset: str, entity_ids: str) -> dict[str, dict[str, Any]]:
    return (await _site(preset, entity_ids))[0]


@pytest.mark.parametrize(
    ("preset", "entity_ids"),
    [
        ("battery-backup", "native"),
        ("battery-backup", "core"),
        ("generator", "core"),
        ("acb", "native"),
        ("metered-3phase", "native"),
        ("collar", "native"),
        ("export-limit", "core"),
    ],
)
async def test_every_device_config_passes_home_assistants_schemas(
    preset: str, entity_ids: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    configs = await _configs(preset, entity_ids)
    checked = 0
    for topic, config in configs.items():
        payload = MQTTDiscoveryPayload(orjson.loads(orjson.dumps(config)))  # as sent
        _replace_all_abbreviations(payload)
        valid = DEVICE_DISCOVERY_SCHEMA(payload)
        for key, component in valid["components"].items():
            merged = dict(component)
            platform = merged.pop("platform")
            merged.update(device=valid["device"], origin=valid["origin"])
            for option in SHARED:
                merged.setdefault(option, valid.get(option))
            module = importlib.import_module(f"homeassistant.components.mqtt.{platform}")
            try:
                module.DISCOVERY_SCHEMA(merged)
            except Exception as err:  # say which component
                pytest.fail(f"{topic} {key}: {err}")
            checked += 1
    assert checked > 20
    warned = [  # Home Assistant's own (not asyncio's debug note of a slow step on a busy CPU)
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("homeassistant")
    ]
    assert warned == []


def _accepts(component: dict[str, Any], shown: str) -> bool:
    """Whether the platform takes `shown` (a rendered template) without a warning."""
    platform = component["p"]
    if shown in ("None", "") and platform in ("sensor", "binary_sensor", "select", "switch"):
        return shown == "None"  # "None" is unknown; an empty payload is ignored with a log
    if platform == "sensor":
        if component.get("device_class") == "timestamp":
            return datetime.fromisoformat(shown).tzinfo is not None
        if component.get("device_class") == "enum":
            return shown in component["options"]
        if "unit_of_measurement" in component or "state_class" in component:
            float(shown)
        return True
    if platform in ("binary_sensor", "switch"):
        return shown in ("ON", "OFF")
    if platform == "select":
        return shown in component["options"]
    if platform == "number":
        return shown == "" or component["min"] <= float(shown) <= component["max"]
    if platform == "text":
        return shown == "" or re.fullmatch(component["pattern"], shown) is not None
    return False


@pytest.mark.parametrize("preset", ["battery-backup", "generator", "acb", "metered-3phase"])
async def test_every_template_renders_a_value_its_platform_takes(
    hass: HomeAssistant, preset: str
) -> None:
    """Each value template, rendered by Home Assistant on the document it reads."""
    configs, docs = await _site(preset)
    rendered = 0
    for config in configs.values():
        for key, component in config["cmps"].items():
            topic = component.get("state_topic", "")
            if topic not in docs:  # command results: documents of their own
                continue
            template = Template(component["value_template"], hass)
            payload = orjson.dumps(docs[topic]).decode()
            shown = str(template.async_render_with_possible_json_value(payload, ""))
            assert _accepts(component, shown), (key, shown)
            if "json_attributes_template" in component:  # the attributes: a JSON object
                attributes = Template(component["json_attributes_template"], hass)
                shown = attributes.async_render_with_possible_json_value(payload, "")
                assert isinstance(orjson.loads(str(shown)), dict), (key, shown)
            rendered += 1
    assert rendered > 20

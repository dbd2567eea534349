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
from typing import Any

import orjson
import pytest
from homeassistant.components.mqtt.discovery import (
    MQTTDiscoveryPayload,
    _replace_all_abbreviations,
)
from homeassistant.components.mqtt.schemas import DEVICE_DISCOVERY_SCHEMA

from enphase_local.features import FEATURES, Readings, instances
from enphase_local.service.hass_discovery import HassNaming, device_configs
from enphase_local.service.hass_entities import place
from tests.simkit import envoy_for, gateway

SHARED = ("availability", "availability_mode")


async def _configs(preset: str, entity_ids: str) -> dict[str, dict[str, Any]]:
    async with gateway(preset) as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
    serial = snap.gateway.serial
    readings = Readings(snap)
    placed = [place(serial, inst) for inst in instances(FEATURES, readings)]
    naming = HassNaming(prefix="homeassistant", entity_ids=entity_ids)
    return device_configs(naming, serial, readings, placed)


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
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []

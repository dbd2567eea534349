"""Moving Home Assistant from per-entity discovery to device discovery, keeping everything.

Before device discovery the sink published one retained config per entity at
``<prefix>/<component>/enphase_<serial>/<object>/config``. Home Assistant
keys an MQTT entity by its discovery topic, so a device config naming the
same unique ids would clash with them. Its documented way out
(homeassistant/components/mqtt/discovery.py, ``migrate_discovery``), in this
order:

1. ``{"migrate_discovery": true}`` on each old topic: Home Assistant lets go
   of that discovery but keeps the entity in its registry (id, name, area,
   customisations, history);
2. the device config, whose components carry the same unique ids: the
   registry entries are taken over by them;
3. an empty retained message on each old topic, so nothing old remains.

Which old topics exist is read from the broker, not guessed: `LegacyTopics`
subscribes to the gateway's old topics and waits for a second SUBACK, after
which the broker has sent every retained message of the first subscription.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from .hass_discovery import HassNaming
    from .mqtt_link import MqttLink

__all__ = ["MIGRATE", "LegacyTopics", "migration_messages"]

_LOG = logging.getLogger("enphase_local.service.mqtt")

MIGRATE = orjson.dumps({"migrate_discovery": True})


class LegacyTopics:
    """The old per-entity discovery topics still retained on the broker, per gateway."""

    def __init__(self, naming: HassNaming) -> None:
        self._naming = naming
        self._found: dict[str, set[str]] = {}
        self._looked: set[str] = set()

    def _serial_of(self, topic: str) -> str | None:
        parts = topic.split("/")
        prefix = self._naming.prefix.split("/")
        if len(parts) != len(prefix) + 4 or parts[: len(prefix)] != prefix:
            return None
        component, node, _object, leaf = parts[len(prefix) :]
        if leaf != "config" or component == "device" or not node.startswith("enphase_"):
            return None
        return node.removeprefix("enphase_")

    def seen(self, topic: str, payload: bytes) -> bool:
        """Note a message on an old discovery topic; False when `topic` is not one."""
        serial = self._serial_of(topic)
        if serial is None:
            return False
        found = self._found.setdefault(serial, set())
        if payload and payload != MIGRATE:
            found.add(topic)
        else:
            found.discard(topic)
        return True

    async def find(self, link: MqttLink, serial: str) -> list[str]:
        """The old topics of `serial`: looked for once per gateway and process (only an older
        version of the collector makes them); [] after that, and on failure (tried again)."""
        if serial in self._looked:
            return []
        self._looked.add(serial)
        try:
            await link.subscribe(self._naming.legacy_filter(serial))
            # SUBACKs come in order, each after the retained messages of the ones before
            await link.subscribe(f"{self._naming.bridge_availability}/discovery-sync")
        except (ConnectionError, TimeoutError) as err:
            _LOG.warning("MQTT: could not look for old discovery configs of %s: %s", serial, err)
            self._looked.discard(serial)
            return []
        return sorted(self._found.pop(serial, set()))


def migration_messages(
    topics: list[str],
) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """(the messages before the device configs, the messages after), all retained."""
    return [(t, MIGRATE) for t in topics], [(t, b"") for t in topics]

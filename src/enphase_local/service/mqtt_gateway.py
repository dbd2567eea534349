"""One gateway on MQTT, worked out once per snapshot: instances, values, documents, configs.

Why a module of its own: the sink published each snapshot by listing the
feature instances (reading every value to see whether it exists), placing
each, building every discovery config and reading every value again for the
documents: 4.2 ms a snapshot on a battery site, 13 times what the sink cost
before the feature table (bench/RESULTS.md, "MQTT sink per snapshot and per
frame"). Here each instance is read once per snapshot, its `Placement` and
document slot are kept from one snapshot to the next; the discovery configs are built again only
when `hass_discovery.static_key` changes (an instance comes or goes, new
firmware, a site's members), which on a running site is almost never.

The output is the pure functions' (`hass_discovery.published`,
`hass_discovery.device_configs`, `mqtt_payloads.documents`), byte for byte:
tests/service_sinks/test_mqtt_fast.py compares the two on every preset and
real capture.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any

from ..features import FEATURES, Instance, Readings, Scope, scope_keys
from ..features.model import MISSING
from .hass_discovery import HassNaming, device_configs, offered, site_filter, static_key
from .hass_entities import Placement, place
from .mqtt_payloads import Slot, assemble, slots

__all__ = ["GatewayView"]


class GatewayView:
    """What the sink publishes of one gateway; `read` brings it up to a snapshot."""

    def __init__(
        self,
        naming: HassNaming,
        serial: str,
        enabled: Callable[[str, str], bool] = lambda _component, _feature: True,
    ) -> None:
        self.naming = naming
        self.serial = serial
        self.enabled = enabled
        """The sink's ``commands``: which off-by-default controls discovery offers
        (`hass_discovery.offered`); by default all of them."""
        self.configs: dict[str, dict[str, Any]] = {}
        """The device discovery configs, by topic (`hass_discovery.device_configs`)."""
        self.by_component: dict[str, Placement] = {}
        self.live: list[Placement] = []
        """The instances a live frame changes (those on the ``state`` document)."""
        self._key: tuple[Any, ...] | None = None
        self._places: dict[tuple[str, str], Placement] = {}
        self._slots: list[Slot] = []
        self._live_slots: list[Slot] = []

    def read(self, readings: Readings) -> tuple[dict[str, dict[str, Any]], bool]:
        """The snapshot's documents by topic leaf, and whether `configs` changed."""
        placed, values = self._evaluate(readings)
        kept = site_filter(self.serial, readings, placed)
        if kept is not placed:
            chosen = {id(p) for p in kept}
            values = [v for p, v in zip(placed, values, strict=True) if id(p) in chosen]
        key = static_key(self.naming, self.serial, readings, kept)
        changed = key != self._key
        if changed:
            shown = offered(kept, self.enabled)
            self.configs = device_configs(self.naming, self.serial, readings, shown)
            self.by_component = {p.component: p for p in kept}
            self.live = [p for p in kept if p.leaf == "state"]
            self._slots, self._live_slots = slots(kept), slots(self.live)
            self._places = {(p.feature.id, p.inst.key): p for p in placed}  # the gone: forgotten
            self._key = key  # last: a failure above builds them all again next time
        return assemble(self.serial, readings, self._slots, values), changed

    def stale(self) -> None:
        """The sink could not publish what `read` returned: say `changed` at the next read,
        so that the configs are offered again (those retained already are not resent)."""
        self._key = None

    def live_state(self, readings: Readings, last: dict[str, Any]) -> dict[str, Any]:
        """The ``state`` document after a live frame: its flows, then `last`'s other keys.

        `last` is the previous state (the snapshot's readings and the flows before);
        when it starts with the frame's keys in the same order, as it does after
        the first frame, ``last | new`` is that document without a loop in Python.
        """
        values = []
        for p in self.live:
            try:  # `Instance.value`, inlined: about once a second per gateway
                values.append(p.inst.feature.get(readings, p.inst.key))
            except MISSING:
                values.append(None)
        state = assemble(self.serial, readings, self._live_slots, values)["state"]
        if list(islice(last, len(state))) == list(state):
            return last | state
        for key, value in last.items():
            state.setdefault(key, value)
        return state

    def _evaluate(self, readings: Readings) -> tuple[list[Placement], list[Any]]:
        """Every instance this snapshot has, placed, with its value: each read once.

        The same instances, in the same order, as `features.instances` (a feature
        exists where its `exists` says, else where its value is not None).
        """
        placed: list[Placement] = []
        values: list[Any] = []
        places = self._places
        scopes: dict[Scope, tuple[str, ...]] = {}  # each scope's items listed once
        for feature in FEATURES:
            keys = scopes.get(feature.scope)
            if keys is None:
                keys = scopes[feature.scope] = scope_keys(feature.scope, readings)
            for key in keys:
                if feature.exists is not None and not feature.present(readings, key):
                    continue
                try:  # `Feature.value`, inlined: one call less per instance
                    value = feature.get(readings, key)
                except MISSING:
                    value = None
                if value is None and feature.exists is None:
                    continue
                found = places.get((feature.id, key))
                if found is None:
                    found = places[feature.id, key] = place(self.serial, Instance(feature, key))
                placed.append(found)
                values.append(value)
        return placed, values

"""The MQTT documents (schema 1): the feature table's values, gateway by gateway.

Every value is a feature's (`enphase_local.features`), read from the engine's
snapshot or live frame through `Readings`; nothing here computes a number.
Where each value goes (document and key) is `hass_entities.place`; this
module writes the documents: flat JSON objects, None where the site has no
value, so a template is always ``{{ value_json.<key> }}``. Keys of the
entities the sink had before the feature table are kept (``solar_w``,
``grid_import_wh``, ``soc_percent`` ...) so that a Home Assistant template or a
Node-RED flow still reads; docs/mqtt.md lists the documents. Adding keys is
fine; renaming or removing one needs a new `PAYLOAD_SCHEMA`.

`Throttle` keeps the state topic to at most one message a second per gateway
(live frames arrive about once a second, several sources may feed one
gateway) and drops documents identical to the last one sent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..features import Feature, Kind, Readings
from .hass_entities import Placement

__all__ = [
    "PAYLOAD_SCHEMA",
    "Slot",
    "Throttle",
    "assemble",
    "documents",
    "encode",
    "minutes_text",
    "option",
    "options",
    "slots",
]

PAYLOAD_SCHEMA = 1


def minutes_text(value: Any) -> str | None:
    """Minutes after midnight as ``HH:MM`` (a time control's text), None when not a time."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return None
    minutes = int(value) % 1440
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def option(value: str) -> str:
    """A select option as MQTT shows it: Home Assistant's MQTT select reads ``none`` (any
    case) as "no option", so an option of that name is shown as ``(none)``."""
    return f"({value})" if value.lower() == "none" else value


def options(values: Iterable[str]) -> list[str]:
    return [option(v) for v in values]


def encode(kind: Kind, value: Any) -> Any:
    """A feature's value as its document carries it: switches ``"ON"``/``"OFF"``, times
    ``HH:MM``, everything else as the feature gives it (None stays None)."""
    if value is None:
        return None
    if kind is Kind.SWITCH:
        if isinstance(value, str):  # a relay-like word read back from a write
            return "ON" if value == "closed" else "OFF"
        return "ON" if value else "OFF"
    if kind is Kind.TIME:
        return minutes_text(value)
    if kind is Kind.BINARY_SENSOR:
        return bool(value)
    if kind is Kind.SELECT and isinstance(value, str):
        return option(value)
    return value


def documents(
    serial: str, readings: Readings, placements: Iterable[Placement]
) -> dict[str, dict[str, Any]]:
    """Every document of one gateway, by topic leaf (``state``, ``energy``, ``control``,
    ``inverter/<serial>`` ...).

    The gateway's ``state`` also carries its ``energy`` readings (one message has
    power and counters, as schema 1 always had). Item documents carry no time, so
    an unchanged microinverter is not sent again.
    """
    placed = list(placements)
    return assemble(serial, readings, slots(placed), [p.inst.value(readings) for p in placed])


Slot = tuple[str, str, Kind | None, bool, str, Feature | None]
"""What `assemble` needs of one placement: its document's leaf, its key, its kind (None:
a sensor, its value as is), whether the document is the gateway's, the item's key, and
its feature when that has attributes."""


def slots(placements: Iterable[Placement]) -> list[Slot]:
    """Each placement's `Slot`: worked out once per set of instances (`mqtt_gateway`),
    not once per value per snapshot."""
    out: list[Slot] = []
    for p in placements:
        feature = p.feature
        kind = None if feature.kind is Kind.SENSOR else feature.kind
        extra = feature if feature.attributes is not None else None
        out.append((p.leaf, p.key, kind, p.gateway, p.inst.key, extra))
    return out


def assemble(
    serial: str, readings: Readings, layout: Sequence[Slot], values: Sequence[Any]
) -> dict[str, dict[str, Any]]:
    """`documents` from values read already, one per slot of `layout` (each value read
    once per snapshot, shared with discovery and commands: see `mqtt_gateway`)."""
    snap = readings.snapshot
    frame = readings.live
    out: dict[str, dict[str, Any]] = {}
    for (leaf, key, kind, gateway, item, extra), value in zip(layout, values, strict=True):
        if kind is Kind.BUTTON:
            continue
        doc = out.get(leaf)
        if doc is None:
            doc = out[leaf] = {"schema": PAYLOAD_SCHEMA}
            if gateway:
                doc.update(serial=serial, taken_at=snap.taken_at)
            else:
                doc["serial"] = item
        doc[key] = value if kind is None else encode(kind, value)
        if extra is not None:  # e.g. whether a counter is derived
            doc[f"{key}_attributes"] = dict(extra.extra(readings, item))
    state = out.setdefault("state", {"schema": PAYLOAD_SCHEMA, "serial": serial})
    state.update(
        taken_at=frame.taken_at if frame is not None else snap.taken_at,
        source=frame.source if frame is not None else "snapshot",
        stale=frame.stale if frame is not None else False,
    )
    for key, value in out.get("energy", {}).items():
        state.setdefault(key, value)
    return out


@dataclass(slots=True)
class _Slot:
    sent_at: float = float("-inf")
    last: Mapping[str, Any] | None = None
    pending: dict[str, Any] | None = None


@dataclass(slots=True)
class Throttle:
    """At most one document per key every `interval_s`, and never the same one twice.

    `offer` returns the document to send now, or None (held back: a later
    `due` returns it once the interval has passed, unless a newer document
    replaced it). Documents compare without their ``taken_at``.
    """

    interval_s: float = 1.0
    clock: Callable[[], float] = time.monotonic
    _slots: dict[str, _Slot] = field(default_factory=dict)

    def offer(self, key: str, doc: dict[str, Any]) -> dict[str, Any] | None:
        slot = self._slots.setdefault(key, _Slot())
        if _same(slot.last, doc):
            slot.pending = None
            return None
        now = self.clock()
        if now - slot.sent_at >= self.interval_s:
            slot.sent_at, slot.last, slot.pending = now, doc, None
            return doc
        slot.pending = doc
        return None

    def due(self) -> list[tuple[str, dict[str, Any]]]:
        """Held-back documents whose interval has now passed (they count as sent)."""
        now = self.clock()
        out: list[tuple[str, dict[str, Any]]] = []
        for key, slot in self._slots.items():
            if slot.pending is not None and now - slot.sent_at >= self.interval_s:
                out.append((key, slot.pending))
                slot.sent_at, slot.last, slot.pending = now, slot.pending, None
        return out

    def forget(self, key: str) -> None:
        self._slots.pop(key, None)


def _same(a: Mapping[str, Any] | None, b: dict[str, Any]) -> bool:
    """Equal but for ``taken_at``. Once per live frame, on ~100 keys: `b`'s time is set to
    `a`'s for one C comparison, then put back (same key, so same order), no copies."""
    if a is None:
        return False
    if "taken_at" in a and "taken_at" in b:
        own = b["taken_at"]
        b["taken_at"] = a["taken_at"]
        try:
            return a == b
        finally:
            b["taken_at"] = own
    left, right = dict(a), dict(b)
    left.pop("taken_at", None)
    right.pop("taken_at", None)
    return left == right

"""What one feature is: a value or a control, declared once, read from the engine's output.

Why a table of declarations (the way python-kasa declares its ``Feature``s):
Home Assistant discovery, the MQTT documents, Prometheus, the dashboard and the
CLI each used to say on their own which values exist, what they are called and
where they come from, so they could disagree. A `Feature` says it once: id,
name, unit, device class, state class, entity category, precision, how to read
it from a `Snapshot` or a `LiveFrame` (never a second derivation of a number
the engine already made), how to set it through ``envoy.control``, and when it
exists (by default: when its value is there). Adding an entity is one entry.

A feature with a `Scope` other than `SITE` exists once per item of that scope
(per phase, per meter, per microinverter, per battery, per dry contact ...);
`instances` lists them for one snapshot.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..models.live_frame import LiveFrame
from ..models.snapshot import Snapshot

if TYPE_CHECKING:
    from ..control import Control, WriteResult

__all__ = [
    "Category",
    "Feature",
    "Instance",
    "Kind",
    "Readings",
    "Scope",
    "Source",
    "instances",
    "scope_keys",
]


class Kind(enum.StrEnum):
    """What a feature is to a user: a reading, an on/off reading, or a control of some shape."""

    SENSOR = "sensor"
    BINARY_SENSOR = "binary_sensor"
    NUMBER = "number"
    SELECT = "select"
    SWITCH = "switch"
    BUTTON = "button"
    TIME = "time"


class Scope(enum.StrEnum):
    """How many of a feature a site has: one, or one per item of a snapshot section."""

    SITE = "site"
    PHASE = "phase"  # snapshot.phases (L1..L3); live per-phase flows use the same keys
    METER = "meter"  # snapshot.meters: production, net-consumption, total-consumption, storage
    INVERTER = "inverter"  # snapshot.inverters, by serial
    BATTERY = "battery"  # snapshot.battery.units (IQ Battery / Encharge), by serial
    ACB = "acb"  # snapshot.acb.units (AC Battery), by serial
    ENPOWER = "enpower"  # the IQ System Controller, by serial (at most one)
    COLLAR = "collar"  # the IQ Meter Collar, by serial (at most one)
    C6 = "c6"  # the IQ Combiner 6C controller, by serial (at most one)
    DRY_CONTACT = "dry_contact"  # snapshot.dry_contacts, by contact id (NC1, NO1, ...)
    SECTION = "section"  # snapshot.freshness, by section name


class Source(enum.StrEnum):
    """Where the value comes from, which says how often it changes."""

    SNAPSHOT = "snapshot"  # Envoy.update(): every poll
    LIVE = "live"  # Envoy.live(): about once a second (else the snapshot's power_flow)
    SESSION = "session"  # the connection itself (the token's expiry)


class Category(enum.StrEnum):
    """Home Assistant's entity categories: settings, and values for diagnosis."""

    CONFIG = "config"
    DIAGNOSTIC = "diagnostic"


@dataclass(frozen=True, slots=True)
class Readings:
    """Everything a feature may read: the last snapshot, the last live frame, the session.

    `frame` is the newest live frame when a live reader runs; without one,
    live features read the snapshot's own balanced `power_flow`.
    """

    snapshot: Snapshot
    frame: LiveFrame | None = None
    token_expires_at: float | None = None
    now: float | None = None

    @property
    def live(self) -> LiveFrame | None:
        return self.frame if self.frame is not None else self.snapshot.power_flow


MISSING = (AttributeError, KeyError, TypeError)
"""What a getter raises where the site lacks a section: the value is then None."""

Getter = Callable[[Readings, str], Any]
"""(readings, item key) -> the value, or None where the site has none."""

Setter = Callable[["Control", str, Any, Readings], Awaitable["WriteResult"]]
"""(envoy.control, item key, requested value, readings) -> the confirmed-write result."""


@dataclass(frozen=True, slots=True)
class Feature:
    """One value or control (see the module docstring). Frozen: the table is data."""

    id: str
    name: str
    kind: Kind
    get: Getter
    scope: Scope = Scope.SITE
    source: Source = Source.SNAPSHOT
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    category: Category | None = None
    precision: int | None = None
    set: Setter | None = None
    options: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    enabled_by_default: bool = True
    exists: Callable[[Readings, str], bool] | None = None
    core_unique_id: str | Mapping[str, str] | None = None
    """Home Assistant core ``enphase_envoy``'s unique id for the same entity, as a template
    (``{serial}`` the gateway, ``{key}`` the item, ``{key_}`` it with ``-`` as ``_``,
    ``{phase}`` it lower-case, ``{enpower}`` the system controller's serial), so a user
    moving from the core integration keeps the entity's history. A mapping gives one
    template per item key (the core integration names each CT's entities apart)."""
    icon: str | None = None
    doc: str = ""
    attributes: Callable[[Readings, str], Mapping[str, Any]] | None = None
    """More about the value, shown beside it (e.g. that an energy counter is derived)."""

    @property
    def writable(self) -> bool:
        return self.set is not None

    def value(self, readings: Readings, key: str = "") -> Any:
        """The value now, or None (never raises for a missing section: the site lacks it)."""
        try:
            return self.get(readings, key)
        except MISSING:
            return None

    def extra(self, readings: Readings, key: str = "") -> Mapping[str, Any]:
        """The `attributes` now (empty when the feature declares none or they are missing)."""
        if self.attributes is None:
            return {}
        try:
            return self.attributes(readings, key)
        except MISSING:
            return {}

    def present(self, readings: Readings, key: str = "") -> bool:
        """Whether this site has this feature (for this item)."""
        if self.exists is not None:
            try:
                return self.exists(readings, key)
            except MISSING:
                return False
        return self.value(readings, key) is not None

    def core_id(self, serial: str, key: str, snapshot: Snapshot) -> str | None:
        """The core integration's unique id of this entity, when it has one."""
        template = self.core_unique_id
        if isinstance(template, Mapping):
            template = template.get(key)
        if template is None:
            return None
        enpower = snapshot.enpower.serial if snapshot.enpower is not None else serial
        return template.format(
            serial=serial, key=key, key_=key.replace("-", "_"), phase=key.lower(), enpower=enpower
        )


@dataclass(frozen=True, slots=True)
class Instance:
    """One feature for one item: what becomes one entity, one metric series, one table row."""

    feature: Feature
    key: str = ""

    @property
    def uid(self) -> str:
        """Stable within a gateway: the feature id, with the item key when scoped."""
        if not self.key:
            return self.feature.id
        return f"{self.feature.id}_{self.key.lower().replace('-', '_')}"

    def value(self, readings: Readings) -> Any:
        return self.feature.value(readings, self.key)


def scope_keys(scope: Scope, readings: Readings) -> tuple[str, ...]:
    """The items a scope has on this site, in a stable order."""
    snap = readings.snapshot
    match scope:
        case Scope.SITE:
            return ("",)
        case Scope.PHASE:
            live = readings.live
            names = set(snap.phases) | (set(live.phases) if live is not None else set())
            return tuple(sorted(names))
        case Scope.METER:
            return tuple(snap.meters)
        case Scope.INVERTER:
            return tuple(snap.inverters)
        case Scope.BATTERY:
            return tuple(snap.battery.units) if snap.battery is not None else ()
        case Scope.ACB:
            return tuple(snap.acb.units) if snap.acb is not None else ()
        case Scope.ENPOWER:
            return (snap.enpower.serial,) if snap.enpower is not None else ()
        case Scope.COLLAR:
            return (snap.collar.serial,) if snap.collar is not None else ()
        case Scope.C6:
            return (snap.c6cc.serial,) if snap.c6cc is not None else ()
        case Scope.DRY_CONTACT:
            return tuple(snap.dry_contacts)
        case Scope.SECTION:
            return tuple(snap.freshness)


def instances(features: Sequence[Feature], readings: Readings) -> Iterator[Instance]:
    """Every feature instance this site has, in table order."""
    for feature in features:
        for key in scope_keys(feature.scope, readings):
            if feature.present(readings, key):
                yield Instance(feature, key)

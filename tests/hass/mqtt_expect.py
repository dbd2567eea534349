"""What Home Assistant should show for a site over MQTT, derived from the feature table.

The expectations are the feature table's (`enphase_local.features`): every
instance the simulated site has, with its component, unit, device class, state
class and entity category, and its value from a snapshot of the same
simulator. Nothing here lists entities.

Which Home Assistant entity is which instance: the unique id. The device-based
discovery generated from the table names entities ``enphase_<serial>_<uid>``;
the per-entity discovery before it named some of them apart (``solar_w`` for
``live_solar_power``): `LEGACY` maps a feature id to that name, so the test
recognises both and the entities keep their unique ids across the migration.

`DEVICE_DISCOVERY` says which discovery the collector under test speaks. While
it is False (the per-entity discovery on main before issue 25's rewrite) the
test requires only the instances that discovery already offers (those `LEGACY`
names, or whose uid it shares) and tolerates the attribute differences listed
in `LEGACY_MISMATCHES`; set it True once the table-generated discovery lands
and every instance must be there, each attribute equal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from enphase_local.features import (
    FEATURES,
    Feature,
    Instance,
    Kind,
    Readings,
    Scope,
    Source,
    instances,
)
from enphase_local.service.hass_entities import LEGACY_ITEM_KEYS, LEGACY_KEYS
from enphase_local.service.mqtt_payloads import option

__all__ = [
    "DEVICE_DISCOVERY",
    "Expected",
    "attribute_problems",
    "expected_instances",
    "match",
    "value_problem",
]

DEVICE_DISCOVERY = True
"""True once the MQTT sink's discovery is generated from the feature table (issue 25 item 2)."""

LEGACY: Mapping[str, str] = {
    **LEGACY_KEYS,
    **{fid: component for fid, (component, _key) in LEGACY_ITEM_KEYS.items() if component},
}
"""Feature id -> the object id the per-entity discovery gave it (``{key}``: the item): the
sink's own table of the names it keeps (`hass_entities`)."""

LEGACY_ABSENT = frozenset({"live_generator_power"})
"""Instances the per-entity discovery does not offer although the table has them (issue 25:
it never offers generator power, though the state document carries ``generator_w``)."""

LEGACY_MISMATCHES: frozenset[tuple[str, str]] = frozenset(
    {
        ("battery_unit_temperature", "entity_category"),  # diagnostic there, a plain sensor here
        ("inverter_energy_lifetime", "enabled_by_default"),  # enabled there, disabled here
    }
)
"""(feature id, attribute) where the per-entity discovery differs from the table today."""

LEGACY_UNRETAINED = frozenset({Scope.INVERTER})
"""Documents the per-entity discovery's sink does not retain (issue 25): a Home Assistant
that subscribes after they were sent shows ``unknown`` until the next report (5 minutes)."""

MQTT_PLATFORM = {Kind.TIME: "text"}
"""MQTT has no time platform: a time control is ``HH:MM`` text there."""

NOT_COMPARED = {"last_update", "data_age", "section_freshness", "token_days_left"}
"""Times and ages: each side reads them at its own moment, so no two agree to the second."""


@dataclass(frozen=True, slots=True)
class Expected:
    """One feature instance and the Home Assistant entity found for it (None: missing)."""

    inst: Instance
    entity: Mapping[str, Any] | None


def _object_ids(inst: Instance) -> set[str]:
    ids = {inst.uid}
    legacy = LEGACY.get(inst.feature.id)
    if legacy is not None:
        ids.add(legacy.format(key=inst.key))
    return {i.lower() for i in ids}


def expected_instances(readings: Readings, commands: Iterable[str] = ()) -> list[Instance]:
    """The instances the MQTT sink should offer for this site: all but the session's own,
    and the controls kept off by default only when `commands` enables them."""
    enabled = set(commands)

    def offered(f: Feature) -> bool:
        return not f.writable or f.enabled_by_default or f.id in enabled

    found = instances(FEATURES, readings)
    return [i for i in found if i.feature.source is not Source.SESSION and offered(i.feature)]


def match(
    serial: str, insts: Iterable[Instance], registry: Iterable[Mapping[str, Any]]
) -> list[Expected]:
    """Each instance with the MQTT entity whose unique id names it (or None)."""
    by_uid = {str(e["unique_id"]).lower(): e for e in registry if e.get("platform") == "mqtt"}
    prefixes = (f"enphase_{serial}_".lower(), f"{serial}_".lower())
    out = []
    for inst in insts:
        found = [by_uid[p + o] for o in _object_ids(inst) for p in prefixes if p + o in by_uid]
        out.append(Expected(inst, found[0] if found else None))
    return out


def required(found: Expected) -> bool:
    """Whether this instance must be on MQTT with the discovery under test."""
    if DEVICE_DISCOVERY or found.entity is not None:
        return True
    return found.inst.feature.id in LEGACY and found.inst.feature.id not in LEGACY_ABSENT


def attribute_problems(found: Expected, state: Mapping[str, Any] | None) -> list[str]:
    """How the entity differs from its feature: component, unit, classes, category, enabled."""
    f, entity = found.inst.feature, found.entity
    assert entity is not None
    uid = found.inst.uid
    problems = []
    domain = str(entity["entity_id"]).split(".")[0]
    platform = MQTT_PLATFORM.get(f.kind, f.kind.value)
    if domain != platform:
        problems.append(f"{uid}: component {domain}, the table says {platform}")
    category = f.category.value if f.category is not None else None
    checks: list[tuple[str, Any, Any]] = [
        ("entity_category", entity.get("entity_category"), category)
    ]
    disabled = entity.get("disabled_by") is not None
    checks.append(("enabled_by_default", not disabled, f.enabled_by_default))
    if state is not None and f.kind in (Kind.SENSOR, Kind.NUMBER, Kind.BINARY_SENSOR):
        attrs = state["attributes"]
        checks.append(("unit", attrs.get("unit_of_measurement"), f.unit))
        if f.kind is not Kind.NUMBER:
            checks.append(("device_class", attrs.get("device_class"), f.device_class))
        if f.kind is Kind.SENSOR:
            checks.append(("state_class", attrs.get("state_class"), f.state_class))
    for name, got, want in checks:
        if got != want and (DEVICE_DISCOVERY or (f.id, name) not in LEGACY_MISMATCHES):
            problems.append(f"{uid}: {name} {got!r}, the table says {want!r}")
    return problems


POWER_TOLERANCE_W = 1.0
"""Absolute tolerance for every number: the documents round to 0.1; a live frame and the
snapshot's balanced flow of the same frozen simulator differ by rounding only."""


def value_problem(found: Expected, readings: Readings, state: str) -> str | None:
    """Why Home Assistant's state is not the table's value now (None: it is)."""
    f = found.inst.feature
    if f.id in NOT_COMPARED:
        return None
    value = found.inst.value(readings)
    uid = found.inst.uid
    if state == "unknown" and not DEVICE_DISCOVERY and f.scope in LEGACY_UNRETAINED:
        return None
    if f.device_class == "timestamp":  # a time each side reads at its own moment: its form
        try:
            shown_at: datetime | None = datetime.fromisoformat(state)
        except ValueError:  # unknown, unavailable (not yet): a problem, asked again
            shown_at = None
        ok = value is None or (shown_at is not None and shown_at.tzinfo is not None)
        return None if ok else f"{uid}: {state!r} is not an ISO 8601 time"
    if f.kind is Kind.SELECT and isinstance(value, str):  # as MQTT shows it ("none": "(none)")
        return None if state == option(value) else f"{uid}: {state!r}, the simulator {value!r}"
    if (
        f.kind in (Kind.SENSOR, Kind.NUMBER)
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        try:
            shown = float(state)
        except ValueError:
            return f"{uid}: {state!r}, the simulator {value}"
        if not math.isclose(shown, float(value), abs_tol=POWER_TOLERANCE_W):
            return f"{uid}: {shown}, the simulator {value}"
        return None
    if f.kind in (Kind.SWITCH, Kind.BINARY_SENSOR) and isinstance(value, bool):
        want = "on" if value else "off"
        return None if state == want else f"{uid}: {state!r}, the simulator {want}"
    if f.kind is Kind.SELECT or (f.kind is Kind.SENSOR and isinstance(value, str)):
        return None if state == str(value) else f"{uid}: {state!r}, the simulator {value!r}"
    return None

"""The feature table: every value and control of a gateway, declared once.

    from enphase_local.features import FEATURES, Readings, instances
    readings = Readings(snapshot)
    for inst in instances(FEATURES, readings):
        print(inst.uid, inst.value(readings))

Home Assistant (the native integration, and later MQTT discovery), Prometheus,
the dashboard and the CLI tables are generated from it, so they cannot
disagree about what exists, what it is called or what its value is.

`FEATURES` is the table: site readings (`sensors`, then the export limit's
state), per-device readings (`devices`, `meters`, `equipment`), then the
controls (`controls`, then the export limit's). The order is the order entities,
metrics and table rows appear in. Ids are stable: renaming one renames an
entity in every user's Home Assistant.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .controls import CONTROLS
from .devices import DEVICE_FEATURES
from .export_limit import EXPORT_LIMIT_CONTROLS, EXPORT_LIMIT_SENSORS
from .model import Category, Feature, Instance, Kind, Readings, Scope, Source, instances, scope_keys
from .sensors import SITE_SENSORS

__all__ = [
    "FEATURES",
    "Category",
    "Feature",
    "Instance",
    "Kind",
    "Readings",
    "Scope",
    "Source",
    "by_id",
    "instances",
    "scope_keys",
]

FEATURES: tuple[Feature, ...] = (
    *SITE_SENSORS,
    *EXPORT_LIMIT_SENSORS,
    *DEVICE_FEATURES,
    *CONTROLS,
    *EXPORT_LIMIT_CONTROLS,
)

_BY_ID: Mapping[str, Feature] = MappingProxyType({f.id: f for f in FEATURES})


def by_id(feature_id: str) -> Feature:
    """One feature by its id (KeyError for an unknown id)."""
    return _BY_ID[feature_id]

"""The feature table: every value and control of a gateway, declared once.

    from enphase_local.features import FEATURES, Readings, instances
    for inst in instances(FEATURES, Readings(snapshot)):
        print(inst.uid, inst.value(Readings(snapshot)))

Home Assistant (the native integration, and later MQTT discovery), Prometheus,
the dashboard and the CLI tables are generated from it, so they cannot
disagree about what exists, what it is called or what its value is.
"""

from __future__ import annotations

from .model import Category, Feature, Instance, Kind, Readings, Scope, Source, instances, scope_keys
from .table import FEATURES, by_id

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

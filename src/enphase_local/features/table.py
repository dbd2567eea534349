"""FEATURES: every value and control, in one table, by id.

The order is the order entities, metrics and table rows appear in. Ids are
stable: renaming one renames an entity in every user's Home Assistant.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .controls import CONTROLS
from .devices import DEVICE_FEATURES
from .model import Feature
from .sensors import SITE_SENSORS

__all__ = ["FEATURES", "by_id"]

FEATURES: tuple[Feature, ...] = (*SITE_SENSORS, *DEVICE_FEATURES, *CONTROLS)

_BY_ID: Mapping[str, Feature] = MappingProxyType({f.id: f for f in FEATURES})


def by_id(feature_id: str) -> Feature:
    """One feature by its id (KeyError for an unknown id)."""
    return _BY_ID[feature_id]

"""Value paths: how a feature names where its value lives, without computing it again.

A path is attribute names from the snapshot (``"production.wh_lifetime"``);
an item path starts at one item of a keyed section (``snapshot.inverters[key]``).
A path that ends early (a section the site lacks, or an attribute an older
model does not have yet, like ``energy`` before it lands) reads as None, so
the feature simply does not exist there.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from functools import cache
from typing import Any

from .model import Getter, Readings

__all__ = ["at", "item", "live", "live_phase", "plain", "snap"]

_MISSING = object()


@cache
def _names(path: str) -> tuple[str, ...]:
    """A path's steps, split once: the table's paths are few and read on every snapshot."""
    return tuple(path.split("."))


def at(root: Any, path: str) -> Any:
    """Follow a dotted attribute path from `root`; None when any step is missing."""
    value = root
    for name in _names(path):
        if value is None:
            return None
        value = getattr(value, name, _MISSING)
        if value is _MISSING:
            return None
    return plain(value)


def plain(value: Any) -> Any:
    """Enums as their wire value: what a select, a sensor of options or a document shows."""
    return value.value if isinstance(value, Enum) else value


def snap(path: str) -> Getter:
    """A value of the snapshot, by path."""
    return lambda r, _key: at(r.snapshot, path)


def item(section: str, path: str) -> Getter:
    """A value of one item of a keyed snapshot section (``inverters``, ``meters`` ...)."""

    def get(r: Readings, key: str) -> Any:
        items = at(r.snapshot, section)
        if not isinstance(items, Mapping) or key not in items:
            return None
        return at(items[key], path)

    return get


def live(attr: str) -> Getter:
    """A flow of the newest live frame (else of the snapshot's balanced power flow)."""
    return lambda r, _key: at(r.live, attr)


def live_phase(attr: str) -> Getter:
    """A flow on one phase of the newest live frame."""

    def get(r: Readings, key: str) -> Any:
        frame = r.live
        if frame is None or key not in frame.phases:
            return None
        return at(frame.phases[key], attr)

    return get

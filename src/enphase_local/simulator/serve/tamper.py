"""Data faults: well-formed 200 answers whose *content* is wrong, as real firmware sends them.

Why apart from the transport faults (`faults`): a dropped connection or a 503
is easy to notice; a body that parses and is wrong is what corrupts a user's
history. Each fault here reproduces one seen in the field (gateway.md
sections 5 and 6), on the JSON the backend produced, so it works the same
on a modelled site and on a replayed capture:

- ``zero``: every power and counter 0 (ids, times and counts kept), as the
  first answers after a restart;
- ``eim-inactive`` (5.3.5528, 8.3.5528): the production `eim` entry of
  production.json says `activeCount: 0` and its values are garbage for that
  one read, while the CT readings of the same moment are healthy;
- ``storage-ct-half`` (8.3.6000+): a split-phase storage CT reads phase B all
  zero and its totals drop to phase A's values.

A queued fault is consumed by the next answer of an endpoint it can spoil,
per endpoint: one ``zero`` spoils the next production.json *and* the next
readings.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from typing import Any, Literal

import orjson

__all__ = ["DATA_PATHS", "DataFault", "DataFaultQueue", "tamper"]

DataFault = Literal["zero", "eim-inactive", "storage-ct-half"]

# The endpoints each data fault can spoil (the only ones that consume it).
DATA_PATHS: dict[DataFault, tuple[str, ...]] = {
    "zero": (
        "/production.json",
        "/production",
        "/api/v1/production",
        "/api/v1/production/inverters",
        "/ivp/meters/readings",
        "/ivp/meters/reports",
    ),
    "eim-inactive": ("/production.json", "/production"),
    "storage-ct-half": ("/ivp/meters/readings",),
}

# Identity, time and count fields: a zero answer keeps them (they are not measurements).
_KEEP = frozenset(
    {
        "eid",
        "timestamp",
        "readingTime",
        "createdAt",
        "lastReportDate",
        "activeCount",
        "type",
        "measurementType",
        "reportType",
        "serialNumber",
        "devType",
    }
)


class DataFaultQueue:
    """How many answers of each endpoint each data fault still spoils."""

    __slots__ = ("_left",)

    def __init__(self) -> None:
        self._left: dict[tuple[DataFault, str], int] = {}

    def add(self, kind: DataFault, n: int = 1, path: str | None = None) -> None:
        """Spoil the next `n` answers of every endpoint `kind` applies to (or only `path`)."""
        if n < 1:
            raise ValueError("the number of answers must be at least 1")
        paths = DATA_PATHS[kind]
        if path is not None and path not in paths:
            raise ValueError(f"{kind} spoils only {', '.join(paths)}")
        for p in (path,) if path is not None else paths:
            self._left[kind, p] = self._left.get((kind, p), 0) + n

    def take(self, path: str) -> DataFault | None:
        """The data fault for this answer to `path`, consumed (at most one per answer)."""
        for kind in DATA_PATHS:
            left = self._left.get((kind, path), 0)
            if left > 0:
                if left == 1:
                    del self._left[kind, path]
                else:
                    self._left[kind, path] = left - 1
                return kind
        return None

    def __bool__(self) -> bool:
        return bool(self._left)

    def to_list(self) -> list[dict[str, Any]]:
        return [
            {"kind": kind, "path": path, "remaining": left}
            for (kind, path), left in self._left.items()
        ]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def zeroed(doc: Any) -> Any:
    """`doc` with every measurement 0 (same int/float type); ids, times, counts kept."""
    if isinstance(doc, dict):
        return {k: v if k in _KEEP else zeroed(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [zeroed(v) for v in doc]
    if _number(doc):
        return type(doc)(0)
    return doc


def _garbage(doc: Any, rng: random.Random) -> Any:
    if isinstance(doc, dict):
        return {k: v if k in _KEEP else _garbage(v, rng) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_garbage(v, rng) for v in doc]
    if _number(doc):
        return round(rng.uniform(-1.0, 1.0) * 10 ** rng.randint(0, 4), 3)
    return doc


def eim_inactive(doc: Any, rng: random.Random) -> Any:
    """production.json with its production `eim` entry inactive and full of garbage."""
    if not isinstance(doc, dict) or not isinstance(doc.get("production"), list):
        return doc
    entries = [
        {**_garbage(entry, rng), "activeCount": 0}
        if isinstance(entry, dict) and entry.get("type") == "eim"
        else entry
        for entry in doc["production"]
    ]
    return {**doc, "production": entries}


def storage_ct_half(doc: Any, storage_eids: Collection[int]) -> Any:
    """Readings where each storage CT lost phase B and reports phase A as its total."""
    if not isinstance(doc, list):
        return doc
    return [_half(entry) if _is_split(entry, storage_eids) else entry for entry in doc]


def _is_split(entry: Any, storage_eids: Collection[int]) -> bool:
    chans = entry.get("channels") if isinstance(entry, dict) else None
    return entry.get("eid") in storage_eids and isinstance(chans, list) and len(chans) >= 2


def _half(entry: dict[str, Any]) -> dict[str, Any]:
    chans = entry["channels"]
    first = chans[0]
    totals = {k: first[k] for k, v in entry.items() if k not in _KEEP and _number(v) and k in first}
    return {**entry, **totals, "channels": [first, zeroed(chans[1]), *chans[2:]]}


def tamper(
    kind: DataFault, body: bytes, *, rng: random.Random, storage_eids: Collection[int] = ()
) -> bytes | None:
    """The spoiled body, or None when `body` is not JSON (HTML pages stay as they are)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if kind == "zero":
        doc = zeroed(doc)
    elif kind == "eim-inactive":
        doc = eim_inactive(doc, rng)
    else:
        doc = storage_ct_half(doc, storage_eids)
    return orjson.dumps(doc)

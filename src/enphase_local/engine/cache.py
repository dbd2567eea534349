"""`SourceCache`: what each source last said, when, and what went wrong since.

One home for the client's state about data, so that the snapshot can be
built (and tested) from a cache alone, without sockets: per source key the
last parsed value, the time it was read and the latest error; which source
currently serves production; the CT counters at the last production read
(the carry-forward baseline); and the counter guards that keep lifetime and
daily counters honest across updates.

A failed read records an error but keeps the last value: a section is then
stale (its freshness says since when), never missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models.production import ProductionReport
from ..sources.keys import SourceKey
from .counters import CounterGuard
from .flows import CtBaseline
from .production import as_report

__all__ = ["SourceCache"]


@dataclass(slots=True)
class SourceCache:
    """Per source key: value, read time and error; plus production's source and guards."""

    values: dict[SourceKey, Any] = field(default_factory=dict)
    read_at: dict[SourceKey, float] = field(default_factory=dict)
    errors: dict[SourceKey, str] = field(default_factory=dict)
    production_key: SourceKey | None = None
    baseline: CtBaseline = field(default_factory=CtBaseline)
    guards: dict[str, CounterGuard] = field(default_factory=dict)

    def put(self, key: SourceKey, value: Any, now: float) -> None:
        """A successful read: the new value, read `now`; its error, if any, is over."""
        self.values[key] = value
        self.read_at[key] = now
        self.errors.pop(key, None)

    def fail(self, key: SourceKey, message: str) -> None:
        """A failed read: the last value stays, the error is remembered until a success."""
        self.errors[key] = message

    def get(self, key: SourceKey | None) -> Any:
        """The last value read from `key` (None if never read)."""
        return None if key is None else self.values.get(key)

    def production(self) -> ProductionReport | None:
        """The last report of whichever source serves production now."""
        return as_report(self.get(self.production_key))

    def guard(self, flow: str) -> CounterGuard:
        """The counter guard of one flow, created on first use."""
        guard = self.guards.get(flow)
        if guard is None:
            guard = self.guards[flow] = CounterGuard(flow)
        return guard

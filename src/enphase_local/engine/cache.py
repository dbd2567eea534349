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

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from ..models.meters import CtType
from ..models.production import ProductionReport
from ..sources.keys import SourceKey
from ..sources.registry import Source
from ..sources.table import METERS, METERS_READINGS
from .counters import (
    CONFIRM_READINGS,
    CONFIRM_S,
    CounterGuard,
    ct_lifetime_drop,
    meter_counters_drop,
)
from .diagnosis import CtReversalWatch
from .flows import CtBaseline, ct_counters
from .joins import compose_meters
from .probe import enabled_cts
from .production import as_report
from .quirks import eim_went_inactive
from .schedule import newest_report

__all__ = ["SourceCache"]

T = TypeVar("T")


class SectionMemo:
    """The last value of each section, with the objects it was composed from."""

    __slots__ = ("_kept",)

    def __init__(self) -> None:
        self._kept: dict[str, tuple[tuple[object, ...], object]] = {}

    def get(self, name: str, inputs: tuple[object, ...], build: Callable[[], T]) -> T:
        """`build()`, unless `inputs` are the same objects as last time: then its last value."""
        kept = self._kept.get(name)
        if kept is not None:
            before, value = kept
            if len(before) == len(inputs) and all(map(operator.is_, before, inputs)):
                return cast("T", value)
        value = build()
        self._kept[name] = (inputs, value)
        return value


@dataclass(slots=True)
class SourceCache:
    """Per source key: value, read time and error; plus production's source and guards."""

    # Filled by `put` with what `SOURCES[key].parse` returned: `get` relies on it.
    values: dict[SourceKey, object] = field(default_factory=dict)
    read_at: dict[SourceKey, float] = field(default_factory=dict)
    errors: dict[SourceKey, str] = field(default_factory=dict)
    production_key: SourceKey | None = None
    # The best production source the probe found, and why production is served by
    # another one for now (demoted after repeated failures; promoted back when it heals).
    preferred_production: SourceKey | None = None
    demoted_because: str | None = None
    # production.json, late at start-up: read after the first snapshot (engine.production)
    awaited_production: SourceKey | None = None
    baseline: CtBaseline = field(default_factory=CtBaseline)
    guards: dict[str, CounterGuard] = field(default_factory=dict)
    notes: dict[SourceKey, str] = field(default_factory=dict)  # answers set aside, as warnings
    set_aside_since: dict[SourceKey, tuple[float, int]] = field(default_factory=dict)
    ct_watch: CtReversalWatch = field(default_factory=CtReversalWatch)  # CTs read backwards
    sections: SectionMemo = field(default_factory=SectionMemo)  # composed, kept while unchanged

    def put(self, key: SourceKey, value: object, now: float) -> None:
        """A successful read: the new value, read `now`; its error, if any, is over."""
        self.values[key] = value
        self.read_at[key] = now
        self.errors.pop(key, None)
        self.notes.pop(key, None)

    def fail(self, key: SourceKey, message: str) -> None:
        """A failed read: the last value stays, the error is remembered until a success."""
        self.errors[key] = message

    def get(self, source: Source[T], /) -> T | None:
        """The last value `source` answered, typed by its parser (None if never read).

        The cast is sound: `values[key]` only ever holds what ``SOURCES[key].parse``
        returned (the client puts nothing else), and `source` is that table's entry.
        """
        return cast("T | None", self.values.get(source.key))

    def value(self, key: SourceKey | None) -> object:
        """The last value of a source known only by key at run time (None if never read)."""
        return None if key is None else self.values.get(key)

    def __contains__(self, key: object) -> bool:
        """Whether the source of `key` ever answered (its value may be None: ``gen_config``)."""
        return key in self.values

    def production(self) -> ProductionReport | None:
        """The last report of whichever source serves production now."""
        return as_report(self.value(self.production_key))

    def guard(self, flow: str) -> CounterGuard:
        """The counter guard of one flow, created on first use."""
        guard = self.guards.get(flow)
        if guard is None:
            guard = self.guards[flow] = CounterGuard(flow)
        return guard

    def settle_preferred(self, chain: Sequence[SourceKey], found: SourceKey | None) -> None:
        """After a probe: the preferred production source is the best that ever answered.

        `found` is the first source of `chain` that answered this probe. A
        re-probe (a firmware change, a source that came back) while a better
        source is demoted must not forget that source: it stays preferred and
        keeps being asked, so it is promoted back when it answers well.
        """
        previous = self.preferred_production
        if (
            previous is not None
            and previous in chain
            and found in chain
            and chain.index(previous) < chain.index(found)
            and previous in self.read_at
        ):
            self.demoted_because = self.demoted_because or f"{previous.value} did not answer"
            return
        self.preferred_production, self.demoted_because = self.production_key, None

    def anchor_baseline(self, *, read_at: float | None = None) -> None:
        """Remember the CT counters as production was read (the carry-forward baseline).

        `read_at`: only if the production source in use was read then (an update's time).
        """
        key = self.production_key
        if read_at is not None and (key is None or self.read_at.get(key) != read_at):
            return
        meters = compose_meters(self.get(METERS), self.get(METERS_READINGS))
        self.baseline = CtBaseline(ct_counters(meters)[0])

    def report_time(self, key: SourceKey) -> float | None:
        """The newest microinverter report time in `key`'s value (see schedule.newest_report)."""
        return newest_report(key, self.value(key), self.production_key)

    def set_aside(self, key: SourceKey, value: object, now: float) -> str | None:
        """Why a good-looking answer must not replace the last one (None: take it).

        Guards that judge a new answer against the previous one live here: the
        5.3.5528 / 8.3.5528 inactive eim entry (engine.quirks), and CT counters
        that went back (a restart's all-zero answer). The caller asks again
        soon. An answer that keeps being set aside for `CONFIRM_S` and
        `2 x CONFIRM_READINGS` reads is a new truth (a replaced meter): taken,
        and the counter guards report the step.
        """
        why = self._suspicious(key, value)
        if why is None:
            self.set_aside_since.pop(key, None)
            return None
        first, count = self.set_aside_since.get(key, (now, 0))
        if count + 1 >= 2 * CONFIRM_READINGS and now - first >= CONFIRM_S:
            self.set_aside_since.pop(key, None)
            return None
        self.set_aside_since[key] = (first, count + 1)
        return why

    def _suspicious(self, key: SourceKey, value: object) -> str | None:
        if key == SourceKey.METERS_READINGS and isinstance(value, tuple):  # parse_meter_readings
            configs = self.get(METERS) or ()
            storage = {c.eid for c in configs if c.measurement_type is CtType.STORAGE}
            return meter_counters_drop(self.get(METERS_READINGS), value, storage)
        new = as_report(value)
        if new is None or key not in (self.production_key, self.preferred_production):
            return None
        old = as_report(self.value(key))
        cts = enabled_cts(self.get(METERS))
        return eim_went_inactive(old, new, cts) or ct_lifetime_drop(
            old.production if old else None, new.production, "production"
        )

"""How fresh each snapshot section is, and what went wrong with it: the sections' sources.

Each snapshot section is fed by one or more sources (`SECTIONS`). A section
is fresh as of the snapshot when each of its sources was read now or is not
yet due again by its cadence (its data cannot have changed); otherwise its
freshness is the last successful read of the lagging source. Its error is
the latest failure of any of them. Apart from `engine.snapshot`, which
composes the sections' values: this module only says how current they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..sources.keys import SourceKey
from ..sources.table import SOURCES
from .cache import SourceCache
from .rhythm import SAMPLED
from .schedule import Schedule

__all__ = [
    "PRODUCTION_SOURCE",
    "SECTIONS",
    "current_as_of",
    "freshness_and_errors",
    "not_asked",
]

PRODUCTION_SOURCE = None  # in SECTIONS: whichever source serves production now

_SECTIONS: dict[str, tuple[SourceKey | None, ...]] = {
    "production": (PRODUCTION_SOURCE, SourceKey.METERS_READINGS),
    "meters": (SourceKey.METERS, SourceKey.METERS_READINGS),
    "inverters": (SourceKey.DEVICE_DATA, SourceKey.INVERTERS_V1),
    "battery": (
        SourceKey.ENSEMBLE_INVENTORY,
        SourceKey.ENSEMBLE_POWER,
        SourceKey.ENSEMBLE_SECCTRL,
    ),
    "acb": (PRODUCTION_SOURCE, SourceKey.INVENTORY),
    "enpower": (SourceKey.ENSEMBLE_INVENTORY,),
    "collar": (SourceKey.ENSEMBLE_INVENTORY,),
    "c6cc": (SourceKey.ENSEMBLE_INVENTORY,),
    "generator": (
        SourceKey.GENERATOR,
        SourceKey.GEN_CONFIG,
        SourceKey.GEN_MODE,
        SourceKey.GEN_SCHEDULE,
    ),
    "dry_contacts": (SourceKey.DRY_CONTACTS, SourceKey.DRY_CONTACT_SETTINGS),
    "tariff": (SourceKey.TARIFF,),
    "battery_settings": (SourceKey.TARIFF, SourceKey.ENSEMBLE_SECCTRL),  # and sc_sched, unmarked
    "live": (SourceKey.LIVEDATA,),
    "power_export_limit": (SourceKey.PEL_SETTINGS,),
    "export_limit": (),  # its sources name it (Source.section): dpel, production_power
    "gateway": (SourceKey.INFO,),
    "network": (SourceKey.HOME,),
}


def _with_described(sections: dict[str, tuple[SourceKey | None, ...]]) -> None:
    """Add each source that names its section (`Source.section`) to that section."""
    for source in SOURCES.values():
        if source.section is not None and source.key not in sections[source.section]:
            sections[source.section] += (source.key,)


_with_described(_SECTIONS)
SECTIONS: Mapping[str, tuple[SourceKey | None, ...]] = _SECTIONS


def not_asked(
    sections: Iterable[str] | None,
    plan: Iterable[SourceKey],
    production: Iterable[SourceKey | None],
) -> frozenset[SourceKey]:
    """The planned sources an update limited to `sections` leaves alone (None: none).

    The `production` sources (in use, preferred) are always asked: a snapshot
    has no meaning without production. ValueError names an unknown section.
    """
    if sections is None:
        return frozenset()
    wanted = {"production", *sections}
    unknown = sorted(wanted - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown snapshot section(s) {unknown}: choose from {sorted(SECTIONS)}")
    keys = {key for name in wanted for key in SECTIONS[name]} | set(production)
    return frozenset(key for key in plan if key not in keys)


def current_as_of(
    cache: SourceCache,
    schedule: Schedule,
    plan: Mapping[SourceKey, float],
    key: SourceKey,
    now: float,
) -> float | None:
    """Up to when `key`'s data is known current.

    `now` while its cadence says it cannot have changed (or it was read now),
    else the time of its last successful read; None if never read.
    """
    fetched = cache.read_at.get(key)
    if fetched is None:
        return None
    if fetched >= now:
        return now
    if key in SAMPLED:
        return fetched  # read less often than it changes (engine.rhythm)
    failed = schedule.state(key).failed_at
    if failed is not None and failed > fetched:
        return fetched  # asked since and failed: what we hold is as old as its read
    if key in plan and schedule.next_due(SOURCES[key]) > now:
        return now
    return fetched


def _data_time(key: SourceKey, value: object, fresh: float | None) -> float | None:
    """`fresh`, or earlier when the data says it is older than our read of it.

    ``/ivp/livedata/status`` keeps showing the last figures the live stream
    produced, with their `last_update`, long after the stream stopped: the
    data is as old as that, however recently we asked for it.
    """
    if fresh is None or key is not SourceKey.LIVEDATA or value is None:
        return fresh
    own = getattr(value, "last_update", None)
    return min(fresh, float(own)) if own else fresh


def freshness_and_errors(
    cache: SourceCache, schedule: Schedule, plan: Mapping[SourceKey, float], now: float
) -> tuple[dict[str, float], dict[str, str]]:
    """Each section's freshness (the oldest of its sources') and errors (all of theirs).

    Each source is judged once, however many sections it feeds.
    """

    def counted_time(key: SourceKey) -> float | None:
        """`key`'s data time if it counts for its sections' freshness (planned, holding data)."""
        value = cache.value(key)
        if value is None or (key not in plan and key != cache.production_key):
            return None  # no data, or never re-read: it says nothing of how fresh a section is
        return _data_time(key, value, current_as_of(cache, schedule, plan, key, now))

    judged: dict[SourceKey, float | None] = {}
    freshness: dict[str, float] = {}
    errors: dict[str, str] = {}
    production_key = cache.production_key
    for section, keys in SECTIONS.items():
        times: list[float] = []
        problems: list[str] = []
        for maybe in keys:
            key = production_key if maybe is PRODUCTION_SOURCE else maybe
            if key is None:
                continue
            if key in judged:
                fresh = judged[key]
            else:
                fresh = judged[key] = counted_time(key)
            if fresh is not None:
                times.append(fresh)
            problem = cache.errors.get(key)
            if problem is not None:
                problems.append(problem)
        if times:
            freshness[section] = min(times)
        if problems:
            errors[section] = "; ".join(problems)
    return freshness, errors

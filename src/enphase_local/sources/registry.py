"""The table of every endpoint the client reads: path, parser, role, cadence, speed.

One place answers "what can we ask a gateway, who may ask it, and how often
is it worth asking". The client's probe, its update scheduler, the CLI's
``dump`` command, the simulator's request log checks and the benchmarks all
iterate over `SOURCES`.

Each endpoint family module (``sources/<family>.py``) defines its `Source`
objects next to its parsers; this module only collects them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from .keys import SourceKey

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Cadence",
    "Readings",
    "Role",
    "Source",
    "Speed",
    "device_list_cap",
]

T = TypeVar("T")

MIB = 1024 * 1024
# The largest answer read from an endpoint unless its source says otherwise:
# real answers are under 50 KB, so this leaves room while a hostile or broken
# server cannot make us hold hundreds of megabytes (net.bounded).
DEFAULT_MAX_BYTES = 4 * MIB
# An IQ Gateway manages up to 600 microinverters; removed ones may stay listed.
MAX_DEVICES = 1000


def device_list_cap(bytes_per_device: int) -> int:
    """The cap of an endpoint listing every device: the default plus the largest site's list."""
    return DEFAULT_MAX_BYTES + MAX_DEVICES * bytes_per_device


class Role(enum.StrEnum):
    """Who may read an endpoint."""

    PUBLIC = "public"  # no auth at all (/info, /home on most firmware)
    OWNER = "owner"  # owner token, or digest user `envoy` before firmware 7
    INSTALLER = "installer"  # installer token or digest user `installer`: owners get 401


class Cadence(enum.Enum):
    """How often the data of an endpoint can change, in seconds.

    LIVE data (CT meters, live power) changes continuously and is read on
    every update. REPORT data follows the microinverters' 5-minute report
    rhythm. CONFIG data (inventory, tariff, settings, meter configuration)
    changes when someone changes it. IDENTITY (firmware, network) changes
    rarely; it is re-read every few hours and after surprises.
    """

    LIVE = 0
    REPORT = 300
    CONFIG = 600
    IDENTITY = 4 * 3600

    @property
    def seconds(self) -> int:
        return int(self.value)


class Speed(enum.Enum):
    """How long the gateway may take to answer: picks the request timeout."""

    FAST = "fast"  # /ivp/* answer in well under a second
    SLOW = "slow"  # production.json, /home, /inventory.json: tens of seconds on some firmware


@dataclass(frozen=True, slots=True)
class Source(Generic[T]):
    """One endpoint the client can read, and the typed key of its model.

    A `Source[T]` is also how its value is asked for: ``cache.get(TARIFF)`` is a
    ``Tariff | None`` and ``await envoy.read(TARIFF)`` a ``Tariff``, proved by
    mypy rather than trusted (the parser's return type is `T`). `key` is a
    stable short name used in logs, the request economy stats and the
    snapshot's `errors` map. `parse` is pure: ``bytes -> model``, raising
    only `EnvoyParseError`. `max_bytes` bounds the answer read (larger
    answers are refused unread, see `net.bounded`).
    """

    key: SourceKey
    path: str
    parse: Callable[[bytes], T]
    role: Role = Role.OWNER
    cadence: Cadence = Cadence.LIVE
    speed: Speed = Speed.FAST
    doc: str = ""
    max_bytes: int = DEFAULT_MAX_BYTES


class Readings(Protocol):
    """Parsed answers by typed key: `engine.cache.SourceCache` and anything shaped like it.

    The engine's decisions take this rather than a ``Mapping[SourceKey, Any]``,
    so that every value they read has its parser's type.
    """

    def get(self, source: Source[T], /) -> T | None:
        """The last value `source` answered (None if never read)."""
        ...

    def value(self, key: SourceKey | None, /) -> object:
        """The last value of a source known only by key at run time (None if never read)."""
        ...

    def __contains__(self, key: object, /) -> bool:
        """Whether the source of `key` ever answered (its value may be None: ``gen_config``)."""
        ...


def build_table(*sources: Source[Any]) -> Mapping[SourceKey, Source[Any]]:
    """Index sources by key, refusing duplicates (a typo would silently shadow one)."""
    table: dict[SourceKey, Source[Any]] = {}
    for source in sources:
        if source.key in table:
            raise ValueError(f"duplicate source key {source.key!r}")
        table[source.key] = source
    return table

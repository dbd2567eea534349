"""One descriptor per endpoint: path, parser, role, speed, period, probe rule, typed key.

One place answers "what can we ask a gateway, who may ask it, and how often
is it worth asking". The client's probe, its update scheduler, the CLI's
``dump`` command, the simulator's request log checks and the benchmarks all
iterate over `SOURCES` (`sources.table`, which finds every `Source`).

Each endpoint family module (``sources/<family>.py``) defines its `Source`
objects next to its parsers; a `Source[T]` is also the typed key its value is
read by (`Readings`, ``envoy.read``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from ..capabilities import Capability
from ..firmware import Firmware
from .keys import SourceKey

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Cadence",
    "ProbeRule",
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
class ProbeRule:
    """Where a described source is worth asking: the engine needs no code of its own for it.

    A source with a rule is never on the first snapshot's path: it is read
    once after it (`engine.rhythm`), then every `Source.period` while it
    answers; absent or forbidden, it leaves the plan until a re-probe.
    `needs`: the gateway shows at least one of these capabilities (empty:
    any gateway). `min_firmware`: the oldest firmware that has the endpoint
    (an unreadable version is asked: it answers 404 once at worst).
    """

    needs: frozenset[Capability] = frozenset()
    min_firmware: tuple[int, ...] = ()

    def applies(self, fw: Firmware, caps: frozenset[Capability]) -> bool:
        """Whether a gateway with `fw` and `caps` may have the endpoint."""
        if self.needs and not self.needs & caps:
            return False
        return not (self.min_firmware and fw.before(*self.min_firmware))


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

    The rest describes the endpoint to the engine, so that a read-only
    endpoint is added in its family module alone (docs/CONTRIBUTING.md,
    "Adding an endpoint"): `section` is the snapshot section whose freshness
    and errors it feeds; `capability` is granted when it answers
    (`engine.probe.derive`); `period` is the seconds between reads once it
    answered and `probe` where to ask it (`engine.rhythm`). Sources whose rhythm
    depends on what else the gateway has (production, CTs, batteries) leave
    `period` and `probe` None: `engine.rhythm.plan` and `engine.probe` decide.
    """

    key: SourceKey
    path: str
    parse: Callable[[bytes], T]
    role: Role = Role.OWNER
    cadence: Cadence = Cadence.LIVE
    speed: Speed = Speed.FAST
    doc: str = ""
    max_bytes: int = DEFAULT_MAX_BYTES
    section: str | None = None
    capability: Capability | None = None
    period: float | None = None
    probe: ProbeRule | None = None


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

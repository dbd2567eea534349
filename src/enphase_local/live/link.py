"""What the live reader needs of an `Envoy`, and what it tells `update()` back.

The reader is not given the `Envoy` itself (the client sits above this
layer): `LiveLink` carries the shared transport (so live polling and
`update()` queue on the same one-request-in-flight limit), the current
authenticator, the gateway's state through the few questions of
`LiveState` (what the probe found, the CT configuration, the battery's
last power; the reader hands what it reads back there), the injected clock
and sleep, and `LiveFeed`, through which `update()` learns which sources
the reader keeps fresh, so it does not ask the gateway for them again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ..engine.balance import Known
from ..net.exchange import Authenticator
from ..net.transport import Transport
from ..sources.keys import SourceKey
from ..sources.registry import Source

__all__ = ["SOURCE_NAMES", "LiveFeed", "LiveLink", "LiveOptions", "LiveState"]

T = TypeVar("T")

SOURCE_NAMES = ("livedata", "stream_meter", "meters_readings")


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """How `Envoy.live` reads.

    `interval`: seconds between frames (and between polls of a polled source).
    `sources`: the sources to try, best first (see `SOURCE_NAMES`); the default
    prefers livedata, then the meter stream, then polled CT readings.
    `stale_after`: a frame is stale when nothing fresh came for this long.
    `renew_every`: re-enable the livedata stream this often while listening
    (the gateway turns it off after about 15 minutes).
    `stall_reconnect`: reopen ``/stream/meter`` after this long without a frame
    (real stalls last up to 13 s).
    `backoff_cap`: the longest wait between reconnection attempts.
    `share_budget`: a polled source gives a tick back for every request
    someone else (`update()`, a write) made on the same gateway, skipping at
    most every other tick, so live polling plus updates stay near one request
    a second; the skipped tick repeats the last frame (it is not stale yet).
    `jitter`: spread each wait uniformly up to its exponential ceiling (full
    jitter, so many clients do not retry in step); False waits the ceiling.
    """

    interval: float = 1.0
    sources: tuple[str, ...] = SOURCE_NAMES
    stale_after: float = 5.0
    renew_every: float = 300.0
    stall_reconnect: float = 20.0
    backoff_cap: float = 60.0
    jitter: bool = True
    share_budget: bool = True

    def __post_init__(self) -> None:
        if not self.interval > 0:
            raise ValueError("interval must be a positive number of seconds")
        unknown = [s for s in self.sources if s not in SOURCE_NAMES]
        if unknown or not self.sources:
            raise ValueError(
                f"unknown live source(s) {unknown or '(none given)'}: choose from {SOURCE_NAMES}"
            )


@dataclass(slots=True)
class LiveFeed:
    """Which sources a running live reader keeps fresh, and when it last read each."""

    window_s: float = 0.0
    read_at: dict[SourceKey, float] = field(default_factory=dict)
    readers: int = 0

    def mark(self, key: SourceKey, now: float, interval: float) -> None:
        self.read_at[key] = now
        self.window_s = max(2.0 * interval, 2.0)

    def serves(self, key: SourceKey, now: float) -> bool:
        """True while a live reader runs and read `key` within two of its intervals."""
        at = self.read_at.get(key)
        return self.readers > 0 and at is not None and now - at <= self.window_s


class LiveState(Protocol):
    """What the live reader may ask of the gateway's state (`engine.state.GatewayState`)."""

    def get(self, source: Source[T], /) -> T | None:
        """The last value `source` answered (the CT configuration, say)."""
        ...

    def probed(self) -> bool:
        """Whether the probe said what the gateway has (else: connect first)."""
        ...

    def answers(self, key: SourceKey, /) -> bool:
        """The source answered with data when last asked."""
        ...

    def unasked(self, key: SourceKey, /) -> bool:
        """Left for after the first snapshot and not asked yet (livedata): worth a try."""
        ...

    def live_read(self, key: SourceKey, value: object, now: float, /) -> None:
        """Hand back what the reader read: `update()` finds it fresh."""
        ...

    def battery_now(self) -> tuple[Known | None, float | None]:
        """Battery power and SoC from the last update (for sources without a storage CT)."""
        ...


@dataclass(slots=True)
class LiveLink:
    """The Envoy's parts the live reader uses (see the module docstring)."""

    transport: Transport
    auth: Callable[[], Authenticator | None]
    state: LiveState
    feed: LiveFeed
    ready: Callable[[], Awaitable[Any]]  # connect and probe if not done (Envoy.update)
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    host: str = ""

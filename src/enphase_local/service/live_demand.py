"""Who is watching which gateway's live data, and following it only while someone is.

Why: live data is a request a second per gateway. A collector of a thousand
gateways that followed every one of them spent 73 % of a core on it (issue
31) while, most of the time, nobody looked. Each gateway has a live mode
(`config.LIVE_MODES`): ``on`` follows live for as long as it runs, ``off``
never does (one frame per snapshot), ``auto`` follows only while a dashboard
client watches it: `LiveDemand.watch` is held by each ``/events`` stream
for the gateway it shows (or every gateway, when it names none; a
``[[site]]`` shown watches the gateways summed into it, `sites`).

What does not count as watching, and why: a Prometheus scrape reads the
newest value every 15-60 s, so 1 Hz data between scrapes would be thrown
away; an MQTT subscriber cannot be seen from here (the broker does not tell
a publisher who subscribes), so gateways whose live power MQTT or Home
Assistant should get every second say ``live = true``.

`supervise` is one gateway's follower: it starts `follow` when live is
wanted and the gateway answers, and cancels it as soon as it is not wanted
any more. It waits on the gateway's `wake` event (set when a watcher comes
or goes, an update succeeds, or the stream ends), never on a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Protocol

from ..errors import EnvoyError

if TYPE_CHECKING:
    from ..client import Envoy
    from ..models.live_frame import LiveFrame

__all__ = ["LiveDemand", "follow", "supervise"]

Deliver = Callable[[str, "LiveFrame"], Awaitable[None]]


class GatewayState(Protocol):
    """What a follower reads and sets of one gateway (`collector.GatewayState`)."""

    name: str
    serial: str | None
    envoy: Envoy | None
    follows_live: bool
    live_failed: bool
    good_updates: int
    wake: asyncio.Event


_LOGGER = logging.getLogger("enphase_local.service")


class LiveDemand:
    """Counts the watchers of each gateway (by serial; None: every gateway)."""

    def __init__(self) -> None:
        self._counts: dict[str | None, int] = {}
        self._wakes: list[asyncio.Event] = []
        self.sites: dict[str, str] = {}  # gateway name -> the serial of its [[site]]

    def listen(self, wake: asyncio.Event) -> None:
        """`wake` is set whenever a watcher comes or goes."""
        self._wakes.append(wake)

    @contextlib.contextmanager
    def watch(self, serial: str | None) -> Iterator[None]:
        """Hold while a client watches `serial` (None: every gateway)."""
        self._counts[serial] = self._counts.get(serial, 0) + 1
        self._notify()
        try:
            yield
        finally:
            self._counts[serial] -= 1
            if not self._counts[serial]:
                del self._counts[serial]
            self._notify()

    def watched(self, serial: str | None) -> bool:
        """Is anyone watching this gateway now?"""
        return None in self._counts or (serial is not None and serial in self._counts)

    def wants(self, state: GatewayState) -> bool:
        """Is anyone watching this gateway, or the [[site]] it is summed into?"""
        site = self.sites.get(state.name)
        return self.watched(state.serial) or (site is not None and site in self._counts)

    @property
    def watchers(self) -> int:
        return sum(self._counts.values())

    def _notify(self) -> None:
        for wake in self._wakes:
            wake.set()


async def _until(wake: asyncio.Event, ready: Callable[[], bool]) -> None:
    while not ready():
        wake.clear()
        await wake.wait()


def _may_start(state: GatewayState, wanted: Callable[[], bool], after: int) -> bool:
    return wanted() and state.envoy is not None and state.good_updates > after


def _must_stop(state: GatewayState, wanted: Callable[[], bool], task: asyncio.Task[None]) -> bool:
    return task.done() or not wanted() or state.envoy is None


async def follow(state: GatewayState, deliver: Deliver) -> None:
    """Forward `Envoy.live()` frames to `deliver` until cancelled or the stream fails."""
    envoy = state.envoy
    if envoy is None or not hasattr(envoy, "live"):
        return
    try:
        async for frame in envoy.live():
            state.live_failed = False
            if state.serial is not None:
                await deliver(state.serial, frame)
    except EnvoyError as err:
        state.live_failed = True
        _LOGGER.info("%s: live data stopped (%s); snapshots go on", state.name, err)


async def supervise(state: GatewayState, wanted: Callable[[], bool], deliver: Deliver) -> None:
    """Follow live (`follow`) whenever it is `wanted()` and the gateway answers; until cancelled.

    A stream that ends on its own (an error) starts again after the next
    good update, as before: snapshots give the frames meanwhile.
    """
    resume_after = 0  # start once more than this many updates have succeeded
    while True:
        await _until(state.wake, partial(_may_start, state, wanted, resume_after))
        task = asyncio.create_task(follow(state, deliver), name=f"live {state.name}")
        task.add_done_callback(lambda _: state.wake.set())
        state.follows_live = True
        _LOGGER.debug("%s: following live data", state.name)
        try:
            await _until(state.wake, partial(_must_stop, state, wanted, task))
        finally:
            ended_alone = task.done()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            state.follows_live = False  # once no live request can be under way
        _LOGGER.debug("%s: live data no longer followed", state.name)
        if ended_alone:
            resume_after = state.good_updates

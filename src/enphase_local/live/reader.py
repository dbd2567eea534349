"""`live_frames`: the best live source the gateway allows, as balanced frames, until stopped.

Source choice (`LiveOptions.sources`, best first): livedata where the probe
found it (battery sites: the gateway's own balance, every flow);
``/stream/meter`` where it opens (installer-only on 7.x, owner on 8.3);
polled CT readings as the last resort. A source that refuses (401, 403,
404) is dropped for the rest of the run and the next one is tried; one
that fails (connection, timeout, 5xx, a broken stream) is retried with
jittered exponential backoff while the last frame is repeated, marked
stale, once per interval, so a display keeps ticking and shows the age.

A frame is stale when nothing fresh came for `LiveOptions.stale_after`
seconds; `taken_at` is when its data was last fresh.

Stopping: ``break`` out of ``async for`` (or cancel the task) and the
generator closes the stream and its reader task; use
``contextlib.aclosing(envoy.live())`` to have that happen at once rather
than when the generator is collected. Nothing the reader enabled is
disabled.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import AsyncIterator
from typing import Protocol

from ..engine.balance import from_meter_frame
from ..errors import EnvoyConnectionError, EnvoyFeatureUnavailable, EnvoyHTTPError, EnvoyParseError
from ..models.live_frame import LiveFrame
from ..models.meters import CtType
from ..net.backoff import backoff_delay
from ..net.reader import SourceRefused
from ..sources.keys import SourceKey
from ..sources.table import METERS
from .link import LiveLink, LiveOptions
from .poll import LivedataPoller, ReadingsPoller
from .stream import MeterStream

__all__ = ["available_sources", "live_frames"]

_LOGGER = logging.getLogger("enphase_local.live")

_MIN_PAUSE = 0.25  # of an interval: the shortest pause between polls
_STREAMED = (CtType.PRODUCTION, CtType.NET_CONSUMPTION, CtType.TOTAL_CONSUMPTION)
_FAILURES = (EnvoyConnectionError, EnvoyHTTPError, EnvoyParseError)


class _Poller(Protocol):
    name: str

    async def poll(self, now: float) -> tuple[LiveFrame, bool]: ...


def available_sources(link: LiveLink, options: LiveOptions) -> list[str]:
    """The sources worth trying on this gateway, best first, from what the probe found.

    livedata is not probed (engine/probe.deferred): while nobody has asked it
    yet it is tried, and a refusal moves on to the next source.
    """
    state = link.state
    metered = any(c.enabled and c.measurement_type in _STREAMED for c in state.get(METERS) or ())
    usable = {
        "livedata": state.answers(SourceKey.LIVEDATA) or state.unasked(SourceKey.LIVEDATA),
        "stream_meter": metered,
        "meters_readings": state.answers(SourceKey.METERS_READINGS),
    }
    return [name for name in options.sources if usable[name]]


class _Run:
    """The state of one `live_frames` run: last frame, freshness, failures."""

    def __init__(self, link: LiveLink, options: LiveOptions) -> None:
        self.link = link
        self.options = options
        self.last: LiveFrame | None = None
        self.fresh_at: float | None = None
        self.failures = 0
        self.rng = random.Random()

    def frame(self, frame: LiveFrame, fresh: bool, now: float) -> LiveFrame:
        if fresh or self.fresh_at is None:
            self.fresh_at = now if fresh else self.fresh_at
        fresh_at = self.fresh_at if self.fresh_at is not None else now
        stale = self.fresh_at is None or now - self.fresh_at > self.options.stale_after
        if frame.taken_at != fresh_at or frame.stale != stale:  # a fresh frame is already right
            frame = dataclasses.replace(frame, taken_at=fresh_at, stale=stale)
        self.last = frame
        return frame

    def repeat(self, now: float) -> LiveFrame | None:
        """The last frame again, stale once nothing fresh came for `stale_after`."""
        if self.last is None:
            return None
        stale = self.fresh_at is None or now - self.fresh_at > self.options.stale_after
        if self.last.stale != stale:
            self.last = dataclasses.replace(self.last, stale=stale)
        return self.last

    def backoff(self) -> float:
        """Seconds before the next try: exponential from one interval, capped, jittered."""
        opts = self.options
        attempt = self.failures - 1
        if not opts.jitter:
            return float(min(opts.backoff_cap, opts.interval * 2.0 ** min(attempt, 30)))
        delay = backoff_delay(attempt, base=opts.interval, cap=opts.backoff_cap, rng=self.rng)
        return max(delay, opts.interval)

    async def wait(self, until: float) -> AsyncIterator[LiveFrame]:
        """Sleep until `until`, repeating the last frame once per interval meanwhile."""
        link, step = self.link, self.options.interval
        while (now := link.clock()) < until:
            await link.sleep(min(step, until - now))
            again = self.repeat(link.clock())
            if again is not None and link.clock() < until:
                yield again

    async def polled(self, poller: _Poller) -> AsyncIterator[LiveFrame]:
        """Poll once per interval; on failures, back off. Ends only by `SourceRefused`.

        Polls keep to a fixed grid of ticks (see `_pause`); after a failure's
        backoff the grid starts again from the next poll.
        """
        link = self.link
        budget = _Budget(link, self.options.share_budget)
        due = link.clock()
        while True:
            started = link.clock()
            if budget.skip():
                again = self.repeat(started)
                if again is not None:
                    yield again
                due = await self._pause(due)
                continue
            try:
                frame, fresh = await poller.poll(started)
            except _FAILURES as err:
                budget.polled()
                self.failures += 1
                delay = self.backoff()
                _LOGGER.debug("live %s failed (%s): again in %.1f s", poller.name, err, delay)
                again = self.repeat(link.clock())
                if again is not None:
                    yield again
                async for repeat in self.wait(link.clock() + delay):
                    yield repeat
                due = link.clock()
                continue
            self.failures = 0
            budget.polled()
            yield self.frame(frame, fresh, started)
            due = await self._pause(due)

    async def _pause(self, due: float) -> float:
        """Sleep until the tick after `due` on a fixed grid; returns that tick.

        A grid, not "the interval less what this poll took": every sleep wakes
        a little late (on a busy event loop with 1,000 readers, tens of ms),
        and measured from the last poll that lateness added up, tick after
        tick: 1,000 gateways at 1 Hz got 0.905 frames a second. On the grid a
        late wake-up only delays its own poll. Time the poll or the consumer
        took comes off the pause too. The pause is never under a quarter
        interval of the injected sleep, so on a clock that runs faster than
        the sleep (an accelerated demo) the reader still paces itself instead
        of polling flat out; a whole interval or more behind, the grid starts
        again from now rather than polling back to back to catch up.
        """
        interval = self.options.interval
        now = self.link.clock()
        due += interval
        if now - due >= interval:
            due = now
        await self.link.sleep(max(due - now, interval * _MIN_PAUSE))
        return due

    async def streamed(self) -> AsyncIterator[LiveFrame]:
        """Read ``/stream/meter``; reconnect with backoff. Ends only by `SourceRefused`."""
        link, opts = self.link, self.options
        while True:
            stream = MeterStream(link, phase_count=_phase_count(link))
            try:
                await stream.open()
                opened_at = link.clock()
                while True:
                    got = await stream.next(opts.interval)
                    now = link.clock()
                    if got is not None:
                        self.failures = 0
                        battery, soc = link.state.battery_now()
                        frame = from_meter_frame(got, now, battery=battery, soc_percent=soc)
                        yield self.frame(frame, True, now)
                        continue
                    last = stream.received_at or opened_at
                    if now - last >= opts.stall_reconnect:
                        raise EnvoyConnectionError(
                            f"/stream/meter sent nothing for {now - last:.0f} s: reconnecting"
                        )
                    again = self.repeat(now)
                    if again is not None:
                        yield again
            except _FAILURES as err:
                self.failures += 1
                delay = self.backoff()
                _LOGGER.debug("live stream failed (%s): again in %.1f s", err, delay)
                await stream.close()
                async for repeat in self.wait(link.clock() + delay):
                    yield repeat
            finally:
                await stream.close()


class _Budget:
    """One live tick given back per request someone else made, at most every other tick."""

    def __init__(self, link: LiveLink, enabled: bool) -> None:
        self.stats = link.transport.stats
        self.enabled = enabled
        self.seen = self.stats.requests
        self.debt = 0
        self.skipped = False

    def skip(self) -> bool:
        if not self.enabled:
            return False
        now = self.stats.requests
        self.debt += now - self.seen
        self.seen = now
        if self.debt >= 1 and not self.skipped:
            self.debt -= 1
            self.skipped = True
            return True
        self.skipped = False
        return False

    def polled(self) -> None:
        """Our own requests are not debt."""
        self.seen = self.stats.requests


def _phase_count(link: LiveLink) -> int | None:
    for config in link.state.get(METERS) or ():
        return int(config.phase_count)
    return None


async def live_frames(link: LiveLink, options: LiveOptions) -> AsyncIterator[LiveFrame]:
    """Balanced `LiveFrame`s about every `options.interval` seconds, until closed."""
    if not link.state.probed():  # not probed yet: connect, probe and read once
        await link.ready()
    candidates = available_sources(link, options)
    if not candidates:
        raise EnvoyFeatureUnavailable(
            f"no live source on {link.host or 'this gateway'}: it has neither "
            "/ivp/livedata/status nor CT meters (try `update()` every minute instead)"
        )
    run = _Run(link, options)
    link.feed.readers += 1
    refusals: list[str] = []
    try:
        for name in candidates:
            try:
                if name == "stream_meter":
                    async for frame in run.streamed():
                        yield frame
                else:
                    poller: _Poller = (
                        LivedataPoller(link, options)
                        if name == "livedata"
                        else ReadingsPoller(link, options)
                    )
                    async for frame in run.polled(poller):
                        yield frame
            except SourceRefused as refused:
                refusals.append(f"{name}: {refused}")
                _LOGGER.info("live source %s refused (%s): trying the next", name, refused)
        raise EnvoyFeatureUnavailable(
            f"every live source refused on {link.host or 'this gateway'}: {'; '.join(refusals)}"
        )
    finally:
        link.feed.readers -= 1

"""The polled live sources: ``/ivp/livedata/status`` (with enable and renew) and CT readings.

Each poll is one ordinary request through the Envoy's transport, so it
queues behind `update()` on the one-request-in-flight limit and the two
never overlap. What is read goes into the Envoy's cache too, where
`update()` finds it fresh instead of asking again (`LiveFeed`).

Livedata only refreshes while the gateway's live stream is on
(``connection.sc_stream``); it turns itself off after about 15 minutes. So
the poller turns it on when it reads ``disabled`` and renews it every
`LiveOptions.renew_every` seconds while someone listens. It never turns it
off: leaving it on is harmless, and someone else may be using it.
"""

from __future__ import annotations

import logging
from typing import Any

from ..capabilities import SourceStatus
from ..engine.balance import from_livedata, from_readings
from ..engine.joins import compose_meters
from ..models.live import LiveData
from ..models.live_frame import LiveFrame
from ..net.reader import SourceRefused, read_source
from ..sources.keys import SourceKey
from ..sources.live import LIVEDATA
from ..sources.meters import METERS_READINGS
from ..sources.registry import Speed
from ..sources.table import METERS
from .link import LiveLink, LiveOptions

__all__ = ["ENABLE_PATH", "ENABLE_SPACING_S", "LivedataPoller", "ReadingsPoller"]

_LOGGER = logging.getLogger("enphase_local.live")

ENABLE_PATH = "/ivp/livedata/stream"
ENABLE_SPACING_S = 30.0


class LivedataPoller:
    """Polls ``/ivp/livedata/status``; turns the live stream on and keeps it on."""

    name = "livedata"
    key = SourceKey.LIVEDATA

    def __init__(self, link: LiveLink, options: LiveOptions) -> None:
        self.link = link
        self.options = options
        self.enabled_at: float | None = None
        self.enables = 0
        self.tried_at: float | None = None
        self._last: tuple[Any, ...] | None = None  # the flows of the last read

    async def poll(self, now: float) -> tuple[LiveFrame, bool]:
        """One read (two when the stream had to be turned on): the frame, and whether it
        brought fresh data."""
        live = await self._read(now)
        if not live.stream_enabled and self._may_enable(now):
            await self._enable(now, "it was off")
            live = await self._read(now)  # the gateway refreshes at once once enabled
        elif live.stream_enabled and self.enabled_at is None:
            self.enabled_at = now  # on already (someone enabled it): renew from now on
        elif live.stream_enabled and now - (self.enabled_at or now) >= self.options.renew_every:
            await self._enable(now, "renewal")
        # Not `last_update`: on 8.3.6086 it keeps advancing while every value repeats to the
        # milliwatt for 7 to 60 s (a stall, about every 10 minutes). Identical flows are stale.
        signature = tuple((k, f.watts) for k, f in live.flows.items())
        fresh = live.stream_enabled and signature != self._last
        self._last = signature
        return from_livedata(live, now), fresh

    async def _read(self, now: float) -> LiveData:
        link = self.link
        live: LiveData = await read_source(link.transport, link.auth(), LIVEDATA, retry=False)
        link.state.live_read(self.key, live, now)
        link.feed.mark(self.key, now, self.options.interval)
        return live

    def _may_enable(self, now: float) -> bool:
        """At most one enable per `ENABLE_SPACING_S` while the gateway keeps reading it off."""
        return self.tried_at is None or now - self.tried_at >= ENABLE_SPACING_S

    async def _enable(self, now: float, why: str) -> None:
        link = self.link
        self.tried_at = now
        result = await link.transport.request(
            "POST",
            ENABLE_PATH,
            speed=Speed.FAST,
            auth=link.auth(),
            json={"enable": 1},
            retry=False,
        )
        if result.status in (401, 403, 404):
            raise SourceRefused(SourceStatus.FORBIDDEN, f"HTTP {result.status}")
        if result.ok:
            self.enabled_at = now
            self.enables += 1
            _LOGGER.debug("livedata stream enabled on %s (%s)", link.host, why)
        else:
            _LOGGER.debug("enabling livedata on %s: HTTP %d", link.host, result.status)


class ReadingsPoller:
    """Polls ``/ivp/meters/readings``: the last resort, and the counters `update()` needs."""

    name = "meters_readings"
    key = SourceKey.METERS_READINGS

    def __init__(self, link: LiveLink, options: LiveOptions) -> None:
        self.link = link
        self.options = options
        self._last: tuple[Any, ...] | None = None  # the flows of the last read

    async def poll(self, now: float) -> tuple[LiveFrame, bool]:
        link = self.link
        readings = await read_source(link.transport, link.auth(), METERS_READINGS, retry=False)
        link.state.live_read(self.key, readings, now)
        link.feed.mark(self.key, now, self.options.interval)
        meters = compose_meters(link.state.get(METERS), readings)
        battery, soc = link.state.battery_now()
        frame = from_readings(meters, now, battery=battery, soc_percent=soc)
        if frame is None:
            raise SourceRefused(SourceStatus.ABSENT, "no enabled production or consumption CT")
        signature = tuple((r.eid, r.timestamp, r.watts) for r in readings)
        fresh = signature != self._last
        self._last = signature
        return frame, fresh

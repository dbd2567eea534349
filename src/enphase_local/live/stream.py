"""``/stream/meter``: one long-lived response of server-sent events, read in the background.

How it coexists with the one-request-in-flight rule: opening the stream is a
request like any other and holds the transport's slot (`Transport.slot`)
until the gateway's headers come back; then the slot is released, because
the stream is one slow answer, not more requests. The events arrive on a
connection of their own (a one-connection session owned by the stream), so
`update()` and other polls keep using the transport meanwhile. The gateway
sees at most one request being *handled* at a time plus one open stream.

Frames stall for 3 to 13 s and then come in bursts of up to 8: a reader task
keeps only the newest frame (a burst collapses into one), the consumer takes
it once per interval, and a stall longer than `LiveOptions.stall_reconnect`
closes the stream so the reader reconnects. A connection dropped mid-event
loses only that event (see `sse.EventSplitter`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import aiohttp

from ..capabilities import SourceStatus
from ..errors import (
    EnvoyConnectionError,
    EnvoyError,
    EnvoyHTTPError,
    EnvoyInsecureConnectionError,
    EnvoyParseError,
)
from ..models.live_frame import MeterFrame
from ..net.address import carries_secret
from ..net.reader import SourceRefused
from ..net.trust import certificate_changed, fetch_certificate
from ..sources.registry import Speed
from .link import LiveLink
from .sse import EventSplitter, parse_meter_event

__all__ = ["STREAM_PATH", "MeterStream"]

_LOGGER = logging.getLogger("enphase_local.live")

STREAM_PATH = "/stream/meter"


class MeterStream:
    """One open ``/stream/meter`` response; `next` gives the newest frame since the last call."""

    name = "stream_meter"

    def __init__(self, link: LiveLink, *, phase_count: int | None = None) -> None:
        self.link = link
        self.phase_count = phase_count
        self.frames = 0  # events parsed
        self.bad_events = 0  # events that were not meter frames
        self.received_at: float | None = None  # link clock at the newest frame
        self._session: aiohttp.ClientSession | None = None
        self._response: aiohttp.ClientResponse | None = None
        self._task: asyncio.Task[None] | None = None
        self._latest: MeterFrame | None = None
        self._error: EnvoyError | None = None
        self._arrived = asyncio.Event()

    async def open(self) -> None:
        """Send the request; raises `SourceRefused` (401/403/404), `EnvoyHTTPError` or
        `EnvoyConnectionError`."""
        link = self.link
        transport = link.transport
        scheme = transport.scheme or await transport.detect_scheme()
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=transport.timeouts.for_speed(Speed.FAST), sock_read=None
        )
        auth = link.auth()
        headers = dict(await auth.headers(transport, "GET", STREAM_PATH)) if auth else {}
        headers["Accept"] = "text/event-stream"
        headers["Accept-Encoding"] = "identity"
        if scheme == "http" and carries_secret(headers):
            raise EnvoyInsecureConnectionError(
                f"refusing to send the gateway token to {transport.netloc} over plain HTTP "
                f"({STREAM_PATH}): firmware 7 and later serve HTTPS"
            )
        trust = transport.trust
        if scheme == "https" and trust.learning:  # never the case once the Envoy connected
            trust.observe(
                await fetch_certificate(
                    transport.hostname, transport.port or 443, timeout.sock_connect or 10.0
                )
            )
        tls = trust.ssl_for_request() if scheme == "https" else False
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=False, limit=1, force_close=True),  # see `tls`
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=timeout,
        )
        stats = transport.stats.for_path(STREAM_PATH)  # opens count as requests in the stats
        started = time.perf_counter()
        try:
            async with transport.slot():
                stats.requests += 1
                stats.last_at = link.clock()
                response = await self._session.get(
                    transport.url(STREAM_PATH, scheme),
                    headers=headers,
                    ssl=tls,  # the Envoy's pinned certificate (net.trust), as every request
                    allow_redirects=False,
                    auto_decompress=False,
                )
        except aiohttp.ServerFingerprintMismatch as err:  # an auth error: never retried
            stats.record(time.perf_counter() - started, None, failed=True)
            await self.close()
            raise certificate_changed(transport.netloc, err.expected, err.got) from err
        except (aiohttp.ClientError, TimeoutError) as err:
            stats.record(time.perf_counter() - started, None, failed=True)
            await self.close()
            raise EnvoyConnectionError(
                f"could not open {STREAM_PATH} on {transport.netloc} ({type(err).__name__})"
            ) from err
        self._response = response
        stats.record(time.perf_counter() - started, response.status, failed=response.status != 200)
        if response.status != 200:
            status = response.status
            await self.close()
            if status in (401, 403):
                raise SourceRefused(SourceStatus.FORBIDDEN, f"HTTP {status} (installer only?)")
            if status == 404:
                raise SourceRefused(SourceStatus.ABSENT, "HTTP 404")
            raise EnvoyHTTPError(status, STREAM_PATH)
        self._task = asyncio.create_task(self._read(response), name="enphase-stream-meter")

    async def _read(self, response: aiohttp.ClientResponse) -> None:
        splitter = EventSplitter()
        try:
            async for line in response.content:
                event = splitter.feed(line)
                if event is None:
                    continue
                try:
                    frame = parse_meter_event(event, phase_count=self.phase_count)
                except EnvoyParseError as err:
                    self.bad_events += 1
                    _LOGGER.debug("skipping a /stream/meter event: %s", err)
                    continue
                self._latest = frame
                self.frames += 1
                self.received_at = self.link.clock()
                self._arrived.set()
            self._error = EnvoyConnectionError(f"the gateway closed {STREAM_PATH}")
        except (aiohttp.ClientError, ValueError, EnvoyParseError) as err:
            self._error = EnvoyConnectionError(
                f"{STREAM_PATH} broke off ({type(err).__name__}): reconnecting"
            )
        finally:
            self._arrived.set()

    async def next(self, wait_s: float) -> MeterFrame | None:
        """The newest frame since the last call, waiting up to `wait_s` s (None if none came).

        Raises `EnvoyConnectionError` once the stream has ended and every frame was taken.
        """
        if self._latest is None and self._error is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), wait_s)
        frame, self._latest = self._latest, None
        self._arrived.clear()
        if frame is None and self._error is not None:
            raise self._error
        return frame

    async def close(self) -> None:
        """Stop the reader task and close the connection (safe to call twice).

        The reader's own cancellation is expected and swallowed; a cancellation of the
        caller that lands while it waits for the reader (Ctrl-C cancels the main task)
        is passed on, or the program would carry on as if nothing had been asked.
        """
        task, self._task = self._task, None
        try:
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise
        finally:
            if self._response is not None:
                self._response.release()
                self._response = None
            if self._session is not None:
                await self._session.close()
                self._session = None

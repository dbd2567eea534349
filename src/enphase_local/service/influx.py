"""The InfluxDB sink: line protocol in gzip batches to InfluxDB 1.x, 2.x or 3.x, over aiohttp.

Why no client library: a write is one POST of text (``/write`` on 1.x,
``/api/v2/write`` on 2.x and 3.x's compatible endpoint, ``/api/v3/write_lp``
on 3.x); aiohttp is already here, and the official clients pull in more
than the whole collector. Points are built by `influx_lines` (precision
seconds, the same tags on every point of a measurement).

While the server is away, or refuses for a reason its admin can fix
(401, 403, a missing database), lines wait in a bounded buffer
(`max_buffer_lines`, oldest dropped first and counted in `dropped`) and are
written once it answers again, oldest first. 429 and 503 are retried after
their ``Retry-After``. A batch the server refuses as malformed (400, 422) can
never succeed: it is dropped, counted in `rejected`, and said in one line.
Outages are logged once when they start and once when they end.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import gzip
import logging
import random
import re
import time
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp

from ..net.backoff import backoff_delay
from .influx_config import InfluxSettings
from .influx_lines import event_lines, frame_lines, snapshot_lines

if TYPE_CHECKING:
    from ..models.live_frame import LiveFrame
    from ..models.snapshot import Snapshot
    from .sinks import Event, Hub

__all__ = ["InfluxSettings", "InfluxSink"]

_LOG = logging.getLogger("enphase_local.service.influx")
_RETRY_AFTER_CAP_S = 300.0
_ADMIN_FIXES = {
    401: "the token or password was refused",
    403: "this token may not write there",
    404: "no such database, bucket or org",
}


class _Refused(Exception):
    """The server answered with an error.

    `retry`: the same lines may succeed later (busy, server error, a setting
    the admin can fix); False: the batch is malformed and never will.
    `delay`: the server's ``Retry-After`` (None: our own backoff).
    """

    def __init__(self, message: str, *, retry: bool, delay: float | None = None) -> None:
        super().__init__(message)
        self.retry = retry
        self.delay = delay


class InfluxSink:
    """Writes power, energy, inverters, batteries and events of every gateway to InfluxDB."""

    name = "influx"

    def __init__(self, settings: InfluxSettings | None = None, **options: Any) -> None:
        self.settings = settings if settings is not None else InfluxSettings(**options)
        self._lines: deque[str] = deque()
        self._hub: Hub | None = None
        self._session: aiohttp.ClientSession | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._last_power: dict[str, float] = {}
        self._reports: dict[str, dict[str, int]] = {}
        self._sites: dict[str, str] = {}
        self._rng = random.Random()
        self._failing: str | None = None  # the outage being logged, if any
        self._retry_at = 0.0  # monotonic time before which the flusher waits
        self._attempt = 0
        self.written = 0
        self.dropped = 0  # lines dropped because the buffer was full
        self.rejected = 0  # lines the server refused as malformed
        self.failures = 0
        self.wrote = asyncio.Event()  # set after each successful write (tests wait on it)

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> InfluxSink:
        """Build the sink from the collector's ``[sinks.influx]`` table."""
        return cls(InfluxSettings.from_config(table))

    # -- the Sink protocol ---------------------------------------------------------------

    async def start(self, hub: Hub) -> None:
        """Open the session and, on 1.x, create the database; an absent server is no failure."""
        self._hub = hub
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s),
            auto_decompress=True,
        )
        s = self.settings
        if s.version == "v1" and s.create_database:
            try:
                await self._create_database()
            except (aiohttp.ClientError, TimeoutError, OSError) as err:
                self._outage(f"unreachable ({_reason(err)})")
            except _Refused as err:
                self._outage(str(err))
        self._flusher = asyncio.create_task(self._flush_loop(), name="influx-sink")

    async def on_snapshot(self, serial: str, snapshot: Snapshot) -> None:
        site = self.site_of(serial)
        reports = self._reports.setdefault(serial, {})
        try:
            self._add(list(snapshot_lines(serial, site, snapshot, reports)))
        except Exception:  # one odd snapshot must not stop the collector
            _LOG.exception("InfluxDB: could not turn the snapshot of %s into points", serial)

    async def on_live(self, serial: str, frame: LiveFrame) -> None:
        last = self._last_power.get(serial)
        if last is not None and frame.taken_at - last < self.settings.live_interval_s:
            return  # thinned: InfluxDB keeps a point every live_interval_s per gateway
        self._last_power[serial] = frame.taken_at
        self._add(list(frame_lines(serial, self.site_of(serial), frame)))

    async def on_event(self, event: Event) -> None:
        self._add(list(event_lines(self.site_of(event.serial), event)))

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        if self._session is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.flush(), max(self.settings.timeout_s, 5.0))
            if self._lines:
                _LOG.error(
                    "InfluxDB: %d points not written at shutdown (%s)",
                    len(self._lines),
                    self._failing or "time ran out",
                )
            await self._session.close()
            self._session = None

    # -- tags -----------------------------------------------------------------------------

    def site_of(self, serial: str) -> str:
        """The ``site`` tag: the configured site of the gateway, else the gateway's name."""
        name = serial
        by_serial = getattr(self._hub, "by_serial", None)
        if by_serial is not None:
            with contextlib.suppress(KeyError):
                name = by_serial(serial).name
        return self._sites.get(name) or name

    def use_sites(self, sites: Mapping[str, str]) -> None:
        """Gateway name -> the ``[[site]]`` it belongs to (the runner tells, from the config)."""
        self._sites = dict(sites)

    # -- the buffer -------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        return len(self._lines)

    def _add(self, lines: list[str]) -> None:
        self._lines.extend(lines)
        excess = len(self._lines) - self.settings.max_buffer_lines
        if excess > 0:
            for _ in range(excess):
                self._lines.popleft()
            if not self.dropped:
                _LOG.warning("InfluxDB: buffer full, dropping the oldest points")
            self.dropped += excess

    async def flush(self) -> bool:
        """Write what is buffered, batch by batch; True when nothing is left.

        An error stops the flush (the lines stay, and `_retry_at` says when
        to try again); a malformed batch is dropped and the flush goes on.
        """
        async with self._lock:
            while self._lines:
                count = min(len(self._lines), self.settings.batch_lines)
                batch = [self._lines[i] for i in range(count)]
                try:
                    await self._post(batch)
                except (aiohttp.ClientError, TimeoutError, OSError) as err:
                    self._retry(f"unreachable ({_reason(err)})", None)
                    return False
                except _Refused as err:
                    if err.retry:
                        self._retry(str(err), err.delay)
                        return False
                    # 1.x writes the good points of a batch and says how many it dropped
                    dropped = re.search(r"dropped=(\d+)", str(err))
                    refused = min(int(dropped[1]), count) if dropped else count
                    self.rejected += refused
                    _LOG.error("InfluxDB refused %d points: %s; they are dropped", refused, err)
                for _ in range(count):
                    self._lines.popleft()
            self._recovered()
            return True

    def _retry(self, why: str, delay: float | None) -> None:
        self.failures += 1
        if delay is None:
            delay = backoff_delay(self._attempt, base=1.0, cap=60.0, rng=self._rng)
        self._attempt += 1
        self._retry_at = time.monotonic() + delay
        self._outage(why)

    def _outage(self, why: str) -> None:
        if self._failing is None:
            _LOG.warning(
                "InfluxDB at %s: %s; %d points kept, retrying",
                self.settings.base,
                why,
                len(self._lines),
            )
        self._failing = why

    def _recovered(self) -> None:
        if self._failing is not None:
            _LOG.warning("InfluxDB at %s: writing again", self.settings.base)
        self._failing = None
        self._attempt = 0
        self._retry_at = 0.0

    async def _post(self, batch: list[str]) -> None:
        assert self._session is not None
        url, params, headers = self.settings.write_request()
        body = ("\n".join(batch) + "\n").encode()
        if self.settings.gzip:
            body = gzip.compress(body, compresslevel=5)
            headers = {**headers, "Content-Encoding": "gzip"}
        async with self._session.post(url, params=params, data=body, headers=headers) as resp:
            if resp.status < 300:
                self.written += len(batch)
                self.wrote.set()
                return
            text = await _error_text(resp)
            raise _refusal(resp.status, resp.headers.get("Retry-After"), text)

    async def _create_database(self) -> None:
        assert self._session is not None
        s = self.settings
        _url, _params, write_headers = s.write_request()
        headers = {k: v for k, v in write_headers.items() if k != "Content-Type"}
        name = s.database.replace("\\", "\\\\").replace('"', '\\"')
        data = {"q": f'CREATE DATABASE "{name}"'}
        async with self._session.post(f"{s.base}/query", data=data, headers=headers) as resp:
            if resp.status >= 300:
                raise _refusal(resp.status, None, await _error_text(resp))

    async def _flush_loop(self) -> None:
        while True:
            wait = max(self.settings.flush_interval_s, self._retry_at - time.monotonic())
            await asyncio.sleep(wait)
            try:
                await self.flush()
            except Exception:  # the flusher must outlive any surprise
                _LOG.exception("InfluxDB: unexpected failure while writing")


def _refusal(status: int, retry_after: str | None, body: str) -> _Refused:
    """What an error answer means: when to retry (None: never) and one line saying why."""
    detail = " ".join(body.split()) or "no detail"
    if status in (429, 503):
        delay = _retry_after(retry_after)
        return _Refused(f"HTTP {status}, busy: {detail}", retry=True, delay=delay)
    if status in _ADMIN_FIXES:
        return _Refused(f"HTTP {status}, {_ADMIN_FIXES[status]}: {detail}", retry=True)
    if status >= 500:
        return _Refused(f"HTTP {status}, server error: {detail}", retry=True)
    return _Refused(f"HTTP {status}, malformed points: {detail}", retry=False)


async def _error_text(resp: aiohttp.ClientResponse) -> str:
    """The start of an error body (a hostile server may send gigabytes), as text."""
    body = await resp.content.read(4096)
    return body.decode("utf-8", errors="replace")[:300]


def _retry_after(value: str | None) -> float:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), within reason."""
    if value:
        with contextlib.suppress(ValueError):
            return min(max(float(value), 0.0), _RETRY_AFTER_CAP_S)
        with contextlib.suppress(TypeError, ValueError):
            when = email.utils.parsedate_to_datetime(value).timestamp()
            return min(max(when - time.time(), 0.0), _RETRY_AFTER_CAP_S)
    return 1.0


def _reason(err: BaseException) -> str:
    text = str(err).split("\n")[0][:200]
    return f"{type(err).__name__}: {text}" if text else type(err).__name__

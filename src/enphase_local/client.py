"""`Envoy`: connect, authenticate, probe and update, on every firmware, gently.

    async with Envoy("192.168.1.50", token="eyJ...") as envoy:
        snapshot = await envoy.update()

The facade is the I/O loop around `engine.state.GatewayState`, which owns
everything known of the gateway (cache, schedule, plan, statuses,
capabilities, re-probe timers) and answers "what should be read now" and
"here is what came back": `net` talks to the gateway, the state decides,
`control` writes. What is here is the order of the I/O. One failing source
never sinks an update: its section keeps its last data, marked stale, and
`errors` says why.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, overload

import aiohttp

from .capabilities import Capability, SourceStatus
from .engine.state import GatewayState, UpdateBudget, ZoneLike, bounded_by_budget, default_budget
from .errors import (
    EnvoyBadCredentialsError,
    EnvoyConnectionError,
    EnvoyError,
    EnvoyHTTPError,
    EnvoyParseError,
)
from .firmware import Firmware
from .live import LiveFeed, LiveFrame, LiveLink, LiveOptions, live_frames
from .models.gateway import GatewayInfo, HomeInfo
from .models.snapshot import Snapshot
from .net.backoff import RetryPolicy
from .net.credentials import CloudUrls, Credentials, choose_authenticator
from .net.deadline import Deadline
from .net.digest import DigestAuth
from .net.exchange import Authenticator, HttpResult, Timeouts
from .net.probe_cache import ProbeCache, ProbeRecord, gone
from .net.reader import SourceRefused, probe_source, read_available, read_source
from .net.stats import TransportStats
from .net.token_auth import TokenAuth
from .net.token_store import TokenStore
from .net.transport import CertificateTrust, Transport, Verify
from .sources.keys import SourceKey
from .sources.registry import Source, Speed
from .sources.table import INFO, SOURCES

if TYPE_CHECKING:  # loaded on first use of `Envoy.control`: a fifth of importing the client
    from .control import Control

__all__ = ["CloudUrls", "Envoy"]

_LOGGER = logging.getLogger("enphase_local.client")
T = TypeVar("T")
_NOT_A_GATEWAY = "the gateway answered HTTP {} for /info: is this an Enphase gateway?"


class Envoy:
    """One Enphase gateway. Construct anywhere; use inside ``async with`` or call `connect()`."""

    def __init__(
        self,
        host: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        session: aiohttp.ClientSession | None = None,
        scheme: str | None = None,
        token_store: TokenStore | None = None,
        cloud: CloudUrls | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        max_in_flight: int = 1,
        keepalive: bool = True,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        update_budget_s: float | None = None,
        pin: str | None = None,
        verify: Verify = False,
        probe_cache: ProbeCache | None = None,
        timezone: ZoneLike = None,  # the site's zone, if not the gateway's own (issue 23)
    ) -> None:
        self.host = host
        cloud = cloud or CloudUrls()
        self._credentials = Credentials(token, username, password, token_store, cloud)
        self._session, self._clock, self._sleep = session, clock, sleep
        self._control: Control | None = None
        timeouts = timeouts or Timeouts()  # an update takes at most update_budget_s (2.5 x slow)
        self.update_budget_s = update_budget_s or default_budget(timeouts.slow_s)
        self._transport = Transport(
            host,
            session=session,
            scheme=scheme,
            keepalive=keepalive,
            max_in_flight=max_in_flight,
            timeouts=timeouts,
            retry=retry or RetryPolicy(),
            clock=clock,
            sleep=sleep,
            trust=CertificateTrust(pin=pin, verify=verify, store=token_store),
        )
        self._auth: Authenticator | None = None
        self.auth_kind = "none"
        self._digest_role: str | None = None
        self._info: GatewayInfo | None = None
        self._state = GatewayState.in_zone(timezone)
        self.energy_book = self._state.energy  # the six flows' running state (engine.energy)
        self._update_task: asyncio.Task[Snapshot] | None = None
        self._connect_task: asyncio.Task[None] | None = None
        self._connected = False
        self._live_feed = LiveFeed()
        self._probe_cache = probe_cache  # probes remembered by serial (net.probe_cache)
        self._recalled: ProbeRecord | None = None  # the remembered probe in use, until checked

    async def __aenter__(self) -> Envoy:
        try:
            await self.connect()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if we own it (a caller's session is left open)."""
        await self._transport.close()

    @property
    def info(self) -> GatewayInfo:
        """The gateway's identity from ``/info`` (after `connect`)."""
        if self._info is None:
            raise EnvoyError("not connected: use `async with Envoy(...)` or `connect()`")
        return self._info

    @property
    def firmware(self) -> Firmware:
        return self.info.fw

    @property
    def home(self) -> HomeInfo | None:
        return self._state.home

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What the probe found the gateway can do (grows as deferred sources answer)."""
        return self._state.capabilities

    @property
    def source_status(self) -> dict[SourceKey, SourceStatus]:
        """What each source answered when last asked (ok, absent, forbidden, failed)."""
        return self._state.status

    @property
    def control(self) -> Control:
        """Write actions (storage mode, reserve, relay, contacts, generator, ACB), read back."""
        if self._control is None:
            from .control import Control  # lazy (issue 31 item 3)

            self._control = Control(self, clock=self._clock, sleep=self._sleep)
        return self._control

    @property
    def stats(self) -> TransportStats:
        """Requests made, per endpoint, with timings."""
        return self._transport.stats

    @property
    def role(self) -> str | None:
        """``"owner"`` or ``"installer"``: what the credentials in use may read."""
        if isinstance(self._auth, TokenAuth):
            return None if self._auth.claims is None else self._auth.claims.role
        return self._digest_role

    @bounded_by_budget("connecting to")
    async def connect(self, *, probe: bool = True) -> None:
        """Read identity, set up authentication, and probe what the gateway has.

        ``probe=False`` stops after authentication: enough for `request` and `read`, and much
        faster on a slow gateway (the probe asks a dozen endpoints); `update` completes it.
        """
        await self._read_info()
        self._auth, self.auth_kind, self._digest_role = choose_authenticator(
            self.info, self._credentials, session=self._session, clock=self._clock
        )
        if probe:
            if not self._recall_probe():
                await self.probe()
            self._connected = True

    async def _read_info(self) -> GatewayInfo:
        await self._transport.detect_scheme()
        result = self._transport.take_detected_info() or await self._transport.request(
            "GET", "/info", speed=Speed.FAST, auth=None
        )
        if result.status != 200:
            raise EnvoyHTTPError(result.status, "/info", _NOT_A_GATEWAY.format(result.status))
        info = INFO.parse(result.body)
        self._state.read(SourceKey.INFO, info, self._clock())
        before, self._info = self._info, info
        if before is not None and info.fw != before.fw:
            _LOGGER.info("firmware changed from %s to %s: probing", before.firmware, info.firmware)
            await self.probe()
        return info

    @bounded_by_budget("probing")
    async def probe(self) -> None:
        """Find out once which sources answer, and so what the gateway can do."""
        info, now, state = self.info, self._clock(), self._state
        found, awaited = await self._first_production(now)
        if not state.production_found(found, awaited):
            self._check_digest_password()
            raise state.no_production(self.host, info.firmware)
        v1 = await self._try(state.fallback, now) if state.wants_v1() else None
        state.settle_production(info, v1, found)
        for key in state.probe_keys(info):  # each decided from the answers before it
            await self._try(key, now)
        self._check_digest_password()
        state.settle_probe(info.fw, now)
        if self._probe_cache is not None and state.cache.awaited_production is None:
            cache, self._recalled = state.cache, None
            parts = (state.capabilities, state.status, state.plan, state.deferred)
            production = (cache.production_key, cache.preferred_production)
            record = ProbeRecord.of(info.firmware, self.role, production, parts, now)
            self._probe_cache.keep(info.serial, record)

    async def _first_production(self, now: float) -> tuple[SourceKey | None, SourceKey | None]:
        """The chain's first source that answers, and the one awaited after the first snapshot."""
        state = self._state
        for key in state.production_chain(self.info.fw):
            limit = state.late_after(key, self._transport.timeouts.first_production_s)
            try:  # cut short, the request is cancelled: never two in flight (engine.production)
                value = await asyncio.wait_for(self._try(key, now), limit)
            except TimeoutError:
                if state.fallback_usable(await self._try(state.fallback, now)):
                    return state.fallback, key
                value = await self._try(key, now, retry=False)  # nothing else: wait, no retries
            if value is not None:
                return key, None
        return None, None

    def _recall_probe(self) -> bool:
        """Use the probe remembered for this gateway and firmware (`net.probe_cache`), if any."""
        info, memo, now = self.info, self._probe_cache, self._clock()
        self._recalled = memo.recall(info.serial, info.firmware, self.role, now) if memo else None
        if (record := self._recalled) is not None:
            caps, status, plan, deferred = record.found()
            self._state.recall(
                record.production,
                capabilities=caps,
                status=status,
                plan=plan,
                deferred=deferred,
                now=now,
            )
        return record is not None

    async def _reprobe(self, now: float) -> None:
        """Ask the sources that never answered again; probe afresh if one now does."""
        keys = self._state.reprobe_keys()
        answered = [k for k in keys if await self._try(k, now) is not None]
        if self._state.reprobed(answered, now):
            _LOGGER.info("%s now answer: probing again", ", ".join(answered))
            await self.probe()

    def _check_digest_password(self) -> None:
        """Digest password never accepted: fatal only if nothing answered (engine.password)."""
        auth = self._auth
        if isinstance(auth, DigestAuth) and not auth.verified:
            fatal = self._state.password_refusal(auth.username)
            if fatal is not None:
                raise EnvoyBadCredentialsError(fatal)

    async def _try(self, key: SourceKey, now: float, *, retry: bool = True) -> object:
        """Probe one source: its model, or None (and its status recorded); once a probe."""
        if self._state.already_read(key, now):  # the fallback check read v1 already
            return self._state.cache.value(key)
        answer = probe_source(self._transport, self._auth, SOURCES[key], self.role, retry=retry)
        status, value, error = await answer
        self._state.probed_answer(key, status, value, error, now)
        return value

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        speed: Speed = Speed.FAST,
        retry: bool | None = None,
    ) -> HttpResult:
        """An authenticated request to any path, answered whatever its status (GET retried)."""
        retry = method.upper() == "GET" if retry is None else retry
        return await self._transport.request(
            method, path, speed=speed, auth=self._auth, json=json, retry=retry
        )

    @overload
    async def read(self, key: Source[T]) -> T: ...
    @overload
    async def read(self, key: str) -> object: ...
    async def read(self, key: Source[T] | str) -> T | object:
        """A source now, past the cadence: ``read(TARIFF)`` is a `Tariff` (a string: untyped)."""
        source: Source[Any] = key if isinstance(key, Source) else SOURCES[SourceKey(key)]
        value: T | object = await read_available(self._transport, self._auth, source)
        self._state.read(source.key, value, self._clock())
        return value

    def live(self, interval: float = 1.0, **options: Any) -> AsyncIterator[LiveFrame]:
        """Balanced power flows every `interval` s until you break out (docs/live.md)."""
        link = LiveLink(
            self._transport,
            auth=lambda: self._auth,
            state=self._state,
            feed=self._live_feed,
            ready=self.update,
            clock=self._clock,
            sleep=self._sleep,
            host=self.host,
        )
        return live_frames(link, LiveOptions(interval=interval, **options))

    async def update(
        self, *, full: bool = False, sections: Iterable[str] | None = None
    ) -> Snapshot:
        """A snapshot: what can have changed (`full`: deferred too; `sections`: only theirs)."""
        if not self._connected:  # concurrent first calls share one connect
            if self._connect_task is None or self._connect_task.done():
                self._connect_task = asyncio.ensure_future(self._first_connect())
            await asyncio.shield(self._connect_task)
        task = self._update_task
        if task is None or task.done():
            task = self._update_task = asyncio.ensure_future(self._update(full, sections))
        return await asyncio.shield(task)

    async def _first_connect(self) -> None:
        if self._auth is None:
            await self.connect()
        elif not self._recall_probe():  # connected with probe=False: finish the job
            await self.probe()
        self._connected = True

    async def _update(self, full: bool, sections: Iterable[str] | None = None) -> Snapshot:
        now, state = self._clock(), self._state
        window = state.window(now)
        budget = UpdateBudget.start(self.update_budget_s, gentle=window.gentle)
        deadline = self._transport.begin_update(budget.left())  # one timer for the reads
        try:
            if state.info_due(now):
                await self._refresh_info(now, budget, deadline)
            if state.reprobe_due(now) and not budget.stopped:
                await self._reprobe(now)
            for source in state.due(now, window.tz, full=full, sections=sections):
                if budget.stopped is not None:
                    state.not_asked(source, budget.stopped)
                elif self._live_feed.serves(source.key, now):
                    continue  # live() keeps it fresh
                elif state.planned(source.key):
                    await self._update_one(source, now, budget, deadline)
        finally:
            self._transport.end_update(deadline)
        if self._recalled is not None and gone(self._recalled, state.status, state.cache.read_at):
            await self.probe()  # a source the remembered probe relied on is gone: probe for real
        state.finish(now, budget)
        await self._transport.between_updates()
        return state.snapshot(
            self.info,
            host=self.host,
            auth_kind=self.auth_kind,
            role=self.role,
            now=now,
            window=window,
        )

    async def _refresh_info(self, now: float, budget: UpdateBudget, deadline: Deadline) -> None:
        """Re-read /info on its cadence (a firmware change triggers a new probe)."""
        error: EnvoyError | None = None
        try:
            await budget.run(self._read_info(), deadline)
        except EnvoyError as err:
            error = err
        budget.record(error)
        self._state.info_read(now, error)

    async def _update_one(
        self, source: Source[Any], now: float, budget: UpdateBudget, deadline: Deadline
    ) -> None:
        key, state = source.key, self._state
        error: Exception
        retry = budget.retry() and not state.first_read(key)  # first read: once, no retries
        try:
            read = read_source(self._transport, self._auth, source, retry=retry)
            value = await budget.run(read, deadline)
        except SourceRefused as refused:
            state.refused(key, refused.status, now)
            error, message = refused, f"{source.path}: {refused}"
        except (EnvoyConnectionError, EnvoyHTTPError, EnvoyParseError) as err:
            note = " (the gateway restarts nightly around 23:00)" if budget.gentle else ""
            error, message = err, f"{err}{note}"
            budget.failures.append(err)
        else:
            budget.record(None)
            state.accepted(key, value, now, self.info)
            return
        budget.record(error)
        if state.failed(key, message, error, now):
            await self._switch_production(now, message)

    async def _switch_production(self, now: float, why: str) -> None:
        """The production source keeps failing: serve production from the next one."""
        for key in self._state.next_production(self.info.fw):
            if await self._try(key, now) is not None:
                self._state.use_production(key, now, why)
                return

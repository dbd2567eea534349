"""`Envoy`: connect, authenticate, probe and update, on every firmware, gently.

    async with Envoy("192.168.1.50", token="eyJ...") as envoy:
        snapshot = await envoy.update()

The facade only wires the layers together and keeps their state: `net`
talks to the gateway, `engine` decides (which sources to probe, which are
due, which one serves production, how long an update may take, how the
snapshot is assembled from the `SourceCache`) and `control` writes. What is
here is the order of the I/O. One failing source never sinks an update: its
section keeps its last data, marked stale, and `errors` says why.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, TypeVar, overload

import aiohttp

from .capabilities import Capability, SourceStatus
from .control import Control
from .engine import energy, recovery, site_day
from .engine import probe as probing
from .engine import production as producing
from .engine.budget import UpdateBudget, bounded_by_budget, default_budget
from .engine.cache import SourceCache
from .engine.recovery import demotes, never_answered, next_reprobe, use_production
from .engine.schedule import Schedule, new_local_day
from .engine.snapshot import build_snapshot, gateway_summary, not_asked
from .errors import (
    EnvoyBadCredentialsError,
    EnvoyConnectionError,
    EnvoyError,
    EnvoyFeatureUnavailable,
    EnvoyHTTPError,
    EnvoyParseError,
)
from .firmware import Firmware
from .live import LiveFeed, LiveFrame, LiveLink, LiveOptions, live_frames
from .models.gateway import GatewayInfo, HomeInfo
from .models.snapshot import Snapshot
from .net.backoff import RetryPolicy
from .net.credentials import CloudUrls, Credentials, choose_authenticator
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
from .sources.table import GEN_CONFIG, HOME, SOURCES

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
        timezone: site_day.ZoneLike = None,  # the site's zone, if not the gateway's own
    ) -> None:
        self.host = host
        self.site_day, self.energy_book = site_day.SiteDay(timezone), energy.EnergyBook()
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
        self.capabilities: frozenset[Capability] = frozenset()
        self.source_status: dict[SourceKey, SourceStatus] = {}
        self._cache, self._schedule = SourceCache(), Schedule()
        self._plan: dict[SourceKey, float] = {}
        self._update_task: asyncio.Task[Snapshot] | None = None
        self._connect_task: asyncio.Task[None] | None = None
        self._next_reprobe: float | None = None
        self._deferred: dict[SourceKey, float] = {}  # read after the first snapshot
        # _reprobes: re-probes in a row that found nothing new (their wait doubles)
        self._connected, self._snapshots, self._reprobes = False, 0, 0
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
        return self._cache.get(HOME)

    @property
    def control(self) -> Control:
        """Write actions (storage mode, reserve, relay, contacts, generator, ACB), read back."""
        if self._control is None:
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
        info: GatewayInfo = SOURCES[SourceKey.INFO].parse(result.body)
        self._cache.put(SourceKey.INFO, info, self._clock())
        before, self._info = self._info, info
        if before is not None and info.fw != before.fw:
            _LOGGER.info("firmware changed from %s to %s: probing", before.firmware, info.firmware)
            await self.probe()
        return info

    @bounded_by_budget("probing")
    async def probe(self) -> None:
        """Find out once which sources answer, and so what the gateway can do."""
        fw, now, cache, status = self.info.fw, self._clock(), self._cache, self.source_status
        found, cache.awaited_production = await self._first_production(now)
        cache.production_key = found or cache.production_key  # a re-probe keeps the last
        if cache.production_key is None:
            self._check_digest_password()
            raise EnvoyFeatureUnavailable(
                f"no production source answered on {self.host} (firmware {self.info.firmware}): "
                f"{'; '.join(cache.errors.values()) or 'nothing to read'}"
            )
        key, report = cache.production_key, cache.production()
        v1 = await self._try(producing.FALLBACK, now) if producing.wants_v1(key, report) else None
        if producing.prefers_v1(key, report, v1, fw=fw, metered=self.info.imeter):
            cache.production_key = SourceKey.PRODUCTION_V1
        cache.settle_preferred(producing.production_chain(fw), found)
        ensemble = probing.ensemble_candidates(fw)
        for key in [*probing.base_candidates(fw, self.info.imeter, cache), *ensemble]:
            await self._try(key, now)
        for key in probing.followups(cache, cache.production()):
            await self._try(key, now)
        for key in probing.generator_followups(cache.get(GEN_CONFIG)):
            await self._try(key, now)
        self._check_digest_password()
        self.capabilities, self._plan, self._deferred = recovery.replan(cache, fw, status)
        self._schedule = Schedule.seeded(self._plan, cache.read_at, cache.report_time)
        cache.anchor_baseline()
        self._next_reprobe = next_reprobe(now, status, cache.read_at)
        if self._probe_cache is not None and cache.awaited_production is None:  # net.probe_cache
            parts = (self.capabilities, self.source_status, self._plan, self._deferred)
            production, self._recalled = (cache.production_key, cache.preferred_production), None
            record = ProbeRecord.of(self.info.firmware, self.role, production, parts, now)
            self._probe_cache.keep(self.info.serial, record)

    async def _first_production(self, now: float) -> tuple[SourceKey | None, SourceKey | None]:
        """The chain's first source that answers, and the one awaited after the first snapshot."""
        for key in producing.production_chain(self.info.fw):
            limit = producing.late_after(key, self._transport.timeouts.first_production_s)
            try:  # cut short, the request is cancelled: never two in flight (engine.production)
                value = await asyncio.wait_for(self._try(key, now), limit)
            except TimeoutError:
                if producing.fallback_usable(await self._try(producing.FALLBACK, now)):
                    return producing.FALLBACK, key
                value = await self._try(key, now, retry=False)  # nothing else: wait, no retries
            if value is not None:
                return key, None
        return None, None

    def _recall_probe(self) -> bool:
        """Use the probe remembered for this gateway and firmware (`net.probe_cache`), if any."""
        info, memo, now, cache = self.info, self._probe_cache, self._clock(), self._cache
        self._recalled = memo.recall(info.serial, info.firmware, self.role, now) if memo else None
        if (record := self._recalled) is not None:
            cache.production_key, cache.preferred_production = record.production
            self.capabilities, self.source_status, self._plan, self._deferred = record.found()
            self._schedule = Schedule.seeded(self._plan, cache.read_at, cache.report_time)
            self._next_reprobe = next_reprobe(now, self.source_status, cache.read_at)
        return record is not None

    async def _reprobe(self, now: float) -> None:
        """Ask the sources that never answered again; probe afresh if one now does."""
        status, seen = self.source_status, self._cache.read_at
        answered = [k for k in never_answered(status, seen) if await self._try(k, now) is not None]
        self._reprobes = 0 if answered else self._reprobes + 1
        self._next_reprobe = next_reprobe(now, status, seen, self._reprobes)
        if answered:
            _LOGGER.info("%s now answer: probing again", ", ".join(answered))
            await self.probe()

    def _check_digest_password(self) -> None:
        """Digest password never accepted: fatal only if nothing answered (engine.probe)."""
        auth = self._auth
        if isinstance(auth, DigestAuth) and not auth.verified:
            refusal = probing.judge_password(self.source_status, auth.username)
            if refusal is not None and refusal.fatal:
                raise EnvoyBadCredentialsError(refusal.message)
            if refusal is not None:
                self._cache.fail(refusal.key, refusal.message)

    async def _try(self, key: SourceKey, now: float, *, retry: bool = True) -> Any:
        """Probe one source: its model, or None (and its status recorded); once a probe."""
        if self._cache.read_at.get(key) == now:  # the fallback check read v1 already
            return self._cache.value(key)
        answer = probe_source(self._transport, self._auth, SOURCES[key], self.role, retry=retry)
        self.source_status[key], value, error = await answer
        if error is not None:
            self._cache.fail(key, error)
        elif self.source_status[key] is SourceStatus.OK:
            self._cache.put(key, value, now)
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
        self._cache.put(source.key, value, self._clock())
        self._settle_deferred(source.key)
        return value

    def _settle_deferred(self, key: SourceKey) -> None:
        """A source left out of the probe answered: what the gateway can do may grow."""
        if self._deferred.pop(key, None) is not None:
            self.capabilities = probing.derive(self._cache, self._cache.production())

    def live(self, interval: float = 1.0, **options: Any) -> AsyncIterator[LiveFrame]:
        """Balanced power flows every `interval` s until you break out (docs/live.md)."""
        parts = (self._transport, lambda: self._auth, self._cache, self.source_status)
        link = LiveLink(*parts, self._live_feed, self.update, self._clock, self._sleep, self.host)
        link.unasked = lambda: self._deferred.keys() - self.source_status.keys()
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
        now, cache = self._clock(), self._cache
        tz = self.site_day.window_zone(self.home, awaiting_home=SourceKey.HOME in self._plan)
        gentle = site_day.in_outage_window(now, tz)
        budget = UpdateBudget.start(self.update_budget_s, gentle=gentle)
        if SourceKey.INFO in self._plan and self._schedule.next_due(SOURCES[SourceKey.INFO]) <= now:
            await self._refresh_info(now, budget)
        if self._next_reprobe is not None and self._next_reprobe <= now and not budget.stopped:
            await self._reprobe(now)
        key, preferred = cache.production_key, cache.preferred_production
        if key is not None and new_local_day(cache.read_at.get(key), now, tz):
            self._schedule.force(key)
        demoted = preferred if preferred != key else None  # asked again to be promoted back
        later = () if self._snapshots or full else self._deferred  # off the first snapshot's path
        skip = {*later, *not_asked(sections, self._plan, (key, preferred))}
        for source in self._schedule.due_in(self._plan, now, also=demoted, skip=skip):
            if budget.stopped is not None:
                cache.fail(source.key, f"{source.path}: not asked: {budget.stopped}")
            elif self._live_feed.serves(source.key, now):
                continue  # live() keeps it fresh
            elif source.key in self._plan or source.key == preferred:
                await self._update_one(source, now, budget)
        if self._recalled is not None and gone(self._recalled, self.source_status, cache.read_at):
            await self.probe()  # a source the remembered probe relied on is gone: probe for real
        if budget.stopped is not None:  # the gateway was away: a reboot may bring new firmware
            self._schedule.force(SourceKey.INFO)
        cache.anchor_baseline(read_at=now)
        if cache.production() is None:
            raise budget.failures[0] if budget.failures else EnvoyFeatureUnavailable("no data")
        gw = gateway_summary(self.info, self.host, self.auth_kind, self.role, self.capabilities)
        self._snapshots += 1
        site = self.site_day.zone(self.home, awaiting_home=SourceKey.HOME in self._plan)
        await self._transport.between_updates()
        parts = (cache, self._schedule, self._plan, gw)
        return build_snapshot(*parts, now=now, site=site, gentle=gentle, energy=self.energy_book)

    async def _refresh_info(self, now: float, budget: UpdateBudget) -> None:
        """Re-read /info on its cadence (a firmware change triggers a new probe)."""
        error: EnvoyError | None = None
        try:
            await budget.run(self._read_info())
        except EnvoyError as err:
            error = err
            self._cache.fail(SourceKey.INFO, str(err))
        budget.record(error)
        record = self._schedule.record_failure if error else self._schedule.record_success
        record(SourceKey.INFO, now)

    async def _update_one(self, source: Source[Any], now: float, budget: UpdateBudget) -> None:
        key, cache = source.key, self._cache
        error: Exception
        retry = budget.retry() and key not in self._deferred  # first read: once, no retries
        try:
            value = await budget.run(read_source(self._transport, self._auth, source, retry=retry))
        except SourceRefused as refused:
            self.source_status[key], reprobe = refused.status, (self._next_reprobe, now)
            self._next_reprobe = recovery.after_refusal(
                key, refused.status, (cache.read_at, self._plan, self._schedule), reprobe
            )
            error, message = refused, f"{source.path}: {refused}"
        except (EnvoyConnectionError, EnvoyHTTPError, EnvoyParseError) as err:
            note = " (the gateway restarts nightly around 23:00)" if budget.gentle else ""
            error, message = err, f"{err}{note}"
            budget.failures.append(err)
        else:
            budget.record(None)
            self._accept(key, value, now)
            return
        budget.record(error)
        self._schedule.record_failure(key, now)
        recovery.record_failure(cache, key, message, self._schedule.state(key).failures)
        if key == cache.production_key and demotes(error, self._schedule.state(key).failures):
            await self._switch_production(now, message)

    def _accept(self, key: SourceKey, value: Any, now: float) -> None:
        """A good answer: cached, unless a firmware guard sets it aside (then asked again)."""
        cache, glitch = self._cache, self._cache.set_aside(key, value, now)
        if glitch is not None:
            cache.notes[key] = glitch
            self._schedule.force(key)
            return
        self.source_status[key] = SourceStatus.OK
        cache.put(key, value, now)
        self._schedule.record_success(key, now, self._cache.report_time(key))
        if key == cache.awaited_production:  # late at start-up: now the probe's own choice
            parts = (cache, self.info, self.source_status, self._schedule.overrides)
            self.capabilities, self._plan, self._deferred = recovery.settle_late_production(*parts)
        self._settle_deferred(key)
        if key == cache.preferred_production and key != cache.production_key:
            use_production(cache, self._plan, self._schedule.overrides, key, None)  # back again

    async def _switch_production(self, now: float, why: str) -> None:
        """The production source keeps failing: serve production from the next one."""
        chain, current = producing.production_chain(self.info.fw), self._cache.production_key
        for key in chain[chain.index(current) + 1 :] if current in chain else chain:
            if await self._try(key, now) is not None:
                use_production(self._cache, self._plan, self._schedule.overrides, key, why)
                self._schedule.record_success(key, now)
                return

"""`Envoy`: connect, authenticate, probe and update, on every firmware, gently.

    async with Envoy("192.168.1.50", token="eyJ...") as envoy:
        snapshot = await envoy.update()

The facade only wires the layers together and keeps their state: `net`
talks to the gateway (one request at a time, retries, authentication chosen
by firmware), `engine` decides (which sources to probe, which are due, which
one serves production, how the snapshot is assembled from the `SourceCache`)
and `control` writes. Every decision lives in one of those; what is here is
the order of the I/O.

One failing optional source never sinks an update: its section keeps its last
data (with the time it was fresh) and the snapshot's `errors` says why. Only
having no production data at all is fatal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp

from .capabilities import Capability, SourceStatus
from .control import Control
from .engine.cache import SourceCache
from .engine.flows import CtBaseline, ct_counters
from .engine.joins import compose_meters
from .engine.outage import in_outage_window, zone
from .engine.probe import (
    base_candidates,
    derive,
    enabled_cts,
    ensemble_candidates,
    followups,
    judge_password,
    plan,
)
from .engine.production import prefers_v1, production_chain, wants_v1
from .engine.schedule import Schedule, newest_report
from .engine.snapshot import build_snapshot, gateway_summary
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
from .models.snapshot import GatewaySummary, Snapshot
from .net.backoff import RetryPolicy
from .net.credentials import CloudUrls, Credentials, choose_authenticator
from .net.digest import DigestAuth
from .net.exchange import Authenticator, HttpResult, Timeouts
from .net.reader import SourceRefused, read_source
from .net.stats import TransportStats
from .net.token_auth import TokenAuth
from .net.token_store import TokenStore
from .net.transport import CertificateTrust, Transport, Verify
from .sources.keys import SourceKey
from .sources.registry import Role, Source, Speed
from .sources.table import SOURCES

__all__ = ["CloudUrls", "Envoy"]

_LOGGER = logging.getLogger("enphase_local.client")


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
        pin: str | None = None,
        verify: Verify = False,
    ) -> None:
        self.host = host
        cloud = cloud or CloudUrls()
        self._credentials = Credentials(token, username, password, token_store, cloud)
        self._session = session
        self._clock = clock
        self._sleep = sleep
        self._control: Control | None = None
        self._transport = Transport(
            host,
            session=session,
            scheme=scheme,
            keepalive=keepalive,
            max_in_flight=max_in_flight,
            timeouts=timeouts or Timeouts(),
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
        self._cache = SourceCache()
        self._schedule = Schedule()
        self._plan: dict[SourceKey, float] = {}
        self._update_task: asyncio.Task[Snapshot] | None = None
        self._connected = False
        self._live_feed = LiveFeed()

    # -- lifecycle ------------------------------------------------------------

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
            raise EnvoyError(
                "not connected: use `async with Envoy(...)` or `await envoy.connect()`"
            )
        return self._info

    @property
    def firmware(self) -> Firmware:
        return self.info.fw

    @property
    def home(self) -> HomeInfo | None:
        home: HomeInfo | None = self._cache.get(SourceKey.HOME)
        return home

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
            claims = self._auth.claims
            return claims.role if claims is not None else None
        return self._digest_role

    async def connect(self, *, probe: bool = True) -> None:
        """Read identity, set up authentication, and probe what the gateway has.

        ``probe=False`` stops after authentication: enough for `request` and
        `read`, and much faster on a slow gateway (the probe asks a dozen
        endpoints); `update` completes the probe when first called.
        """
        await self._read_info()
        self._auth, self.auth_kind, self._digest_role = choose_authenticator(
            self.info, self._credentials, session=self._session, clock=self._clock
        )
        if probe:
            await self.probe()
            self._connected = True

    async def _read_info(self) -> GatewayInfo:
        await self._transport.detect_scheme()
        result = await self._transport.request("GET", "/info", speed=Speed.FAST, auth=None)
        if result.status != 200:
            raise EnvoyHTTPError(
                result.status,
                "/info",
                f"the gateway answered HTTP {result.status} for /info: is this an Enphase gateway?",
            )
        info: GatewayInfo = SOURCES[SourceKey.INFO].parse(result.body)
        self._cache.put(SourceKey.INFO, info, self._clock())
        changed = self._info is not None and info.fw != self._info.fw
        if changed and self._info is not None:
            _LOGGER.info(
                "firmware changed from %s to %s: probing again", self._info.firmware, info.firmware
            )
        self._info = info
        if changed:
            await self.probe()
        return info

    # -- probe ----------------------------------------------------------------

    async def probe(self) -> None:
        """Find out once which sources answer, and so what the gateway can do."""
        fw = self.info.fw
        now = self._clock()
        cache = self._cache
        cache.production_key = None
        for key in production_chain(fw):
            if await self._try(key, now) is not None:
                cache.production_key = key
                break
        if cache.production_key is None:
            self._check_digest_password()
            raise EnvoyFeatureUnavailable(
                f"no production source answered on {self.host} (firmware {self.info.firmware}): "
                f"{'; '.join(cache.errors.values()) or 'nothing to read'}"
            )
        key, report = cache.production_key, cache.production()
        v1 = await self._try(SourceKey.PRODUCTION_V1, now) if wants_v1(key, report) else None
        if prefers_v1(key, report, v1, fw=fw, metered=self.info.imeter):
            cache.production_key = SourceKey.PRODUCTION_V1
        for key in base_candidates(fw, self.info.imeter, cache.values):
            await self._try(key, now)
        ensemble = ensemble_candidates(fw)
        for key in ensemble:
            await self._try(key, now)
        for key in followups(cache.get(SourceKey.ENSEMBLE_INVENTORY), cache.production()):
            await self._try(key, now)
        if fw.at_least(7):
            await self._try(SourceKey.HOME, now)
        self._check_digest_password()
        self.capabilities = derive(cache.values, cache.production())
        self._plan = plan(
            self.capabilities,
            production_key=cache.production_key,
            cts=enabled_cts(cache.get(SourceKey.METERS)),
            ensemble_probed=bool(ensemble),
        )
        for key, status in self.source_status.items():
            if status in (SourceStatus.FORBIDDEN, SourceStatus.ABSENT):
                self._plan.pop(key, None)  # remembered: never asked again until a re-probe
        self._schedule = Schedule(overrides=dict(self._plan))
        for key in self._plan:
            if key in cache.read_at:
                self._schedule.record_success(key, cache.read_at[key], self._report_time(key))
        self._anchor_baseline()

    def _check_digest_password(self) -> None:
        """Digest password never accepted: fatal only if nothing answered (engine.probe)."""
        auth = self._auth
        if not isinstance(auth, DigestAuth) or auth.verified:
            return
        refusal = judge_password(self.source_status, auth.username)
        if refusal is not None and refusal.fatal:
            raise EnvoyBadCredentialsError(refusal.message)
        if refusal is not None:
            self._cache.fail(refusal.key, refusal.message)

    async def _try(self, key: SourceKey, now: float) -> Any:
        """Probe one source: its model, or None (and its status recorded)."""
        source = SOURCES[key]
        if source.role is Role.INSTALLER and self.role != "installer":
            self.source_status[key] = SourceStatus.FORBIDDEN
            return None
        try:
            value = await read_source(self._transport, self._auth, source)
        except SourceRefused as refused:
            self.source_status[key] = refused.status
            return None
        except (EnvoyConnectionError, EnvoyHTTPError, EnvoyParseError) as err:
            self.source_status[key] = SourceStatus.FAILED
            self._cache.fail(key, str(err))
            return None
        self.source_status[key] = SourceStatus.OK
        self._cache.put(key, value, now)
        return value

    # -- fetching ---------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        speed: Speed = Speed.FAST,
        retry: bool | None = None,
    ) -> HttpResult:
        """An authenticated request to any path, answered whatever its status.

        Writes (anything but GET) are never retried.
        """
        if retry is None:
            retry = method.upper() == "GET"
        return await self._transport.request(
            method, path, speed=speed, auth=self._auth, json=json, retry=retry
        )

    async def read(self, key: str) -> Any:
        """Fetch and parse one source now, bypassing the cadence (the control layer reads back)."""
        source = SOURCES[SourceKey(key)]
        try:
            value = await read_source(self._transport, self._auth, source)
        except SourceRefused as refused:
            raise EnvoyFeatureUnavailable(
                f"{source.path} is not available on this gateway ({refused})"
            ) from None
        self._cache.put(source.key, value, self._clock())
        return value

    def _report_time(self, key: SourceKey) -> float | None:
        return newest_report(key, self._cache.get(key), self._cache.production_key)

    def _anchor_baseline(self) -> None:
        """Remember the CT counters as production.json was read (see engine.flows)."""
        meters = compose_meters(
            self._cache.get(SourceKey.METERS), self._cache.get(SourceKey.METERS_READINGS)
        )
        self._cache.baseline = CtBaseline(ct_counters(meters)[0])

    def live(self, interval: float = 1.0, **options: Any) -> AsyncIterator[LiveFrame]:
        """Balanced power flows every `interval` s until you break out (docs/live.md)."""
        parts = (self._transport, lambda: self._auth, self._cache, self.source_status)
        link = LiveLink(*parts, self._live_feed, self.update, self._clock, self._sleep, self.host)
        return live_frames(link, LiveOptions(interval=interval, **options))

    # -- update -----------------------------------------------------------------

    async def update(self) -> Snapshot:
        """A complete snapshot, asking the gateway only for what can have changed.

        Concurrent calls share one update.
        """
        if not self._connected:
            if self._auth is None:
                await self.connect()
            else:  # connected with probe=False: finish the job
                await self.probe()
                self._connected = True
        task = self._update_task
        if task is None or task.done():
            task = self._update_task = asyncio.ensure_future(self._update())
        return await asyncio.shield(task)

    async def _update(self) -> Snapshot:
        now = self._clock()
        cache = self._cache
        home = self.home
        tz = zone(home.timezone if home else None)
        info_source = SOURCES[SourceKey.INFO]
        if SourceKey.INFO in self._plan and self._schedule.next_due(info_source) <= now:
            try:
                await self._read_info()
            except EnvoyError as err:
                cache.fail(SourceKey.INFO, str(err))
        gentle = in_outage_window(now, tz)
        self._force_new_day(now, tz)
        due = self._schedule.due([SOURCES[k] for k in self._plan if k != SourceKey.INFO], now)
        due = [s for s in due if not self._live_feed.serves(s.key, now)]  # live() reads them
        production_due = any(s.key == cache.production_key for s in due)
        failures: list[EnvoyError] = []
        for source in due:
            await self._update_one(source, now, gentle, failures)
        key = cache.production_key
        if production_due and key is not None and cache.read_at.get(key) == now:
            self._anchor_baseline()
        if cache.production() is None:
            raise failures[0] if failures else EnvoyFeatureUnavailable("no production data")
        return build_snapshot(
            cache, self._schedule, self._plan, self._summary(), now=now, tz=tz, gentle=gentle
        )

    def _summary(self) -> GatewaySummary:
        return gateway_summary(self.info, self.host, self.auth_kind, self.role, self.capabilities)

    async def _update_one(
        self, source: Source[Any], now: float, gentle: bool, failures: list[EnvoyError]
    ) -> None:
        key = source.key
        cache = self._cache
        try:
            value = await read_source(self._transport, self._auth, source, retry=not gentle)
        except SourceRefused as refused:
            self.source_status[key] = refused.status
            self._schedule.record_failure(key, now)
            if refused.status is SourceStatus.ABSENT:
                self._schedule.force(SourceKey.INFO)  # an endpoint vanished: firmware may differ
            self._plan.pop(key, None)
            cache.fail(key, f"{source.path}: {refused}")
            if key == cache.production_key:
                await self._switch_production(now)
            return
        except (EnvoyConnectionError, EnvoyHTTPError, EnvoyParseError) as err:
            self._schedule.record_failure(key, now)
            note = " (the gateway restarts nightly around 23:00)" if gentle else ""
            cache.fail(key, f"{err}{note}")
            failures.append(err)
            if key == cache.production_key and isinstance(err, EnvoyParseError):
                await self._switch_production(now)
            return
        cache.put(key, value, now)
        self._schedule.record_success(key, now, self._report_time(key))

    async def _switch_production(self, now: float) -> None:
        """The production source stopped working: move along the chain."""
        chain = production_chain(self.info.fw)
        current = self._cache.production_key
        for key in chain[chain.index(current) + 1 :] if current in chain else chain:
            if await self._try(key, now) is not None:
                period = self._plan.pop(current, 0.0) if current else 0.0
                self._cache.production_key = key
                self._plan[key] = period
                self._schedule.overrides[key] = period
                self._schedule.record_success(key, now)
                return

    def _force_new_day(self, now: float, tz: Any) -> None:
        """After local midnight, re-read production so daily counters restart from it."""
        key = self._cache.production_key
        if tz is None or key is None or key not in self._cache.read_at:
            return
        last = datetime.fromtimestamp(self._cache.read_at[key], tz).date()
        if datetime.fromtimestamp(now, tz).date() != last:
            self._schedule.force(key)

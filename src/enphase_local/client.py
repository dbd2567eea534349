"""`Envoy`: connect, authenticate, probe and update, on every firmware, gently.

    async with Envoy("192.168.1.50", token="eyJ...") as envoy:
        snapshot = await envoy.update()

The facade wires the layers together: `Transport` (one request at a time,
retries, errors), an `Authenticator` chosen by firmware (digest before 7,
tokens from 7), the probe (`probe.py`) that finds what the gateway has, the
`Schedule` that decides what is worth asking on each update, and `compose`
that assembles a `Snapshot` from the freshest data of every source.

One failing optional source never sinks an update: its section keeps its last
data (with the time it was fresh) and the snapshot's `errors` says why. Only
having no production data at all is fatal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from .auth import Authenticator, DigestAuth, TokenAuth, installer_password, owner_password
from .backoff import RetryPolicy
from .capabilities import Capability, SourceStatus
from .compose import CtBaseline, as_report, compose_meters, ct_counters
from .errors import (
    EnvoyAuthError,
    EnvoyBadCredentialsError,
    EnvoyConnectionError,
    EnvoyError,
    EnvoyFeatureUnavailable,
    EnvoyHTTPError,
    EnvoyParseError,
)
from .firmware import Firmware
from .models.gateway import GatewayInfo, HomeInfo
from .models.snapshot import Snapshot
from .outage import in_outage_window, zone
from .probe import base_candidates, derive, enabled_cts, ensemble_candidates, plan
from .quirks import production_chain
from .scheduler import Schedule
from .snapshot_builder import build_snapshot
from .sources.registry import Role, Source, Speed
from .sources.table import SOURCES
from .tokens import DEFAULT_ENLIGHTEN_URL, DEFAULT_ENTREZ_URL, TokenStore, fetch_cloud_token
from .transport import HttpResult, Timeouts, Transport, TransportStats

if TYPE_CHECKING:
    from .control import Control

__all__ = ["CloudUrls", "Envoy"]

_LOGGER = logging.getLogger("enphase_local.client")

_ENSEMBLE_FOLLOWUPS = (
    "ensemble_power",
    "ensemble_secctrl",
    "dry_contacts",
    "dry_contact_settings",
    "generator",
    "gen_config",
    "gen_mode",
    "gen_schedule",
    "tariff",
    "livedata",
    "pel_settings",
)


class _Skip(Exception):
    """A source answered but has nothing for us (absent, forbidden): not an error."""

    def __init__(self, status: SourceStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status


@dataclass(frozen=True, slots=True)
class CloudUrls:
    """Base URLs of the Enlighten login and the Entrez token service (tests point them locally)."""

    enlighten: str = DEFAULT_ENLIGHTEN_URL
    entrez: str = DEFAULT_ENTREZ_URL


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
    ) -> None:
        self.host = host
        self._token = token
        self._username = username
        self._password = password
        self._session = session
        self._store = token_store
        self._cloud = cloud or CloudUrls()
        self._clock = clock
        self._sleep = sleep
        self._control: Any = None
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
        )
        self._auth: Authenticator | None = None
        self.auth_kind = "none"
        self._digest_role: str | None = None
        self._info: GatewayInfo | None = None
        self._home: HomeInfo | None = None
        self.capabilities: frozenset[Capability] = frozenset()
        self.source_status: dict[str, SourceStatus] = {}
        self._data: dict[str, Any] = {}
        self._fresh: dict[str, float] = {}
        self._errors: dict[str, str] = {}
        self._schedule = Schedule()
        self._plan: dict[str, float] = {}
        self._production_key: str | None = None
        self._baseline = CtBaseline()
        self._state: dict[str, Any] = {}  # counter guards and day tracking (snapshot_builder)
        self._update_task: asyncio.Task[Snapshot] | None = None
        self._connected = False

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
        return self._home

    @property
    def control(self) -> Control:
        """Write actions (storage mode, reserve, relay, contacts, generator, ACB), read back."""
        if self._control is None:
            from .control import Control

            self._control = Control(self, clock=self._clock, sleep=self._sleep)
        control: Control = self._control
        return control

    @property
    def stats(self) -> TransportStats:
        """Requests made, per endpoint, with timings."""
        return self._transport.stats

    async def connect(self, *, probe: bool = True) -> None:
        """Read identity, set up authentication, and probe what the gateway has.

        ``probe=False`` stops after authentication: enough for `request` and
        `read`, and much faster on a slow gateway (the probe asks a dozen
        endpoints); `update` completes the probe when first called.
        """
        await self._read_info()
        await self._setup_auth()
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
        info: GatewayInfo = SOURCES["info"].parse(result.body)
        now = self._clock()
        self._record("info", info, now)
        if self._info is not None and info.fw != self._info.fw:
            _LOGGER.info(
                "firmware changed from %s to %s: probing again", self._info.firmware, info.firmware
            )
            self._info = info
            await self.probe()
        self._info = info
        return info

    async def _setup_auth(self) -> None:
        info = self.info
        if not info.fw.uses_tokens and not info.web_tokens:
            user = self._username or "envoy"
            password = self._password
            if password is None:
                password = (
                    installer_password(info.serial)
                    if user == "installer"
                    else owner_password(info.serial)
                )
            self._auth = DigestAuth(user, password)
            self.auth_kind = "digest"
            self._digest_role = "installer" if user == "installer" else "owner"
            return
        token = self._token or (self._store.get(info.serial) if self._store else None)
        provider = self._cloud_provider() if self._username and self._password else None
        if token is None and provider is None:
            raise EnvoyAuthError(
                f"this gateway (firmware {info.firmware}) needs a token: pass token=..., or your "
                "Enlighten username and password, or run `enphase token` to get and store one"
            )
        self._auth = TokenAuth(token, token_provider=provider, clock=self._clock)
        self.auth_kind = "token"

    @property
    def role(self) -> str | None:
        """``"owner"`` or ``"installer"``: what the credentials in use may read."""
        if isinstance(self._auth, TokenAuth):
            claims = self._auth.claims
            return claims.role if claims is not None else None
        return self._digest_role

    def _cloud_provider(self) -> Callable[[], Awaitable[str]]:
        async def provide() -> str:
            assert self._username and self._password and self._info
            owns = self._session is None
            session = self._session or aiohttp.ClientSession()
            try:
                token = await fetch_cloud_token(
                    session,
                    username=self._username,
                    password=self._password,
                    serial=self._info.serial,
                    enlighten_url=self._cloud.enlighten,
                    entrez_url=self._cloud.entrez,
                )
            finally:
                if owns:
                    await session.close()
            if self._store is not None:
                self._store.put(self._info.serial, token)
            return token

        return provide

    # -- probe ----------------------------------------------------------------

    async def probe(self) -> None:
        """Find out once which sources answer, and so what the gateway can do."""
        fw = self.info.fw
        now = self._clock()
        for key in production_chain(fw):
            if await self._try(key, now) is not None:
                self._production_key = key
                break
        if self._production_key is None:
            raise EnvoyFeatureUnavailable(
                f"no production source answered on {self.host} (firmware {self.info.firmware}): "
                f"{'; '.join(self._errors.values()) or 'nothing to read'}"
            )
        await self._prefer_v1_without_ct(now)
        self._data["production"] = as_report(self._data[self._production_key])
        for key in base_candidates(fw, self.info.imeter):
            await self._try(key, now)
        ensemble = ensemble_candidates(fw)
        for key in ensemble:
            await self._try(key, now)
        inv = self._data.get("ensemble_inventory")
        if inv is not None and (inv.encharge or inv.enpower or inv.collar):
            for key in _ENSEMBLE_FOLLOWUPS:
                await self._try(key, now)
        report = self._data["production"]
        if report is not None and report.acb is not None:
            await self._try("inventory", now)
            await self._try("ensemble_secctrl", now)
        if fw.at_least(7):
            await self._try("home", now)
        self._check_digest_password()
        self.capabilities = derive(self._data)
        cts = enabled_cts(self._data.get("meters"))
        self._plan = plan(
            self.capabilities,
            production_key=self._production_key,
            cts=cts,
            ensemble_probed=bool(ensemble),
        )
        for key, status in self.source_status.items():
            if status in (SourceStatus.FORBIDDEN, SourceStatus.ABSENT):
                self._plan.pop(key, None)  # remembered: never asked again until a re-probe
        self._schedule = Schedule(overrides=dict(self._plan))
        for key in self._plan:
            if key in self._fresh:
                self._schedule.record_success(key, self._fresh[key], self._report_time(key))
        self._anchor_baseline()

    async def _prefer_v1_without_ct(self, now: float) -> None:
        """Non-metered sites: /api/v1/production has today's and the week's counters.

        production.json's inverters section lacks them, and v1 is a fast endpoint.
        On metered units without CTs v1 is all zero (and stalls from 8.2.4264),
        so they keep production.json's inverters section.
        """
        report = as_report(self._data[self._production_key or ""])
        if self._production_key not in ("production_json", "production") or report is None:
            return
        if report.production is not None or self.info.imeter:
            return
        if await self._try("production_v1", now) is not None:
            self._production_key = "production_v1"

    def _check_digest_password(self) -> None:
        """Digest refusals everywhere and no success anywhere: the password is wrong.

        A single refusal proves nothing (3.x refuses /production even with good
        credentials), so this is judged once the probe has asked everything.
        """
        auth = self._auth
        if not isinstance(auth, DigestAuth) or auth.verified:
            return
        if SourceStatus.FORBIDDEN in self.source_status.values():
            raise EnvoyBadCredentialsError(
                f"the gateway refused the password for user {auth.username!r}: check it "
                "(before firmware 7 the owner password is the last 6 digits of the serial)"
            )

    async def _try(self, key: str, now: float) -> Any:
        """Probe one source: its model, or None (and its status recorded)."""
        source = SOURCES[key]
        if source.role is Role.INSTALLER and self.role != "installer":
            self.source_status[key] = SourceStatus.FORBIDDEN
            return None
        try:
            value = await self._fetch(source)
        except _Skip as skip:
            self.source_status[key] = skip.status
            return None
        except (EnvoyConnectionError, EnvoyHTTPError, EnvoyParseError) as err:
            self.source_status[key] = SourceStatus.FAILED
            self._errors[key] = str(err)
            return None
        self.source_status[key] = SourceStatus.OK
        self._record(key, value, now)
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

    async def _fetch(self, source: Source[Any], *, retry: bool = True) -> Any:
        auth = None if source.role is Role.PUBLIC else self._auth
        # A refused token raises EnvoyAuthError from the authenticator and propagates:
        # that is a credentials problem, not this endpoint's.
        result = await self._transport.request(
            "GET", source.path, speed=source.speed, auth=auth, retry=retry
        )
        if result.status in (401, 403):
            # The credentials work (the token passed check_jwt) but this endpoint refuses
            # them: installer-only, or a firmware quirk (gateway.md section 5). Stop asking.
            raise _Skip(SourceStatus.FORBIDDEN, f"HTTP {result.status}")
        if result.status == 404:
            raise _Skip(SourceStatus.ABSENT, "HTTP 404")
        if result.status != 200:
            raise EnvoyHTTPError(result.status, source.path)
        try:
            return source.parse(result.body)
        except EnvoyParseError as err:
            if err.gateway_error is not None:
                raise _Skip(SourceStatus.ABSENT, err.gateway_error) from err
            raise

    async def read(self, key: str) -> Any:
        """Fetch and parse one source now, bypassing the cadence (the control layer reads back)."""
        source = SOURCES[key]
        try:
            value = await self._fetch(source)
        except _Skip as skip:
            raise EnvoyFeatureUnavailable(
                f"{source.path} is not available on this gateway ({skip})"
            ) from None
        self._record(key, value, self._clock())
        return value

    def _record(self, key: str, value: Any, now: float) -> None:
        self._data[key] = value
        self._fresh[key] = now
        self._errors.pop(key, None)
        if key == "home":
            self._home = value
        if key == self._production_key:
            self._data["production"] = as_report(value)
            self._fresh["production"] = now

    def _report_time(self, key: str) -> float | None:
        value = self._data.get(key)
        if key == "device_data" and value is not None:
            times = [d.last_report for d in value.inverters.values()]
            return float(max(times)) if times else None
        if key == "inverters_v1" and value:
            return float(max(i.last_report for i in value.values()))
        if key == self._production_key:
            report = as_report(value)
            inverters = report.inverters if report is not None else None
            if inverters and inverters.reading_time and report and report.production is None:
                return float(inverters.reading_time)
        return None

    def _anchor_baseline(self) -> None:
        """Remember the CT counters as production.json was read (see compose.carry_forward)."""
        meters = compose_meters(self._data.get("meters"), self._data.get("meters_readings"))
        self._baseline = CtBaseline(ct_counters(meters)[0])

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
        tz = zone(self._home.timezone if self._home else None)
        if self._schedule.next_due(SOURCES["info"]) <= now and "info" in self._plan:
            try:
                await self._read_info()
            except EnvoyError as err:
                self._errors["info"] = str(err)
        gentle = in_outage_window(now, tz)
        self._force_new_day(now, tz)
        due = self._schedule.due([SOURCES[k] for k in self._plan if k != "info"], now)
        production_due = any(s.key == self._production_key for s in due)
        failures: list[EnvoyError] = []
        for source in due:
            await self._update_one(source, now, gentle, failures)
        if (
            production_due
            and self._production_key in self._fresh
            and (self._fresh[self._production_key] == now)
        ):
            self._anchor_baseline()
        if self._data.get("production") is None:
            raise failures[0] if failures else EnvoyFeatureUnavailable("no production data")
        return build_snapshot(self, now, tz, gentle)

    async def _update_one(
        self, source: Source[Any], now: float, gentle: bool, failures: list[EnvoyError]
    ) -> None:
        key = source.key
        try:
            value = await self._fetch(source, retry=not gentle)
        except _Skip as skip:
            self.source_status[key] = skip.status
            self._schedule.record_failure(key, now)
            if skip.status is SourceStatus.ABSENT:
                self._schedule.force("info")  # an endpoint vanished: firmware may have changed
            self._plan.pop(key, None)
            self._errors[key] = f"{source.path}: {skip}"
            if key == self._production_key:
                await self._switch_production(now)
            return
        except (EnvoyConnectionError, EnvoyHTTPError, EnvoyParseError) as err:
            self._schedule.record_failure(key, now)
            note = " (the gateway restarts nightly around 23:00)" if gentle else ""
            self._errors[key] = f"{err}{note}"
            failures.append(err)
            if key == self._production_key and isinstance(err, EnvoyParseError):
                await self._switch_production(now)
            return
        self._record(key, value, now)
        self._schedule.record_success(key, now, self._report_time(key))

    async def _switch_production(self, now: float) -> None:
        """The production source stopped working: move along the chain."""
        chain = production_chain(self.info.fw)
        current = self._production_key
        for key in chain[chain.index(current) + 1 :] if current in chain else chain:
            if await self._try(key, now) is not None:
                period = self._plan.pop(current, 0.0) if current else 0.0
                self._production_key = key
                self._plan[key] = period
                self._schedule.overrides[key] = period
                self._schedule.record_success(key, now)
                return

    def _force_new_day(self, now: float, tz: Any) -> None:
        """After local midnight, re-read production.json so daily counters restart from it."""
        key = self._production_key
        if tz is None or key is None or key not in self._fresh:
            return
        last = datetime.fromtimestamp(self._fresh[key], tz).date()
        if datetime.fromtimestamp(now, tz).date() != last:
            self._schedule.force(key)

    # -- accessors used by snapshot_builder ------------------------------------

    def data(self, key: str) -> Any:
        return self._data.get(key)

    def fresh(self, key: str) -> float | None:
        return self._fresh.get(key)

    def current_as_of(self, key: str, now: float) -> float | None:
        """Up to when `key`'s data is known current: `now` while its cadence says it cannot
        have changed (or it was read now), else the time of its last successful read."""
        fetched = self._fresh.get(key)
        if fetched is None:
            return None
        if fetched >= now:
            return now
        if key in self._plan and self._schedule.next_due(SOURCES[key]) > now:
            return now
        return fetched

    def error(self, key: str) -> str | None:
        return self._errors.get(key)

    @property
    def production_key(self) -> str | None:
        return self._production_key

    @property
    def baseline(self) -> CtBaseline:
        return self._baseline

    @property
    def guard_state(self) -> dict[str, Any]:
        return self._state

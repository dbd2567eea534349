"""The Enphase cloud's battery-configuration service, simulated: writes reach the site late.

Why: the cloud battery route is only worth what its tests prove, and the
real service is slow in a precise way (cloud.md section 1): a write is
accepted at once and listed under ``requestedConfig`` with the gateway in
``pendingGateways``; the gateway applies it 10-20 s later; the top-level
values catch up only when the gateway reports in, 5-15 minutes after. So a
change here is a `_Change` with two times, `gateway_at` and `catchup_at`
(`gateway_delay_s`, `catchup_s`), and reaches the simulated site through
`CloudSiteBackend.cloud_apply` at `gateway_at` - unless the site's gateway
is offline (`CloudSite.online` false): then it never arrives.

Also enforced, as the real service does: the session cookie and the
``Username`` header (else a 302 to the login page), a fresh XSRF token on
every write (``BP-XSRF-Token`` cookie from a GET, or for EMEA sites the
``x-csrf-token`` header of siteSettings), the ITC disclaimer before charge
from grid where the site needs it, and per-profile reserve memory.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import orjson
from aiohttp import web

from .cloud_accounts import CloudAccount, CloudGate, CloudSession

__all__ = ["API", "BatteryConfigService", "CloudSite", "CloudSiteBackend"]

Handler = Callable[[web.Request], Awaitable[web.Response]]

API = "/service/batteryConfig/api/v1"
PROFILE_MODES = {"self-consumption": "self-consumption", "cost_savings": "economy"}
PROFILE_MODES["backup_only"] = "backup"
MODE_PROFILES = {v: k for k, v in PROFILE_MODES.items()}


@runtime_checkable
class CloudSiteBackend(Protocol):
    """What the battery service needs of a simulated site (`backend.SiteBackend` has it)."""

    @property
    def serial(self) -> str: ...

    def cloud_apply(self, changes: dict[str, Any], at: float) -> None: ...

    def cloud_initial(self) -> dict[str, Any]: ...


@dataclass(slots=True)
class _Change:
    values: dict[str, Any]  # wire keys, as the client sent them (after the cloud's own rules)
    gateway_at: float | None  # None: the gateway never gets it
    catchup_at: float


@dataclass(slots=True)
class CloudSite:
    """One site as the cloud holds it: committed settings, changes on their way, knobs."""

    site_id: str
    serial: str
    backend: CloudSiteBackend
    settings: dict[str, Any]
    timezone: str
    emea: bool = False
    itc_required: bool = True
    online: bool = True  # False: the gateway never picks changes up
    pending: list[_Change] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    csrf: str = ""
    writes: int = 0

    def settle(self, now: float) -> None:
        # the top level catches up when the gateway reports in: never, for a change it never got
        for change in [c for c in self.pending if c.gateway_at is not None and now >= c.catchup_at]:
            self.settings.update(change.values)
            self.pending.remove(change)

    def effective(self, key: str) -> Any:
        for change in reversed(self.pending):
            if key in change.values:
                return change.values[key]
        return self.settings.get(key)

    def document(self, now: float) -> dict[str, Any]:
        self.settle(now)
        requested: dict[str, Any] = {}
        for change in self.pending:
            requested.update(change.values)
        if self.pending:
            waiting = any(c.gateway_at is None or now < c.gateway_at for c in self.pending)
            requested["pendingGateways"] = [self.serial] if waiting else []
        return {**self.settings, "requestedConfig": requested}


SiteHandler = Callable[[web.Request, CloudSession, CloudSite], Awaitable[web.Response]]


def _initial(backend: CloudSiteBackend) -> tuple[dict[str, Any], str]:
    site = backend.cloud_initial()
    profile = MODE_PROFILES.get(site["mode"], "self-consumption")
    reserve = round(site["reserved_soc"])
    reserves = {"self-consumption": 20, "cost_savings": 20, "backup_only": 100, "expert": 20}
    reserves["ai_optimisation"] = 20
    reserves[profile] = reserve
    settings = {
        "supportsMqtt": True,
        "profile": profile,
        "batteryBackupPercentage": reserve,
        "stormGuardState": "disabled",
        "acceptedItcDisclaimer": None,
        "hideChargeFromGrid": False,
        "envoySupportsVls": True,
        "chargeBeginTime": 120,
        "chargeEndTime": 300,
        "chargeFromGrid": bool(site["charge_from_grid"]),
        "chargeFromGridScheduleEnabled": False,
        "veryLowSoc": round(site["very_low_soc"]),
        "veryLowSocMin": 5,
        "veryLowSocMax": 25,
        "batteryBackupPercentageMin": 5,
        "batteryBackupPercentageMax": 100,
        "previousBatteryBackupPercentage": reserves,
        "siteProfileStatus": "READY",
    }
    return settings, str(site["timezone"])


class BatteryConfigService:
    """The ``batteryConfig`` routes of the emulated Enlighten, over the registered sites."""

    def __init__(self, cloud: CloudGate, *, gateway_delay_s: float = 15.0) -> None:
        self.cloud = cloud
        self.gateway_delay_s = gateway_delay_s
        self.catchup_s = 300.0
        self.sites: dict[str, CloudSite] = {}
        self.refused_xsrf = 0

    def add_site(self, backend: CloudSiteBackend) -> CloudSite:
        serial = backend.serial
        settings, tz = _initial(backend)
        site = CloudSite(f"4{serial[-7:]}", serial, backend, settings, tz)
        self.sites[site.site_id] = site
        return site

    def site(self, serial: str) -> CloudSite:
        """The cloud's site of gateway `serial` (tests set its knobs)."""
        return next(s for s in self.sites.values() if s.serial == serial)

    def first_site(self, account: CloudAccount) -> str | None:
        return next((s.site_id for s in self.sites.values() if account.owns(s.serial)), None)

    def add_routes(self, app: web.Application, base: str) -> None:
        r = app.router
        r.add_get(f"{base}/app-api/search_sites.json", self._search_sites)
        routes: list[tuple[str, str, SiteHandler]] = [
            ("GET", "/siteSettings/{site}", self._site_settings),
            ("GET", "/batterySettings/{site}", self._get_settings),
            ("PUT", "/batterySettings/{site}", self._put_settings),
            ("POST", "/batterySettings/acceptDisclaimer/{site}", self._disclaimer),
            ("GET", "/profile/{site}", self._get_profile),
            ("PUT", "/profile/{site}", self._put_profile),
            ("PUT", "/stormGuard/toggle/{site}", self._storm_guard),
            ("GET", "/battery/sites/{site}/schedules", self._get_schedules),
            ("POST", "/battery/sites/{site}/schedules", self._add_schedule),
            ("POST", "/battery/sites/{site}/schedules/{sid}/delete", self._del_schedule),
        ]
        for method, path, handler in routes:
            r.add_route(method, base + API + path, self._guarded(handler, write=method != "GET"))

    def _guarded(self, handler: SiteHandler, *, write: bool) -> Handler:
        """`handler` behind the gate: it runs only for a live session, on a site it owns."""

        async def guarded(request: web.Request) -> web.Response:
            gate = self._gate(request, write=write)
            if isinstance(gate, web.Response):
                return gate
            session, site = gate
            assert site is not None  # every guarded route names a site
            return await handler(request, session, site)

        return guarded

    # -- gatekeeping ------------------------------------------------------------------

    def _gate(
        self, request: web.Request, *, write: bool
    ) -> tuple[CloudSession, CloudSite | None] | web.Response:
        refused = self.cloud.refusal(request)
        if refused is not None:
            return refused
        session = self.cloud.session_of(request)
        if session is None or request.headers.get("Username") != session.user_id:
            return web.Response(status=302, headers={"Location": "/login"}, text="")
        site = self.sites.get(request.match_info.get("site", ""))
        if "site" in request.match_info and (site is None or not session.account.owns(site.serial)):
            return web.json_response({"message": "Not Found"}, status=404)
        if write and site is not None:
            given = request.headers.get("X-CSRF-Token" if site.emea else "X-XSRF-Token")
            wanted = site.csrf if site.emea else session.xsrf
            if not wanted or not given or not secrets.compare_digest(given, wanted):
                self.refused_xsrf += 1
                return web.json_response({"message": "Invalid XSRF token"}, status=403)
        return session, site

    def _json(self, doc: Any, session: CloudSession, site: CloudSite | None) -> web.Response:
        wrapped = {"type": "battery-details", "timestamp": "2026-12-07T00:00:00Z", "data": doc}
        response = web.json_response(wrapped)
        if site is not None and not site.emea:
            session.xsrf = secrets.token_urlsafe(24)
            response.set_cookie("BP-XSRF-Token", session.xsrf)
        return response

    async def _body(self, request: web.Request) -> dict[str, Any] | None:
        try:
            doc = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return None
        return doc if isinstance(doc, dict) else None

    def _accept(self, site: CloudSite, values: dict[str, Any], gateway: dict[str, Any]) -> None:
        now = self.cloud.clock.now()
        at = now + self.gateway_delay_s if site.online else None
        site.pending.append(_Change(values, at, now + self.catchup_s))
        site.writes += 1
        if at is not None and gateway:
            site.backend.cloud_apply(gateway, at)

    # -- reads ------------------------------------------------------------------------

    async def _search_sites(self, request: web.Request) -> web.Response:
        gate = self._gate(request, write=False)
        if isinstance(gate, web.Response):
            return gate
        session, _ = gate
        sites = [
            {"id": int(s.site_id), "title": f"Site {s.site_id}", "serial_num": [s.serial]}
            for s in self.sites.values()
            if session.account.owns(s.serial)
        ]
        return web.json_response({"sites": sites})

    async def _site_settings(
        self, request: web.Request, session: CloudSession, site: CloudSite
    ) -> web.Response:
        doc = {
            "hasEncharge": True,
            "hasEnpower": True,
            "hasAcb": False,
            "countryCode": "NL" if site.emea else "US",
            "isEmea": site.emea,
            "showChargeFromGrid": True,
            "showSavingsMode": True,
            "showFullBackup": True,
            "userDetails": {"isOwner": not session.account.installer, "isInstaller": False},
        }
        response = self._json(doc, session, None)
        if site.emea:
            site.csrf = secrets.token_urlsafe(24)
            response.headers["x-csrf-token"] = site.csrf
        return response

    async def _get_settings(
        self, request: web.Request, session: CloudSession, site: CloudSite
    ) -> web.Response:
        return self._json(site.document(self.cloud.clock.now()), session, site)

    async def _get_profile(
        self, request: web.Request, session: CloudSession, site: CloudSite
    ) -> web.Response:
        doc = site.document(self.cloud.clock.now())
        answer = {
            "profile": doc["profile"],
            "batteryBackupPercentage": doc["batteryBackupPercentage"],
        }
        return self._json(answer, session, site)

    async def _get_schedules(
        self, request: web.Request, session: CloudSession, site: CloudSite
    ) -> web.Response:
        return self._json({"schedules": site.schedules}, session, site)

    # -- writes -----------------------------------------------------------------------

    async def _put_settings(
        self, request: web.Request, _session: CloudSession, site: CloudSite
    ) -> web.Response:
        body = await self._body(request)
        if not body:
            return _bad("body must be a JSON object with the keys to change")
        site.settle(self.cloud.clock.now())
        gateway: dict[str, Any] = {}
        if "batteryBackupPercentage" in body:
            reserve = body["batteryBackupPercentage"]
            if not _int_in(reserve, 5, 100):
                return _bad("batteryBackupPercentage must be 5..100")
            profile = site.effective("profile")
            if profile == "backup_only" and reserve != 100:
                return _bad("the backup_only profile keeps a reserve of 100")
            reserves = dict(site.effective("previousBatteryBackupPercentage") or {})
            reserves[profile] = reserve
            body["previousBatteryBackupPercentage"] = reserves
            gateway["reserved_soc"] = float(reserve)
        if "veryLowSoc" in body:
            vls = body["veryLowSoc"]
            if not _int_in(vls, site.settings["veryLowSocMin"], site.settings["veryLowSocMax"]):
                return _bad("veryLowSoc is out of the site's range")
            gateway["very_low_soc"] = float(vls)
        if "chargeFromGrid" in body:
            on = body["chargeFromGrid"]
            if not isinstance(on, bool):
                return _bad("chargeFromGrid must be true or false")
            if on and site.itc_required and not site.effective("acceptedItcDisclaimer"):
                return _bad("accept the ITC disclaimer before charging from the grid")
            gateway["charge_from_grid"] = on
        self._accept(site, body, gateway)
        return web.json_response({"message": "success"})

    async def _put_profile(
        self, request: web.Request, _session: CloudSession, site: CloudSite
    ) -> web.Response:
        body = await self._body(request)
        profile = body.get("profile") if body else None
        if profile not in ("self-consumption", "cost_savings", "backup_only", "ai_optimisation"):
            return _bad("unknown profile")
        site.settle(self.cloud.clock.now())
        reserves = dict(site.effective("previousBatteryBackupPercentage") or {})
        assert body is not None
        reserve: Any = body.get("batteryBackupPercentage", reserves.get(profile, 20))
        if profile == "backup_only":
            reserve = 100
        if not _int_in(reserve, 5, 100):
            return _bad("batteryBackupPercentage must be 5..100")
        reserves[profile] = reserve
        values = {
            "profile": profile,
            "batteryBackupPercentage": reserve,
            "previousBatteryBackupPercentage": reserves,
        }
        mode = PROFILE_MODES.get(profile, "self-consumption")
        self._accept(site, values, {"mode": mode, "reserved_soc": float(reserve)})
        return web.json_response({"message": "success"})

    async def _disclaimer(
        self, request: web.Request, _session: CloudSession, site: CloudSite
    ) -> web.Response:
        body = await self._body(request)
        if not body or body.get("disclaimer-type") != "itc":
            return _bad('body must be {"disclaimer-type": "itc"}')
        site.settings["acceptedItcDisclaimer"] = "2026-12-07T00:00:00.000Z"
        return web.json_response({"message": "success"})

    async def _storm_guard(
        self, request: web.Request, _session: CloudSession, site: CloudSite
    ) -> web.Response:
        body = await self._body(request)
        state = body.get("stormGuardState") if body else None
        if state not in ("enabled", "disabled"):
            return _bad('stormGuardState must be "enabled" or "disabled"')
        self._accept(site, {"stormGuardState": state}, {})
        return web.json_response({"message": "success"})

    async def _add_schedule(
        self, request: web.Request, _session: CloudSession, site: CloudSite
    ) -> web.Response:
        body = await self._body(request)
        needed = ("startTime", "endTime", "scheduleType", "days", "limit")
        if not body or any(k not in body for k in needed):
            return _bad(f"a schedule needs {', '.join(needed)}")
        if body["scheduleType"] not in ("CFG", "DTG", "RBD"):
            return _bad("scheduleType must be CFG, DTG or RBD")
        schedule = {**body, "id": secrets.token_hex(6)}
        site.schedules.append(schedule)
        site.writes += 1
        return web.json_response({"message": "success", "id": schedule["id"]})

    async def _del_schedule(
        self, request: web.Request, _session: CloudSession, site: CloudSite
    ) -> web.Response:
        sid = request.match_info["sid"]
        kept = [s for s in site.schedules if s.get("id") != sid]
        if len(kept) == len(site.schedules):
            return web.json_response({"message": "Not Found"}, status=404)
        site.schedules = kept
        site.writes += 1
        return web.json_response({"message": "success"})


def _bad(message: str) -> web.Response:
    return web.json_response({"message": message}, status=400)


def _int_in(value: Any, low: float, high: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high

"""A local stand-in for the Enphase cloud: Enlighten login (with one-time codes) and Entrez.

Why: clients must be able to get a token, and drive the cloud battery route,
without internet in tests and demos (gateway.md section 2, cloud.md section
1). The emulation is mounted on the gateway's own server under `PREFIX`, and
its tokens are signed like the gateway's own, so the whole flow (login ->
token -> check_jwt) is tested end to end. The battery-configuration service
beside it is `battery_cloud.BatteryConfigService`.

    POST {enlighten}/login/login.json?   form user[email], user[password]
         -> {"session_id", "manager_token", "system_id"} + session cookies, 401 if wrong;
            multi-factor accounts: {"success": true, "isBlocked": false} + login_otp_nonce
    POST {enlighten}/app-api/validate_login_otp   form email, otp (base64), X-CSRF-Token
         -> {"isValid": true, "session_id", ...} or {"isValid": false}; 429 after 5 misses
    POST {entrez}/tokens   JSON {"session_id", "serial_num", "username"} -> body: the JWT

Every Enlighten route answers 406 to a User-Agent containing "HomeAssistant",
as Enlighten does since September 2026. Sessions end after `session_ttl_s`
of simulated time (`expire_sessions` ends them now).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import orjson
from aiohttp import web

from ..clock import SimClock
from .auth import INSTALLER_TOKEN_S, OWNER_TOKEN_S, Role, issue_token
from .battery_cloud import BatteryConfigService
from .cloud_accounts import DEFAULT_ACCOUNTS, CloudAccount, CloudSession

if TYPE_CHECKING:
    from .battery_cloud import CloudSiteBackend

__all__ = [
    "DEFAULT_ACCOUNTS",
    "PREFIX",
    "CloudAccount",
    "CloudEmulation",
    "CloudEndpoints",
    "CloudSession",
]

PREFIX = "/__cloud__"
SESSION_COOKIE = "_enlighten_4_session"
MAX_OTP_MISSES = 5


class CloudEndpoints(NamedTuple):
    """Base URLs to give a client instead of enlighten.enphaseenergy.com / entrez."""

    enlighten: str
    entrez: str


@dataclass(slots=True)
class _Pending:
    """A multi-factor login waiting for its code."""

    account: CloudAccount
    xsrf: str
    misses: int = 0


@dataclass(slots=True)
class _Counters:
    logins: int = 0
    tokens: int = 0
    refused: int = 0
    otp_checks: int = 0
    refused_agents: int = 0
    fail_next: list[int] = field(default_factory=list)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class CloudEmulation:
    """Enlighten login, Entrez tokens and the battery service, sharing the simulator's clock."""

    def __init__(
        self,
        accounts: tuple[CloudAccount, ...] = DEFAULT_ACCOUNTS,
        *,
        clock: SimClock,
        session_ttl_s: float = 7 * 86400.0,
    ):
        self.accounts = {a.email.lower(): a for a in accounts}
        self.clock = clock
        self.session_ttl_s = session_ttl_s
        self.sessions: dict[str, CloudSession] = {}
        self._otp: dict[str, _Pending] = {}
        self.counters = _Counters()
        self.battery = BatteryConfigService(self)

    def add_account(self, account: CloudAccount) -> None:
        self.accounts[account.email.lower()] = account

    def add_site(self, backend: CloudSiteBackend) -> None:
        """Make a simulated gateway's site known to the battery service (by its serial)."""
        self.battery.add_site(backend)

    def fail_next(self, n: int = 1, *, status: int = 503) -> None:
        """The next `n` cloud calls answer `status` (the cloud is down, too)."""
        self.counters.fail_next.extend([status] * n)

    def expire_sessions(self) -> None:
        """Every open Enlighten session ends now (the next call is sent to the login page)."""
        for session in self.sessions.values():
            session.expires_at = min(session.expires_at, self.clock.now())

    def user_id(self, account: CloudAccount) -> str:
        return str(4_100_000 + sorted(self.accounts).index(account.email.lower()))

    def urls(self, base: str) -> CloudEndpoints:
        """The emulation's base URLs on a server reachable at `base` (no trailing slash)."""
        return CloudEndpoints(f"{base}{PREFIX}/enlighten", f"{base}{PREFIX}/entrez")

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(f"{PREFIX}/enlighten/login/login.json", self._login)
        app.router.add_post(f"{PREFIX}/enlighten/app-api/validate_login_otp", self._validate_otp)
        app.router.add_post(f"{PREFIX}/entrez/tokens", self._tokens)
        self.battery.add_routes(app, f"{PREFIX}/enlighten")

    def refusal(self, request: web.Request) -> web.Response | None:
        """An injected failure, or the 406 Enlighten gives a Home Assistant User-Agent."""
        if self.counters.fail_next:
            status = self.counters.fail_next.pop(0)
            return web.json_response({"message": "Service unavailable"}, status=status)
        if "homeassistant" in request.headers.get("User-Agent", "").lower():
            self.counters.refused_agents += 1
            return web.Response(status=406, text="Not Acceptable")
        return None

    def session_of(self, request: web.Request) -> CloudSession | None:
        """The live session named by the request's session cookie, if any."""
        sid = request.cookies.get(SESSION_COOKIE, "")
        session = self.sessions.get(sid)
        if session is None or self.clock.now() >= session.expires_at:
            return None
        return session

    def _manager_token(self, account: CloudAccount, user_id: str) -> str:
        header = _b64(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
        claims = {
            "data": {"user_id": int(user_id), "email": account.email, "is_consumer": True},
            "exp": int(self.clock.now() + self.session_ttl_s),
        }
        return f"{header}.{_b64(orjson.dumps(claims))}.{_b64(secrets.token_bytes(16))}"

    def _open(self, account: CloudAccount, answer: dict[str, object]) -> web.Response:
        session_id = secrets.token_hex(16)
        user_id = self.user_id(account)
        self.sessions[session_id] = CloudSession(
            account, user_id, self.clock.now() + self.session_ttl_s
        )
        token = self._manager_token(account, user_id)
        site = self.battery.first_site(account)
        answer.update(
            {
                "session_id": session_id,
                "manager_token": token,
                "is_consumer": not account.installer,
                "system_id": site,
                "redirect_url": "",
            }
        )
        self.counters.logins += 1
        response = web.json_response(answer)
        response.set_cookie(SESSION_COOKIE, session_id)
        response.set_cookie("enlighten_manager_token_production", token)
        return response

    async def _login(self, request: web.Request) -> web.Response:
        refused = self.refusal(request)
        if refused is not None:
            return refused
        form = await request.post()
        email = str(form.get("user[email]", "")).lower()
        password = str(form.get("user[password]", ""))
        account = self.accounts.get(email)
        if account is None or not secrets.compare_digest(account.password, password):
            self.counters.refused += 1
            return web.json_response({"message": "Invalid email or password"}, status=401)
        if not account.mfa:
            return self._open(account, {"message": "success"})
        nonce, xsrf = secrets.token_hex(16), secrets.token_urlsafe(24)
        self._otp[nonce] = _Pending(account, xsrf)
        response = web.json_response({"success": True, "isBlocked": False})
        response.set_cookie("login_otp_nonce", nonce)
        response.set_cookie("XSRF-TOKEN", xsrf)
        return response

    async def _validate_otp(self, request: web.Request) -> web.Response:
        refused = self.refusal(request)
        if refused is not None:
            return refused
        self.counters.otp_checks += 1
        pending = self._otp.get(request.cookies.get("login_otp_nonce", ""))
        if pending is None or request.headers.get("X-CSRF-Token") != pending.xsrf:
            return web.json_response({"message": "Invalid login attempt"}, status=401)
        if pending.misses >= MAX_OTP_MISSES:
            return web.json_response({"isValid": False, "isBlocked": True}, status=429)
        form = await request.post()
        try:
            email = base64.b64decode(str(form.get("email", ""))).decode().lower()
            code = base64.b64decode(str(form.get("otp", ""))).decode()
        except ValueError:
            return web.json_response({"message": "Bad request"}, status=400)
        account = pending.account
        if email != account.email.lower() or not secrets.compare_digest(code, account.otp):
            pending.misses += 1
            self.counters.refused += 1
            blocked = pending.misses >= MAX_OTP_MISSES
            return web.json_response({"isValid": False, "isBlocked": blocked})
        del self._otp[request.cookies["login_otp_nonce"]]
        return self._open(account, {"isValid": True, "isBlocked": False})

    async def _tokens(self, request: web.Request) -> web.Response:
        refused = self.refusal(request)
        if refused is not None:
            return refused
        try:
            body = orjson.loads(await request.read())
            session_id = str(body["session_id"])
            serial = str(body["serial_num"])
            username = str(body["username"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return web.Response(status=400, text="Bad request")
        session = self.sessions.get(session_id)
        account = session.account if session is not None else None
        if account is None or account.email.lower() != username.lower():
            self.counters.refused += 1
            return web.Response(status=401, text="Unauthorized")
        if not account.owns(serial):
            self.counters.refused += 1
            return web.Response(status=403, text="This gateway does not belong to the account")
        role: Role = "installer" if account.installer else "owner"
        token = issue_token(
            serial,
            role,
            now=self.clock.now(),
            username=account.email,
            valid_for_s=INSTALLER_TOKEN_S if account.installer else OWNER_TOKEN_S,
        )
        self.counters.tokens += 1
        return web.Response(text=token, content_type="text/plain")

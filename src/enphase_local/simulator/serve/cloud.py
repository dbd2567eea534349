"""A local stand-in for the two Enphase cloud calls that turn a login into a token.

Why: clients must be able to get a token without internet in tests and
demos (gateway.md section 2). The emulation is mounted on the gateway's own
server under `PREFIX`, and its tokens are signed like the gateway's own, so
the whole flow (login -> token -> check_jwt) is tested end to end.

    POST {enlighten}/login/login.json?   form user[email], user[password]
         -> {"session_id", "manager_token", "is_consumer"} (no session_id with MFA), 401 if wrong
    POST {entrez}/tokens   JSON {"session_id", "serial_num", "username"} -> body: the JWT
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson
from aiohttp import web

from ..clock import SimClock
from .auth import INSTALLER_TOKEN_S, OWNER_TOKEN_S, Role, issue_token

__all__ = [
    "DEFAULT_ACCOUNTS",
    "PREFIX",
    "CloudAccount",
    "CloudEmulation",
    "CloudEndpoints",
]

PREFIX = "/__cloud__"


class CloudEndpoints(NamedTuple):
    """Base URLs to give a client instead of enlighten.enphaseenergy.com / entrez."""

    enlighten: str
    entrez: str


@dataclass(frozen=True, slots=True)
class CloudAccount:
    """An Enlighten account. `serials` None means every gateway belongs to it."""

    email: str
    password: str
    mfa: bool = False
    installer: bool = False
    serials: frozenset[str] | None = None


DEFAULT_ACCOUNTS = (
    CloudAccount("owner@example.com", "owner-password"),
    CloudAccount("mfa@example.com", "mfa-password", mfa=True),
)


@dataclass(slots=True)
class _Counters:
    logins: int = 0
    tokens: int = 0
    refused: int = 0
    fail_next: list[int] = field(default_factory=list)


class CloudEmulation:
    """Enlighten login and Entrez token service, sharing the simulator's clock."""

    def __init__(self, accounts: tuple[CloudAccount, ...] = DEFAULT_ACCOUNTS, *, clock: SimClock):
        self.accounts = {a.email.lower(): a for a in accounts}
        self.clock = clock
        self._sessions: dict[str, CloudAccount] = {}
        self.counters = _Counters()

    def add_account(self, account: CloudAccount) -> None:
        self.accounts[account.email.lower()] = account

    def fail_next(self, n: int = 1, *, status: int = 503) -> None:
        """The next `n` cloud calls answer `status` (the cloud is down, too)."""
        self.counters.fail_next.extend([status] * n)

    def urls(self, base: str) -> CloudEndpoints:
        """The emulation's base URLs on a server reachable at `base` (no trailing slash)."""
        return CloudEndpoints(f"{base}{PREFIX}/enlighten", f"{base}{PREFIX}/entrez")

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(f"{PREFIX}/enlighten/login/login.json", self._login)
        app.router.add_post(f"{PREFIX}/entrez/tokens", self._tokens)

    def _injected_failure(self) -> web.Response | None:
        if self.counters.fail_next:
            status = self.counters.fail_next.pop(0)
            return web.json_response({"message": "Service unavailable"}, status=status)
        return None

    async def _login(self, request: web.Request) -> web.Response:
        failure = self._injected_failure()
        if failure is not None:
            return failure
        form = await request.post()
        email = str(form.get("user[email]", "")).lower()
        password = str(form.get("user[password]", ""))
        account = self.accounts.get(email)
        if account is None or not secrets.compare_digest(account.password, password):
            self.counters.refused += 1
            return web.json_response({"message": "Invalid email or password"}, status=401)
        self.counters.logins += 1
        answer: dict[str, object] = {
            "message": "success",
            "manager_token": secrets.token_urlsafe(24),
            "is_consumer": not account.installer,
        }
        if account.mfa:
            answer["message"] = "Multi-factor authentication required"
            answer["requires_mfa"] = True
        else:
            session_id = secrets.token_hex(16)
            self._sessions[session_id] = account
            answer["session_id"] = session_id
        return web.json_response(answer)

    async def _tokens(self, request: web.Request) -> web.Response:
        failure = self._injected_failure()
        if failure is not None:
            return failure
        try:
            body = orjson.loads(await request.read())
            session_id = str(body["session_id"])
            serial = str(body["serial_num"])
            username = str(body["username"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return web.Response(status=400, text="Bad request")
        account = self._sessions.get(session_id)
        if account is None or account.email.lower() != username.lower():
            self.counters.refused += 1
            return web.Response(status=401, text="Unauthorized")
        if account.serials is not None and serial not in account.serials:
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

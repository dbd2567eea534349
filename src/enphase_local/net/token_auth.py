"""Token authentication for firmware 7 and later: bearer token plus session cookie.

Apart from digest (`auth`) because it has a job of its own: keeping a token
and a gateway session alive. The session is opened once with
``/auth/check_jwt`` because checking a token is expensive for the gateway;
its ``sessionId`` cookie is attached explicitly because aiohttp's cookie jar
drops cookies of IP hosts; tokens are renewed ahead of expiry when a
provider can make new ones. `auth` re-exports everything public here.

Tokens and cookies are never logged nor put in error messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from http.cookies import CookieError, SimpleCookie

from ..errors import EnvoyBadCredentialsError, EnvoyError, EnvoyTokenExpiredError
from ..sources.registry import Speed
from .claims import TokenClaims
from .exchange import HttpResult, Sender

__all__ = [
    "CHECK_JWT_PATH",
    "OWNER_RENEW_AHEAD_S",
    "SHORT_RENEW_AHEAD_S",
    "TokenAuth",
    "TokenProvider",
]

# The logger name predates this module; kept so logging configurations still apply.
_LOGGER = logging.getLogger("enphase_local.auth")

CHECK_JWT_PATH = "/auth/check_jwt"
OWNER_RENEW_AHEAD_S = 30 * 24 * 3600  # Home Assistant's rule for year-long owner tokens
SHORT_RENEW_AHEAD_S = 3600  # installer tokens last about 12 hours
_SHORT_TOKEN_S = 2 * 24 * 3600  # a token of unknown role living less than this is "short"
_RENEW_RETRY_AFTER_S = 3600  # after a failed renew-ahead, keep the old token this long

TokenProvider = Callable[[], Awaitable[str]]


class TokenAuth:
    """Bearer token plus ``sessionId`` cookie, for firmware 7 and later.

    The session is opened once with ``GET /auth/check_jwt`` and reused. On a
    401/403 the session is renewed first; when the gateway refuses the token
    itself, a new token is asked of `token_provider` (if any), and only then
    is a typed error raised. When the token is accepted but the endpoint
    still refuses, the refusal is handed to the caller (installer-only
    endpoints answer 401 to owners). Tokens are renewed ahead of expiry
    (owner tokens when fewer than 30 days are left, short installer tokens
    under one hour) when a provider is available.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        token_provider: TokenProvider | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if token is None and token_provider is None:
            raise ValueError("give a token, a token_provider, or both")
        self._provider = token_provider
        self._clock = clock
        self._token: str | None = None
        self._claims: TokenClaims | None = None
        self._session_id: str | None = None
        self._checked = False  # check_jwt accepted the current token
        self._lock: asyncio.Lock | None = None
        self._renew_failed_at: float | None = None
        if token is not None:
            self._set_token(token)

    def __repr__(self) -> str:
        role = self._claims.role if self._claims else "none"
        return f"TokenAuth(role={role!r}, session={'open' if self._checked else 'none'})"

    @property
    def claims(self) -> TokenClaims | None:
        """Claims of the current token (never the token itself)."""
        return self._claims

    @property
    def token(self) -> str | None:
        """The current token, for storing it (e.g. in a `TokenStore`). Never log it."""
        return self._token

    def _set_token(self, token: str) -> None:
        self._claims = TokenClaims.decode(token)  # malformed: EnvoyBadCredentialsError
        self._token = token.strip()
        self._session_id = None
        self._checked = False

    def _get_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def renew_ahead_s(self) -> float:
        """How long before expiry the token is renewed."""
        claims = self._claims
        if claims is None or claims.role == "installer":
            return SHORT_RENEW_AHEAD_S
        lifetime = (claims.expires_at or 0) - (claims.issued_at or 0)
        if claims.role == "unknown" and claims.issued_at and 0 < lifetime < _SHORT_TOKEN_S:
            return SHORT_RENEW_AHEAD_S
        return OWNER_RENEW_AHEAD_S

    def _renewal_due(self, now: float) -> bool:
        if self._provider is None or self._claims is None:
            return False
        left = self._claims.seconds_left(now)
        if left is None or left > self.renew_ahead_s():
            return False
        failed = self._renew_failed_at
        return left <= 0 or failed is None or now - failed >= _RENEW_RETRY_AFTER_S

    async def headers(self, transport: Sender, method: str, path: str) -> Mapping[str, str]:
        async with self._get_lock():
            now = self._clock()
            if self._token is None:
                await self._new_token()
            elif self._renewal_due(now):
                await self._renew_ahead(now)
            if not self._checked and not await self._check(transport):
                await self._token_refused(transport)
            return self._current_headers()

    def _current_headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._token}"}
        if self._session_id:
            headers["Cookie"] = f"sessionId={self._session_id}"
        return headers

    async def _new_token(self) -> None:
        assert self._provider is not None  # __init__ demands a token or a provider
        self._set_token(await self._provider())
        self._renew_failed_at = None
        _LOGGER.debug("new token obtained (role %s)", self._claims.role if self._claims else "?")

    async def _renew_ahead(self, now: float) -> None:
        try:
            await self._new_token()
        except EnvoyError as err:
            self._renew_failed_at = now
            if self._claims is not None and self._claims.expired(now):
                raise
            _LOGGER.warning(
                "could not renew the gateway token ahead of expiry (%s); using the current "
                "one, retrying in an hour",
                type(err).__name__,
            )

    async def _check(self, transport: Sender) -> bool:
        """Open a session with check_jwt; False when the gateway refuses the token."""
        result = await transport.send(
            "GET", CHECK_JWT_PATH, speed=Speed.FAST, headers=self._current_headers_bearer()
        )
        if result.status in (401, 403):
            self._session_id = None
            self._checked = False
            return False
        self._session_id = _session_cookie(result.headers.getall("Set-Cookie", []))
        # Without a cookie (or without check_jwt, 404) the bearer header alone
        # is used; checking again would cost the gateway for nothing.
        self._checked = True
        _LOGGER.debug(
            "check_jwt -> %d, session %s", result.status, "open" if self._session_id else "none"
        )
        return True

    def _current_headers_bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    async def _token_refused(self, transport: Sender) -> None:
        """The gateway refused the token: get a new one from the provider or raise."""
        if self._provider is not None:
            await self._new_token()
            if await self._check(transport):
                return
        self._raise_refused()

    def _raise_refused(self) -> None:
        claims = self._claims
        fix = (
            "get a new one with `enphase token`, give your Enlighten username and password, "
            "or paste a new token"
        )
        if claims is not None and claims.expired(self._clock()):
            assert claims.expires_at is not None
            when = datetime.fromtimestamp(claims.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
            raise EnvoyTokenExpiredError(f"the gateway token expired on {when}: {fix}")
        raise EnvoyBadCredentialsError(
            f"the gateway refused the token (role {claims.role if claims else 'unknown'}): "
            f"check that it was issued for this gateway's serial number, or {fix}"
        )

    async def handle_refusal(
        self, transport: Sender, result: HttpResult, *, sent: Mapping[str, str], attempt: int
    ) -> bool:
        if attempt > 0:
            return False  # renewed already and still refused: the endpoint is closed to us
        async with self._get_lock():
            if dict(sent) != self._current_headers():
                return True  # another request renewed the session or token meanwhile
            _LOGGER.debug("%s refused with %d: renewing the session", result.path, result.status)
            if not await self._check(transport):
                await self._token_refused(transport)
            return True

    def accepted(self, result: HttpResult) -> None:
        """Nothing to learn: the session stays valid while used."""


def _session_cookie(set_cookies: list[str]) -> str | None:
    for header in set_cookies:
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(header)
        except CookieError:
            continue
        if "sessionId" in cookie and cookie["sessionId"].value:
            return cookie["sessionId"].value
    return None

"""Authentication to the gateway: HTTP digest before firmware 7, token and session after.

An `Authenticator` adds headers to each request and, when the gateway
answers 401 or 403, decides whether renewing something is worth one more
try. The transport owns the loop; authenticators own the credentials.

- `DigestAuth` (firmware before 7): RFC 7616 digest, implemented here so the
  nonce is remembered and every request after the first costs one round
  trip instead of two (challenge, then answer).
- `TokenAuth` (firmware 7 and later): ``Authorization: Bearer`` plus the
  ``sessionId`` cookie obtained once from ``/auth/check_jwt`` (checking a
  token is expensive for the gateway) and attached explicitly (aiohttp's
  cookie jar drops cookies of IP hosts).

Tokens, passwords and cookies are never logged nor put in error messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Protocol

from .errors import EnvoyBadCredentialsError, EnvoyError, EnvoyTokenExpiredError
from .sources.registry import Speed
from .tokens import TokenClaims

if TYPE_CHECKING:
    from .transport import HttpResult, Transport

__all__ = [
    "CHECK_JWT_PATH",
    "Authenticator",
    "DigestAuth",
    "TokenAuth",
    "installer_password",
    "owner_password",
]

_LOGGER = logging.getLogger("enphase_local.auth")

CHECK_JWT_PATH = "/auth/check_jwt"
OWNER_RENEW_AHEAD_S = 30 * 24 * 3600  # Home Assistant's rule for year-long owner tokens
SHORT_RENEW_AHEAD_S = 3600  # installer tokens last about 12 hours
_SHORT_TOKEN_S = 2 * 24 * 3600  # a token of unknown role living less than this is "short"
_RENEW_RETRY_AFTER_S = 3600  # after a failed renew-ahead, keep the old token this long


class Authenticator(Protocol):
    """What the transport asks of an authentication scheme."""

    async def headers(self, transport: Transport, method: str, path: str) -> Mapping[str, str]:
        """Headers (credentials, cookies) for the next request to `path`."""
        ...

    async def handle_refusal(
        self, transport: Transport, result: HttpResult, *, sent: Mapping[str, str], attempt: int
    ) -> bool:
        """The gateway answered 401/403 to a request sent with `sent` headers.

        Renew what needs renewing and return True to have the request sent
        once more, False to hand the refusal to the caller; or raise an
        `EnvoyAuthError` when the credentials themselves are refused.
        `attempt` counts the refusals already handled for this request.
        """
        ...

    def accepted(self, result: HttpResult) -> None:
        """The gateway accepted a request (any status but 401/403)."""
        ...


# -- passwords before firmware 7 -----------------------------------------------


def owner_password(serial: str) -> str:
    """Digest password of user ``envoy``: the last 6 characters of the serial."""
    return serial.strip()[-6:]


def installer_password(serial: str) -> str:
    """Digest password of user ``installer``, derived from the serial (gateway.md section 2)."""
    digest = hashlib.md5(
        f"[e]installer@enphaseenergy.com#{serial.strip()} EnPhAsE eNeRgY ".encode(),
        usedforsecurity=False,
    ).hexdigest()
    zeros, ones = digest.count("0"), digest.count("1")
    out = []
    for char in digest[::-1][:8]:
        if zeros in (3, 6, 9):
            zeros -= 1
        zeros = max(0, min(zeros, 20))
        if ones in (9, 15):
            ones -= 1
        ones = max(0, min(ones, 26))
        if char == "0":
            out.append(chr(ord("f") + zeros))
            zeros -= 1
        elif char == "1":
            out.append(chr(ord("@") + ones))
            ones -= 1
        else:
            out.append(char)
    return "".join(out)


# -- digest --------------------------------------------------------------------

_PARAM = re.compile(r'([A-Za-z][\w-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')
_HASHES: dict[str, Callable[[bytes], str]] = {
    "MD5": lambda b: hashlib.md5(b, usedforsecurity=False).hexdigest(),
    "SHA-256": lambda b: hashlib.sha256(b).hexdigest(),
}


@dataclass(slots=True)
class _Challenge:
    realm: str
    nonce: str
    algorithm: str
    qop: str | None
    opaque: str | None
    stale: bool
    nc: int = 0


def _parse_challenge(values: list[str]) -> _Challenge | None:
    """The first usable ``WWW-Authenticate: Digest ...`` challenge, or None."""
    for value in values:
        scheme, _, rest = value.strip().partition(" ")
        if scheme.lower() != "digest":
            continue
        params = {k.lower(): v.strip('"').replace('\\"', '"') for k, v in _PARAM.findall(rest)}
        algorithm = params.get("algorithm", "MD5").upper()
        base_algorithm = algorithm.removesuffix("-SESS")
        if "nonce" not in params or base_algorithm not in _HASHES:
            continue
        qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
        if qops and "auth" not in qops:
            continue  # only auth-int is offered: we do not hash bodies
        return _Challenge(
            realm=params.get("realm", ""),
            nonce=params["nonce"],
            algorithm=algorithm,
            qop="auth" if qops else None,
            opaque=params.get("opaque"),
            stale=params.get("stale", "").lower() == "true",
        )
    return None


class DigestAuth:
    """HTTP digest for firmware before 7 (users ``envoy`` and ``installer``).

    The nonce of the last challenge is reused with an increasing nonce
    count, so only the very first request (and one after the gateway
    declares the nonce stale) pays for a challenge round trip.

    A 401 that survives a fresh challenge is handed to the caller: on old
    firmware some endpoints refuse even good credentials, and some are for
    the installer only. `verified` tells whether the credentials were ever
    accepted, so the caller can tell a wrong password from a closed door.
    """

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._password = password
        self._challenge: _Challenge | None = None
        self.verified = False

    def __repr__(self) -> str:
        return f"DigestAuth(username={self.username!r})"

    @classmethod
    def for_owner(cls, serial: str) -> DigestAuth:
        return cls("envoy", owner_password(serial))

    @classmethod
    def for_installer(cls, serial: str) -> DigestAuth:
        return cls("installer", installer_password(serial))

    async def headers(self, transport: Transport, method: str, path: str) -> Mapping[str, str]:
        challenge = self._challenge
        if challenge is None:
            return {}
        challenge.nc += 1
        return {"Authorization": self._authorization(challenge, method, path)}

    def _authorization(self, ch: _Challenge, method: str, uri: str) -> str:
        hash_ = _HASHES[ch.algorithm.removesuffix("-SESS")]
        cnonce = secrets.token_hex(8)
        nc = f"{ch.nc:08x}"
        ha1 = hash_(f"{self.username}:{ch.realm}:{self._password}".encode())
        if ch.algorithm.endswith("-SESS"):
            ha1 = hash_(f"{ha1}:{ch.nonce}:{cnonce}".encode())
        ha2 = hash_(f"{method}:{uri}".encode())
        if ch.qop:
            response = hash_(f"{ha1}:{ch.nonce}:{nc}:{cnonce}:{ch.qop}:{ha2}".encode())
        else:
            response = hash_(f"{ha1}:{ch.nonce}:{ha2}".encode())
        parts = [
            f'username="{self.username}"',
            f'realm="{ch.realm}"',
            f'nonce="{ch.nonce}"',
            f'uri="{uri}"',
            f"algorithm={ch.algorithm}",
            f'response="{response}"',
        ]
        if ch.opaque is not None:
            parts.append(f'opaque="{ch.opaque}"')
        if ch.qop:
            parts += [f"qop={ch.qop}", f"nc={nc}", f'cnonce="{cnonce}"']
        return "Digest " + ", ".join(parts)

    async def handle_refusal(
        self, transport: Transport, result: HttpResult, *, sent: Mapping[str, str], attempt: int
    ) -> bool:
        challenge = _parse_challenge(result.headers.getall("WWW-Authenticate", []))
        if challenge is None:
            return False  # a refusal without a digest challenge: nothing to answer
        current = self._challenge
        sent_nonce = _sent_nonce(sent)
        self._challenge = challenge
        if current is None or sent_nonce is None:
            return True  # first challenge: answer it
        if sent_nonce != current.nonce:
            return True  # another request renewed the nonce meanwhile
        if challenge.stale or challenge.nonce != current.nonce:
            return attempt == 0  # our nonce expired: one more try with the new one
        return False

    def accepted(self, result: HttpResult) -> None:
        if self._challenge is not None:
            self.verified = True


def _sent_nonce(sent: Mapping[str, str]) -> str | None:
    value = sent.get("Authorization", "")
    if not value.startswith("Digest "):
        return None
    params = dict(_PARAM.findall(value[7:]))
    nonce = params.get("nonce")
    return nonce.strip('"') if nonce else None


# -- tokens --------------------------------------------------------------------

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

    async def headers(self, transport: Transport, method: str, path: str) -> Mapping[str, str]:
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

    async def _check(self, transport: Transport) -> bool:
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

    async def _token_refused(self, transport: Transport) -> None:
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
        self, transport: Transport, result: HttpResult, *, sent: Mapping[str, str], attempt: int
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

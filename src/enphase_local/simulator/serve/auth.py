"""Credentials a simulated gateway accepts: digest passwords, JWTs and sessions.

Why the simulator signs its own tokens: real tokens are signed by Enphase
and clients never verify them, so any HS256 JWT with the right claims is as
good as a real one for a client, and the simulator can still tell a forged
or tampered token (wrong signature) from a genuine one. All times come from
the simulated clock, so tests expire tokens and sessions by moving it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import jwt

__all__ = [
    "DIGEST_REALM",
    "INSTALLER_TOKEN_S",
    "OWNER_TOKEN_S",
    "SESSION_IDLE_S",
    "DigestVerifier",
    "IssuedClaims",
    "Role",
    "SessionStore",
    "decode_token",
    "installer_password",
    "issue_token",
    "latest_sequence",
    "owner_password",
    "parse_digest",
]

Role = Literal["owner", "installer"]

OWNER_TOKEN_S = 365 * 24 * 3600
INSTALLER_TOKEN_S = 12 * 3600
SESSION_IDLE_S = 600.0
DIGEST_REALM = "enphaseenergy.com"

# One secret per process: every gateway of a fleet and the cloud emulation
# share it; the `aud` claim (the serial) keeps tokens from crossing gateways.
_SECRET = secrets.token_bytes(32)


class _Sequence:
    """Numbers tokens (claim ``jti``) so "expire every token now" can revoke by number."""

    last = 0

    @classmethod
    def next(cls) -> int:
        cls.last += 1
        return cls.last


def owner_password(serial: str) -> str:
    """Digest password of user ``envoy``: the last six characters of the serial."""
    return serial[-6:]


def installer_password(serial: str) -> str:
    """Digest password of user ``installer``, derived from the serial (gateway.md section 2)."""
    text = "[e]installer@enphaseenergy.com#" + serial + " EnPhAsE eNeRgY "
    digest = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
    zeros = digest.count("0")
    ones = digest.count("1")
    out = []
    for char in digest[::-1][:8]:
        if zeros in (3, 6, 9):
            zeros -= 1
        zeros = min(max(zeros, 0), 20)
        if ones in (9, 15):
            ones -= 1
        ones = min(max(ones, 0), 26)
        if char == "0":
            out.append(chr(ord("f") + zeros))
            zeros -= 1
        elif char == "1":
            out.append(chr(ord("@") + ones))
            ones -= 1
        else:
            out.append(char)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class IssuedClaims:
    """What the gateway reads from a token it accepted."""

    role: Role
    username: str
    serial: str
    issued_at: int
    expires_at: int
    sequence: int


def issue_token(
    serial: str, role: Role, *, now: float, username: str = "", valid_for_s: float | None = None
) -> str:
    """A JWT for gateway `serial`, as Enphase's token service would issue it."""
    if valid_for_s is None:
        valid_for_s = OWNER_TOKEN_S if role == "owner" else INSTALLER_TOKEN_S
    issued = int(now)
    claims = {
        "aud": serial,
        "iss": "Entrez",
        "enphaseUser": role,
        "username": username or f"{role}@example.com",
        "iat": issued,
        "exp": int(now + valid_for_s),
        "jti": str(_Sequence.next()),
    }
    return jwt.encode(claims, _SECRET, algorithm="HS256")


def latest_sequence() -> int:
    """Number of the most recent token issued by this process (tokens up to it can be revoked)."""
    return _Sequence.last


def decode_token(token: str, serial: str, *, now: float) -> IssuedClaims | None:
    """The claims of a token this gateway accepts at `now`, or None (401)."""
    try:
        claims = jwt.decode(
            token,
            _SECRET,
            algorithms=["HS256"],
            audience=serial,
            options={"verify_exp": False, "verify_iat": False, "require": ["exp", "aud"]},
        )
        role = claims["enphaseUser"]
        expires = int(claims["exp"])
        sequence = int(claims.get("jti", "0"))
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None
    if role not in ("owner", "installer") or expires <= now:
        return None
    return IssuedClaims(
        role=role,
        username=str(claims.get("username", "")),
        serial=serial,
        issued_at=int(claims.get("iat", 0)),
        expires_at=expires,
        sequence=sequence,
    )


@dataclass(slots=True)
class _Session:
    role: Role
    last_used: float
    expires_at: float


class SessionStore:
    """``sessionId`` cookies: valid while used at least every `idle_s` simulated seconds."""

    __slots__ = ("_sessions", "idle_s")

    def __init__(self, idle_s: float = SESSION_IDLE_S) -> None:
        self.idle_s = idle_s
        self._sessions: dict[str, _Session] = {}

    def create(self, claims: IssuedClaims, now: float) -> str:
        if len(self._sessions) > 2000:
            self._prune(now)
        session_id = secrets.token_hex(16)
        self._sessions[session_id] = _Session(claims.role, now, claims.expires_at)
        return session_id

    def use(self, session_id: str, now: float) -> Role | None:
        """The role of a live session (and keep it alive), or None."""
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if now - session.last_used > self.idle_s or now >= session.expires_at:
            del self._sessions[session_id]
            return None
        session.last_used = max(session.last_used, now)
        return session.role

    def expire_all(self) -> None:
        self._sessions.clear()

    def __len__(self) -> int:
        return len(self._sessions)

    def _prune(self, now: float) -> None:
        dead = [
            sid
            for sid, s in self._sessions.items()
            if now - s.last_used > self.idle_s or now >= s.expires_at
        ]
        for sid in dead:
            del self._sessions[sid]


_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_digest(header: str) -> dict[str, str] | None:
    """The parameters of an ``Authorization: Digest ...`` header, or None."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    return {m[1].lower(): m[2] if m[2] or not m[3] else m[3] for m in _PARAM.finditer(rest)}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class DigestVerifier:
    """HTTP digest (RFC 7616, MD5, qop=auth) as legacy gateways do it.

    Nonces are remembered (the most recent few thousand) and may be reused
    with any nonce count, as clients that cache the challenge do.
    """

    __slots__ = ("_nonces", "users")

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self._nonces: OrderedDict[str, None] = OrderedDict()

    def challenge(self) -> str:
        """A ``WWW-Authenticate`` value with a fresh nonce."""
        nonce = secrets.token_urlsafe(21)
        self._nonces[nonce] = None
        while len(self._nonces) > 4096:
            self._nonces.popitem(last=False)
        return f'Digest qop="auth", realm="{DIGEST_REALM}", nonce="{nonce}"'

    def forget_nonces(self) -> None:
        self._nonces.clear()

    def verify(self, method: str, request_uri: str, header: str) -> str | None:
        """The user name when `header` proves its password, else None."""
        params = parse_digest(header)
        if params is None:
            return None
        user = params.get("username", "")
        password = self.users.get(user)
        nonce = params.get("nonce", "")
        uri = params.get("uri", "")
        if password is None or nonce not in self._nonces or not _same_uri(uri, request_uri):
            return None
        if params.get("algorithm", "MD5").upper() != "MD5":
            return None
        ha1 = _md5(f"{user}:{params.get('realm', '')}:{password}")
        ha2 = _md5(f"{method}:{uri}")
        qop = params.get("qop")
        if qop == "auth":
            nc, cnonce = params.get("nc", ""), params.get("cnonce", "")
            expected = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        elif qop is None:
            expected = _md5(f"{ha1}:{nonce}:{ha2}")
        else:
            return None
        if params.get("realm") != DIGEST_REALM:
            return None
        if not secrets.compare_digest(expected, params.get("response", "").lower()):
            return None
        return user


def _same_uri(claimed: str, actual: str) -> bool:
    """Digest `uri` must name the requested resource (path, and query when sent)."""
    return claimed == actual or claimed.split("?", 1)[0] == actual.split("?", 1)[0]

"""A gateway token's claims: expiry, role, serial, read without verifying the signature.

Firmware 7 and later wants a JWT issued by Enphase's cloud (gateway.md
section 2). The client cannot verify its signature and does not need to: it
only reads the expiry and the role to know when to renew.

A token is a password: it never appears in logs, errors or reprs.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from ..errors import EnvoyBadCredentialsError

__all__ = ["GET_A_TOKEN", "Role", "TokenClaims"]

Role = Literal["owner", "installer", "unknown"]

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")

GET_A_TOKEN = (
    "run `enphase token` with your Enlighten username and password, "
    "or paste a token copied from the Enphase website"
)


def _int_claim(claims: dict[str, Any], key: str) -> int | None:
    value = claims.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _str_claim(claims: dict[str, Any], key: str) -> str | None:
    value = claims.get(key)
    if isinstance(value, list) and len(value) == 1:  # "aud" may be a one-item list
        value = value[0]
    return value if isinstance(value, str) and value else None


def _b64_json(part: str) -> Any:
    """A base64url JSON segment of a JWT, or None when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return orjson.loads(raw)
    except (ValueError, orjson.JSONDecodeError):
        return None


def _payload(token: str) -> dict[str, Any] | None:
    """The claims of a JWS compact token (header.payload.signature), signature unchecked.

    Why not a JWT library: we never verify (only the gateway can), so
    decoding is base64url and JSON, and the core package stays free of
    PyJWT and its crypto import cost.
    """
    parts = token.split(".")
    if len(parts) != 3 or not all(_SEGMENT.fullmatch(p) for p in parts[:2]):
        return None
    header, claims = _b64_json(parts[0]), _b64_json(parts[1])
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    if parts[2] and not _SEGMENT.fullmatch(parts[2]):
        return None
    return claims


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a gateway token says about itself (never the token itself).

    `expires_at` and `issued_at` are epoch seconds; `serial` is the gateway
    the token was issued for (the ``aud`` claim).
    """

    expires_at: int | None
    issued_at: int | None
    role: Role
    username: str | None
    serial: str | None

    @classmethod
    def decode(cls, token: str) -> TokenClaims:
        """Read the claims without verifying the signature.

        Raises `EnvoyBadCredentialsError` when the text is not a JWT (a
        truncated paste, quotes, or a session id given instead of a token).
        """
        claims = _payload(token.strip())
        if claims is None:
            raise EnvoyBadCredentialsError(
                "this is not a valid gateway token (it should be three dot-separated parts "
                f"starting with 'eyJ'): check that the whole token was pasted, or {GET_A_TOKEN}"
            )
        user = claims.get("enphaseUser")
        role: Role = user if user in ("owner", "installer") else "unknown"
        return cls(
            expires_at=_int_claim(claims, "exp"),
            issued_at=_int_claim(claims, "iat"),
            role=role,
            username=_str_claim(claims, "username"),
            serial=_str_claim(claims, "aud"),
        )

    def seconds_left(self, now: float) -> float | None:
        """Seconds until expiry (negative once expired), None when the token has no expiry."""
        return None if self.expires_at is None else self.expires_at - now

    def expired(self, now: float) -> bool:
        """True once the expiry has passed; a token without expiry never expires."""
        left = self.seconds_left(now)
        return left is not None and left <= 0

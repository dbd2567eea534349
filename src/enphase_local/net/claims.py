"""A gateway token's claims: expiry, role, serial, read without verifying the signature.

Firmware 7 and later wants a JWT issued by Enphase's cloud (gateway.md
section 2). The client cannot verify its signature and does not need to: it
only reads the expiry and the role to know when to renew.

A token is a password: it never appears in logs, errors or reprs.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from ..errors import EnvoyBadCredentialsError

__all__ = ["GET_A_TOKEN", "Role", "TokenClaims"]

Role = Literal["owner", "installer", "unknown"]

GET_A_TOKEN = (
    "run `enphase token` with your Enlighten username and password, "
    "or paste a token copied from the Enphase website"
)


def _segment(text: str) -> bytes:
    """One base64url segment of a JWT, padding restored; `ValueError` if it is not base64url."""
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a compact JWS (``header.payload.signature``), signature unchecked.

    Decoded here with base64url and orjson rather than a JWT library: nothing
    is verified (the client cannot check Enphase's signature), so a library
    would only add its import time (PyJWT loads its crypto algorithms, ~80 ms)
    to every process that reads a token. `ValueError` when the text is not a JWS.
    """
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ValueError(f"a token has 3 dot-separated parts, this has {len(parts)}")
    try:
        header, payload = orjson.loads(_segment(parts[0])), orjson.loads(_segment(parts[1]))
        _segment(parts[2])
    except binascii.Error as err:
        raise ValueError("a token part is not base64url") from err
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ValueError("a token's header and payload are JSON objects")
    return payload


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
        try:
            claims = _unverified_claims(token)
        except ValueError as err:
            raise EnvoyBadCredentialsError(
                "this is not a valid gateway token (it should be three dot-separated parts "
                f"starting with 'eyJ'): check that the whole token was pasted, or {GET_A_TOKEN}"
            ) from err
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

"""HTTP digest authentication (firmware before 7) and the passwords derived from the serial.

RFC 7616 digest, implemented here so the nonce is remembered and every
request after the first costs one round trip instead of two (challenge, then
answer). Passwords are never logged nor put in error messages.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .exchange import HttpResult, Sender

__all__ = ["DigestAuth", "installer_password", "owner_password"]


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

    async def headers(self, transport: Sender, method: str, path: str) -> Mapping[str, str]:
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
        self, transport: Sender, result: HttpResult, *, sent: Mapping[str, str], attempt: int
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

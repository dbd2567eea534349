"""Firmware personalities: which auth scheme a gateway uses and what each role may read.

Why separate from the server: the rules are facts about firmware
(gateway.md sections 1, 2 and 5), the same for the site model and for
replayed captures. `Personality` is the pure rule table; `Gatekeeper` holds
one gateway's credentials (digest nonces, sessions, revoked tokens) and
applies the rules to a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from enphase_local.firmware import Firmware

from .auth import (
    DigestVerifier,
    IssuedClaims,
    Role,
    SessionStore,
    decode_token,
    installer_password,
    latest_sequence,
    owner_password,
)

__all__ = [
    "LEGACY",
    "TOKEN",
    "TOKEN_7X",
    "UNAUTHORIZED_BODY",
    "Access",
    "Gatekeeper",
    "Personality",
    "personality_for",
]

UNAUTHORIZED_BODY = b"<html><body><h2>401 Unauthorized</h2></body></html>\n"

Access = Literal["public", "login", "installer"]

_INSTALLER_ONLY = (
    re.compile(r"^/ivp/peb(/|$)"),
    re.compile(r"^/installer(/|$)"),
    re.compile(r"^/ivp/meters/cts"),
    re.compile(r"^/ivp/mod/[^/]+/mode/power$"),
    re.compile(r"^/ivp/ss/dpel$"),
)
_STREAM_METER = "/stream/meter"
# Installer-only paths an owner may still GET from a firmware on (one live sweep, cloud.md 2).
_OWNER_READS_FROM = {"/ivp/ss/dpel": (8, 3, 5528)}

# Legacy firmware (< 7) asks digest only for these; everything else it serves openly.
_LEGACY_PROTECTED = (
    re.compile(r"^/api/v1/production/inverters$"),
    re.compile(r"^/ivp/"),
    re.compile(r"^/admin/"),
    re.compile(r"^/inventory\.json$"),
    re.compile(r"^/installer(/|$)"),
    re.compile(r"^/stream/"),
)


@dataclass(frozen=True, slots=True)
class Personality:
    """How one firmware family authenticates and which paths each role may read."""

    name: str
    scheme: Literal["digest", "token"]
    public: frozenset[str]
    stream_meter_installer_only: bool = False

    def access(self, path: str, method: str = "GET", firmware: Firmware | None = None) -> Access:
        """What a request for `path` needs: nothing, any login, or the installer.

        With the `firmware` given, an installer-only path some firmware lets an
        owner read (``/ivp/ss/dpel`` from 8.3.5528) needs any login for a GET.
        """
        if path in self.public:
            return "public"
        since = _OWNER_READS_FROM.get(path)
        owner_may = since is not None and firmware is not None and firmware.at_least(*since)
        if owner_may and method == "GET":
            return "login"
        if any(p.search(path) for p in _INSTALLER_ONLY):
            return "installer"
        if path == _STREAM_METER and self.stream_meter_installer_only:
            return "installer"
        if self.scheme == "digest" and not any(p.search(path) for p in _LEGACY_PROTECTED):
            return "public"
        return "login"


LEGACY = Personality(
    name="legacy",
    scheme="digest",
    public=frozenset(
        {"/info", "/info.xml", "/home", "/production", "/production.json", "/api/v1/production"}
    ),
)

TOKEN = Personality(
    name="token",
    scheme="token",
    public=frozenset({"/info", "/info.xml", "/home", "/auth/check_jwt"}),
)

TOKEN_7X = Personality(
    name="token-7.x",
    scheme="token",
    public=TOKEN.public,
    stream_meter_installer_only=True,
)


def personality_for(firmware: str) -> Personality:
    """The personality of a firmware string such as ``D8.2.4345`` or ``R3.9.36``."""
    parsed = Firmware.parse(firmware)
    if not parsed.at_least(7):
        return LEGACY
    if parsed.before(8):
        return TOKEN_7X
    return TOKEN


class Gatekeeper:
    """One gateway's credentials, and the personality's rules applied to requests."""

    def __init__(self, personality: Personality, serial: str) -> None:
        self.personality = personality
        self.serial = serial
        self.passwords = {"envoy": owner_password(serial), "installer": installer_password(serial)}
        self.digest = DigestVerifier(self.passwords)
        self.sessions = SessionStore()
        self._revoked_up_to = 0

    def revoke_all(self) -> None:
        """Every token issued so far, every session and every digest nonce stops working."""
        self._revoked_up_to = latest_sequence()
        self.sessions.expire_all()
        self.digest.forget_nonces()

    def claims(self, token: str, now: float) -> IssuedClaims | None:
        claims = decode_token(token, self.serial, now=now)
        if claims is None or claims.sequence <= self._revoked_up_to:
            return None
        return claims

    @staticmethod
    def bearer(request: web.Request) -> str | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None

    def role(self, request: web.Request, now: float) -> Role | None:
        """Who sent `request` (by digest, session cookie or Bearer token), or None."""
        if self.personality.scheme == "digest":
            header = request.headers.get("Authorization")
            user = self.digest.verify(request.method, request.path_qs, header) if header else None
            if user is None:
                return None
            return "installer" if user == "installer" else "owner"
        session_id = request.cookies.get("sessionId")
        if session_id:
            role = self.sessions.use(session_id, now)
            if role is not None:
                return role
        token = self.bearer(request)
        claims = self.claims(token, now) if token else None
        return claims.role if claims else None

    def refuse(self) -> web.Response:
        """A 401 as this firmware sends it (with a fresh digest challenge on legacy)."""
        headers = {"Content-Type": "text/html"}
        if self.personality.scheme == "digest":
            headers["WWW-Authenticate"] = self.digest.challenge()
        return web.Response(status=401, body=UNAUTHORIZED_BODY, headers=headers)

    def check_jwt(self, request: web.Request, now: float) -> tuple[web.Response, Role | None]:
        """``GET /auth/check_jwt``: 200 and a ``sessionId`` cookie for a good Bearer token."""
        token = self.bearer(request)
        claims = self.claims(token, now) if token else None
        if claims is None:
            return self.refuse(), None
        response = web.Response(
            status=200, body=_VALID_TOKEN, headers={"Content-Type": "text/html"}
        )
        response.set_cookie(
            "sessionId",
            self.sessions.create(claims, now),
            path="/",
            httponly=True,
            secure=request.secure or None,
        )
        return response, claims.role


_VALID_TOKEN = (
    b"<!DOCTYPE html><html><head><title>Envoy</title></head>"
    b"<body><h2>Valid token.</h2></body></html>\n"
)

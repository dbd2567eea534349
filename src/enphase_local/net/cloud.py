"""Getting a token from the Enphase cloud (Enlighten login, then Entrez).

Needs internet and an Enlighten account. Accounts with multi-factor login
complete it with the one-time code Enphase e-mails them: `enlighten_login`
takes it as `otp` (the CLI asks for it), and raises `EnvoyMFARequiredError`
when the account needs one and none was given. A pasted token stays first
class for every caller. Passwords, codes, cookies and tokens never appear
in errors; they go over https only (`net.cloud_http`).

The login (`EnlightenLogin`) is also what the cloud battery route runs on
(`net.battery_cloud`): its session cookie, manager token and the user and
site ids it names.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ..errors import (
    EnvoyAuthError,
    EnvoyBadCredentialsError,
    EnvoyHTTPError,
    EnvoyMFARequiredError,
    EnvoyParseError,
)
from .claims import TokenClaims
from .cloud_http import CLOUD_TIMEOUT_S, CLOUD_USER_AGENT, CloudAnswer, cloud_call

__all__ = [
    "CLOUD_TIMEOUT_S",
    "CLOUD_USER_AGENT",
    "DEFAULT_ENLIGHTEN_URL",
    "DEFAULT_ENTREZ_URL",
    "EnlightenLogin",
    "OtpPrompt",
    "enlighten_login",
    "entrez_token",
    "fetch_cloud_login",
    "fetch_cloud_token",
    "user_id_of",
]

DEFAULT_ENLIGHTEN_URL = "https://enlighten.enphaseenergy.com"
DEFAULT_ENTREZ_URL = "https://entrez.enphaseenergy.com"

SESSION_COOKIE = "_enlighten_4_session"

OtpPrompt = Callable[[], Awaitable[str]]
"""Asks a person for the one-time code, only once the account turned out to need one."""
_NEEDS_CODE = (
    "this Enlighten account uses multi-factor login: Enphase has e-mailed a one-time code; "
    "give it with --otp CODE (or run the command in a terminal to be asked for it), "
    "or paste a token copied from the Enphase website"
)


@dataclass(frozen=True, slots=True)
class EnlightenLogin:
    """An open Enlighten session: what later cloud calls need, none of it ever shown.

    `cookies` are those the login set (the session cookie among them);
    `user_id` comes from the manager token's ``data.user_id`` claim, and
    `system_id` is the account's landing site (a string either way).
    """

    session_id: str = field(repr=False)
    manager_token: str | None = field(default=None, repr=False)
    user_id: str | None = None
    system_id: str | None = None
    cookies: Mapping[str, str] = field(default_factory=dict, repr=False)

    def to_store(self) -> dict[str, Any]:
        """A plain mapping for the 0600 token store (`from_store` reads it back)."""
        return {
            "session_id": self.session_id,
            "manager_token": self.manager_token,
            "user_id": self.user_id,
            "system_id": self.system_id,
            "cookies": dict(self.cookies),
        }

    @classmethod
    def from_store(cls, doc: Mapping[str, Any]) -> EnlightenLogin | None:
        session_id = doc.get("session_id")
        if not isinstance(session_id, str) or not session_id:
            return None
        cookies = doc.get("cookies")
        return cls(
            session_id=session_id,
            manager_token=_str_or_none(doc.get("manager_token")),
            user_id=_str_or_none(doc.get("user_id")),
            system_id=_str_or_none(doc.get("system_id")),
            cookies=(
                {str(k): str(v) for k, v in cookies.items()} if isinstance(cookies, dict) else {}
            ),
        )


def _str_or_none(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    return str(value) if isinstance(value, str | int) else None


def user_id_of(manager_token: str | None) -> str | None:
    """The ``data.user_id`` claim of a manager token (read without verifying the signature)."""
    if not manager_token or manager_token.count(".") != 2:
        return None
    payload = manager_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return None
    data = claims.get("data") if isinstance(claims, dict) else None
    return _str_or_none(data.get("user_id")) if isinstance(data, dict) else None


def _answer(body: bytes, path: str) -> dict[str, Any]:
    try:
        answer = json.loads(body)
    except ValueError as err:
        raise EnvoyParseError(path, "", "Enlighten did not answer JSON: try again later") from err
    if not isinstance(answer, dict):
        raise EnvoyParseError(path, "", "Enlighten answered something other than an object")
    return answer


def _opened(answer: Mapping[str, Any], cookies: Mapping[str, str]) -> EnlightenLogin | None:
    session_id = answer.get("session_id") or cookies.get(SESSION_COOKIE)
    if not isinstance(session_id, str) or not session_id:
        return None
    token = _str_or_none(answer.get("manager_token")) or cookies.get(
        "enlighten_manager_token_production"
    )
    kept = {**cookies, SESSION_COOKIE: session_id}
    return EnlightenLogin(
        session_id=session_id,
        manager_token=token,
        user_id=_str_or_none(answer.get("user_id")) or user_id_of(token),
        system_id=_str_or_none(answer.get("system_id")),
        cookies=kept,
    )


def _xsrf(cookies: Mapping[str, str]) -> str | None:
    for name, value in cookies.items():
        if "xsrf" in name.lower() or "csrf" in name.lower():
            return value
    return None


async def enlighten_login(
    session: aiohttp.ClientSession,
    *,
    username: str,
    password: str,
    otp: str | OtpPrompt | None = None,
    enlighten_url: str = DEFAULT_ENLIGHTEN_URL,
) -> EnlightenLogin:
    """Log in to Enlighten, with the one-time code `otp` when the account asks for one.

    `otp` is the code, or a coroutine function asked for it only when the
    account needs one (a person reads it from the e-mail Enphase just sent).

    Raises `EnvoyMFARequiredError` when a code is needed and `otp` is None,
    `EnvoyBadCredentialsError` when the password or the code is refused (or
    the account is blocked after too many codes), `EnvoyConnectionError`
    when the cloud cannot be reached.
    """
    base = enlighten_url.rstrip("/")
    form = {"user[email]": username, "user[password]": password}
    reply = await cloud_call(session, "POST", f"{base}/login/login.json?", data=form)
    if reply.status in (401, 403):
        raise EnvoyBadCredentialsError(
            "Enlighten refused the username or password: check them (they are those of "
            "the Enphase app), or paste a token copied from the Enphase website"
        )
    _refuse_status(reply, "/login/login.json", "Enlighten login")
    answer = _answer(reply.body, "/login/login.json")
    opened = _opened(answer, reply.cookies)
    if opened is not None:
        return opened
    if answer.get("isBlocked") is True:
        raise EnvoyBadCredentialsError(_BLOCKED)
    if otp is None:
        raise EnvoyMFARequiredError(_NEEDS_CODE)
    code = otp if isinstance(otp, str) else await otp()
    return await _validate_otp(session, base, username, code.strip(), reply.cookies)


_BLOCKED = (
    "Enlighten has blocked this login after too many attempts: wait a while (or unblock it "
    "in the Enphase app) and try again"
)


async def _validate_otp(
    session: aiohttp.ClientSession,
    base: str,
    username: str,
    otp: str,
    cookies: Mapping[str, str],
) -> EnlightenLogin:
    path = "/app-api/validate_login_otp"
    form = {
        "email": base64.b64encode(username.encode()).decode(),
        "otp": base64.b64encode(otp.encode()).decode(),
        "xhrFields[withCredentials]": "true",
    }
    headers = {"X-CSRF-Token": token} if (token := _xsrf(cookies)) else {}
    reply = await cloud_call(
        session, "POST", base + path, data=form, headers=headers, cookies=cookies
    )
    if reply.status == 429:
        raise EnvoyBadCredentialsError(_BLOCKED)
    if reply.status in (401, 403):
        raise EnvoyBadCredentialsError(
            "Enlighten refused the one-time code step: log in again to get a new code"
        )
    _refuse_status(reply, path, "Enlighten's one-time code check")
    answer = _answer(reply.body, path)
    if answer.get("isBlocked") is True:
        raise EnvoyBadCredentialsError(_BLOCKED)
    opened = _opened(answer, {**cookies, **reply.cookies})
    if opened is None or answer.get("isValid") is False:
        raise EnvoyBadCredentialsError(
            "Enlighten refused the one-time code: check it (codes expire after a few "
            "minutes) and log in again for a new one"
        )
    return opened


def _refuse_status(reply: CloudAnswer, path: str, what: str) -> None:
    if reply.status == 406:
        raise EnvoyHTTPError(406, path, f"{what} answered HTTP 406 (it refuses this client)")
    if reply.status >= 400 or reply.redirected:
        raise EnvoyHTTPError(
            reply.status, path, f"{what} answered HTTP {reply.status}: try again later"
        )


async def entrez_token(
    session: aiohttp.ClientSession,
    login: EnlightenLogin,
    *,
    username: str,
    serial: str,
    entrez_url: str = DEFAULT_ENTREZ_URL,
) -> str:
    """Ask Entrez for a token for gateway `serial` with an open Enlighten session."""
    payload = {"session_id": login.session_id, "serial_num": serial, "username": username}
    reply = await cloud_call(session, "POST", f"{entrez_url.rstrip('/')}/tokens", json_body=payload)
    if reply.status in (401, 403):
        raise EnvoyBadCredentialsError(
            f"Entrez refused to issue a token for gateway {serial}: check that the serial is "
            "right and that the gateway belongs to this Enlighten account"
        )
    if reply.status >= 400:
        raise EnvoyHTTPError(
            reply.status,
            "/tokens",
            f"Entrez answered HTTP {reply.status} when asked for a token: try later",
        )
    token = reply.body.decode("utf-8", errors="replace").strip()
    try:
        TokenClaims.decode(token)
    except EnvoyAuthError as err:
        raise EnvoyParseError("/tokens", "", "Entrez answered something that is not a token") from (
            err
        )
    return token


async def fetch_cloud_token(
    session: aiohttp.ClientSession,
    *,
    username: str,
    password: str,
    serial: str,
    enlighten_url: str = DEFAULT_ENLIGHTEN_URL,
    entrez_url: str = DEFAULT_ENTREZ_URL,
    otp: str | OtpPrompt | None = None,
) -> str:
    """Log in to Enlighten (with `otp` for multi-factor accounts) and get a token for `serial`.

    Raises `EnvoyMFARequiredError` when the account needs a one-time code
    and none was given, `EnvoyBadCredentialsError` when the cloud refuses
    the login or the serial, `EnvoyConnectionError` when it cannot be reached.
    """
    token, _login = await fetch_cloud_login(
        session,
        username=username,
        password=password,
        serial=serial,
        enlighten_url=enlighten_url,
        entrez_url=entrez_url,
        otp=otp,
    )
    return token


async def fetch_cloud_login(
    session: aiohttp.ClientSession,
    *,
    username: str,
    password: str,
    serial: str,
    enlighten_url: str = DEFAULT_ENLIGHTEN_URL,
    entrez_url: str = DEFAULT_ENTREZ_URL,
    otp: str | OtpPrompt | None = None,
) -> tuple[str, EnlightenLogin]:
    """`fetch_cloud_token`, also returning the Enlighten session (to store for the cloud route)."""
    login = await enlighten_login(
        session, username=username, password=password, otp=otp, enlighten_url=enlighten_url
    )
    token = await entrez_token(
        session, login, username=username, serial=serial, entrez_url=entrez_url
    )
    return token, login

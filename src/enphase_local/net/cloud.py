"""Getting a token from the Enphase cloud (Enlighten login, then Entrez).

Needs internet and an Enlighten account without multi-factor login; users
with multi-factor login paste a token instead, so every caller treats a
pasted token as first class. Passwords and tokens never appear in errors.
"""

from __future__ import annotations

import json

import aiohttp
from yarl import URL

from ..errors import (
    EnvoyBadCredentialsError,
    EnvoyConnectionError,
    EnvoyHTTPError,
    EnvoyMFARequiredError,
    EnvoyParseError,
    EnvoyTimeoutError,
)
from .bounded import read_bounded
from .claims import TokenClaims

__all__ = ["CLOUD_TIMEOUT_S", "DEFAULT_ENLIGHTEN_URL", "DEFAULT_ENTREZ_URL", "fetch_cloud_token"]

DEFAULT_ENLIGHTEN_URL = "https://enlighten.enphaseenergy.com"
DEFAULT_ENTREZ_URL = "https://entrez.enphaseenergy.com"
CLOUD_TIMEOUT_S = 30.0
CLOUD_MAX_BYTES = 1024 * 1024  # a login answer or a token: a few KB


async def fetch_cloud_token(
    session: aiohttp.ClientSession,
    *,
    username: str,
    password: str,
    serial: str,
    enlighten_url: str = DEFAULT_ENLIGHTEN_URL,
    entrez_url: str = DEFAULT_ENTREZ_URL,
) -> str:
    """Log in to Enlighten and ask Entrez for a token for gateway `serial`.

    Raises `EnvoyMFARequiredError` when the account uses multi-factor login,
    `EnvoyBadCredentialsError` when the cloud refuses the login or the
    serial, `EnvoyConnectionError` when the cloud cannot be reached.
    """
    login_url = f"{enlighten_url.rstrip('/')}/login/login.json?"
    form = {"user[email]": username, "user[password]": password}
    status, body = await _cloud_post(session, login_url, data=form)
    if status in (401, 403):
        raise EnvoyBadCredentialsError(
            "Enlighten refused the username or password: check them (they are those of "
            "the Enphase app), or paste a token copied from the Enphase website"
        )
    if status >= 400:
        raise EnvoyHTTPError(
            status, "/login/login.json", f"Enlighten login answered HTTP {status}: try again later"
        )
    try:
        answer = json.loads(body)
    except ValueError as err:
        raise EnvoyParseError(
            "/login/login.json", "", "Enlighten login did not answer JSON: try again later"
        ) from err
    session_id = answer.get("session_id") if isinstance(answer, dict) else None
    if not isinstance(session_id, str) or not session_id:
        raise EnvoyMFARequiredError(
            "Enlighten did not open a session: the account probably uses multi-factor login, "
            "which cannot be automated. Copy a token from the Enphase website "
            "(entrez.enphaseenergy.com) and paste it instead"
        )
    tokens_url = f"{entrez_url.rstrip('/')}/tokens"
    payload = {"session_id": session_id, "serial_num": serial, "username": username}
    status, body = await _cloud_post(session, tokens_url, json_body=payload)
    if status in (401, 403):
        raise EnvoyBadCredentialsError(
            f"Entrez refused to issue a token for gateway {serial}: check that the serial is "
            "right and that the gateway belongs to this Enlighten account"
        )
    if status >= 400:
        raise EnvoyHTTPError(
            status, "/tokens", f"Entrez answered HTTP {status} when asked for a token: try later"
        )
    token = body.decode("utf-8", errors="replace").strip()
    try:
        TokenClaims.decode(token)
    except EnvoyBadCredentialsError as err:
        raise EnvoyParseError("/tokens", "", "Entrez answered something that is not a token") from (
            err
        )
    return token


async def _cloud_post(
    session: aiohttp.ClientSession,
    url: str,
    *,
    data: dict[str, str] | None = None,
    json_body: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """POST to the cloud, translating network failures (messages name the host, not the form)."""
    host = url.split("/")[2] if "//" in url else url
    try:
        async with session.post(
            url,
            data=data,
            json=json_body,
            headers={"Accept-Encoding": "identity"},
            auto_decompress=False,  # read_bounded inflates within the cap
            timeout=aiohttp.ClientTimeout(total=CLOUD_TIMEOUT_S),
        ) as response:
            body = await read_bounded(response, cap=CLOUD_MAX_BYTES, path=URL(url).path)
            return response.status, body
    except TimeoutError as err:
        raise EnvoyTimeoutError(
            f"the Enphase cloud ({host}) did not answer in {CLOUD_TIMEOUT_S:.0f} s: "
            "try again later, or paste a token copied from the Enphase website"
        ) from err
    except aiohttp.ClientError as err:
        raise EnvoyConnectionError(
            f"could not reach the Enphase cloud ({host}, {type(err).__name__}): getting a token "
            "needs internet access; check it, or paste a token copied from the Enphase website"
        ) from err

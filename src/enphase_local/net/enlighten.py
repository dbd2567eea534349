"""An Enlighten session that lasts: log in once, keep it in the 0600 store, notice expiry, renew.

Why its own module: the cloud battery route (`net.battery_cloud`) makes a
few calls a day, but an Enlighten login costs a round trip and, for an
account with multi-factor login, a one-time code a person must read from an
e-mail. So the session is restored from the token store when there is one,
and a new login happens only when Enlighten says the session is over (a 30x
to its login page, a 401/403 or an HTML page where JSON was asked for; a
session lasts about a week). A read is then repeated once on the new
session; a write never is (`EnlightenSession.call` with ``retry=False``).

It also finds the user id (from the manager token) and the site of the
gateway: the account's landing site, or, with several, the one naming the
gateway's serial.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

import aiohttp

from ..errors import EnvoyAuthError, EnvoyFeatureUnavailable
from .cloud import DEFAULT_ENLIGHTEN_URL, EnlightenLogin, OtpPrompt, enlighten_login
from .cloud_http import CloudAnswer, cloud_call
from .token_store import TokenStore

__all__ = ["BATTERY_UI_ORIGIN", "EnlightenSession"]

_LOG = logging.getLogger("enphase_local.cloud")

BATTERY_UI_ORIGIN = "https://battery-profile-ui.enphaseenergy.com"
SITES_PATH = "/app-api/search_sites.json"
_SERIAL_KEYS = ("serial", "serial_num", "envoy_serial", "envoy_serial_number", "gateway_serials")


def _expired(answer: CloudAnswer) -> bool:
    """Enlighten's ways of saying the session is over (a 403 with a JSON reason is a refusal)."""
    if answer.redirected or answer.status == 401:
        return True
    if answer.status == 403:
        return not answer.body.strip() or answer.looks_like_html()
    return answer.status == 200 and answer.looks_like_html()


class EnlightenSession:
    """One Enlighten account, logged in on demand, for one gateway's site.

    `password` may be None when a stored session exists (it then cannot be
    renewed without one). `otp` is asked for a one-time code only when the
    account needs one. `store` keeps the session between runs (0600). The
    aiohttp session is our own unless one is given; our User-Agent goes on
    every call either way (`net.cloud_http`).
    """

    def __init__(
        self,
        *,
        username: str,
        password: str | None,
        serial: str,
        enlighten_url: str | None = None,
        otp: str | OtpPrompt | None = None,
        store: TokenStore | None = None,
        site_id: str | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.username = username
        self._password = password
        self.serial = serial
        self.base = (enlighten_url or DEFAULT_ENLIGHTEN_URL).rstrip("/")
        self._otp = otp
        self._store = store
        self._site_id = site_id
        self._session = session
        self._own_session = session is None
        self._login: EnlightenLogin | None = None
        self.logins = 0  # how many times we logged in (tests and the debug log read it)

    def __repr__(self) -> str:
        return f"EnlightenSession({self.username!r}, serial={self.serial!r})"

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    # -- login ------------------------------------------------------------------------

    async def login(self) -> EnlightenLogin:
        """The open session: the one in hand, else the stored one, else a new login."""
        if self._login is None and self._store is not None:
            stored = self._store.enlighten_session(self.username)
            self._login = EnlightenLogin.from_store(stored) if stored else None
        if self._login is None:
            await self.relogin()
        assert self._login is not None
        return self._login

    async def relogin(self) -> EnlightenLogin:
        """Log in again (the old session and any XSRF token taken with it are useless now)."""
        if not self._password:
            raise EnvoyAuthError(
                f"the Enlighten session of {self.username} is over and no password was given: "
                "log in again with `enphase token` (or give the password)"
            )
        self._login = await enlighten_login(
            self._http(),
            username=self.username,
            password=self._password,
            otp=self._otp,
            enlighten_url=self.base,
        )
        self.logins += 1
        _LOG.debug("logged in to Enlighten as %s", self.username)
        if self._store is not None:
            self._store.put_enlighten_session(self.username, self._login.to_store())
        return self._login

    def adopt(self, login: EnlightenLogin) -> None:
        """Use a session opened elsewhere (`enphase token` after a one-time code)."""
        self._login = login
        if self._store is not None:
            self._store.put_enlighten_session(self.username, login.to_store())

    async def user_id(self) -> str:
        login = await self.login()
        if login.user_id is None:
            raise EnvoyAuthError(
                "Enlighten did not say which user this is (no user id in its manager token)"
            )
        return login.user_id

    async def site_id(self) -> str:
        """The site of this gateway: given, the only one, or the one naming its serial."""
        if self._site_id is not None:
            return self._site_id
        login = await self.login()
        answer = await self.call("GET", SITES_PATH + "?searchText=&favourite=false")
        sites = _sites(answer) if answer.status == 200 else []
        ids = list(dict.fromkeys(site_id for site_id, _ in sites))
        chosen = [site_id for site_id, serials in sites if self.serial in serials]
        if chosen:
            self._site_id = chosen[0]
        elif len(ids) == 1:
            self._site_id = ids[0]
        elif not ids and login.system_id:  # the list is transiently empty at times
            self._site_id = login.system_id
        else:
            raise EnvoyFeatureUnavailable(
                f"this Enlighten account has {len(ids)} sites and none names gateway "
                f"{self.serial}: give the site id (--site-id, from the Enphase app's URL)"
            )
        return self._site_id

    # -- calls ------------------------------------------------------------------------

    def _headers(self, login: EnlightenLogin) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "Origin": BATTERY_UI_ORIGIN,
            "Referer": BATTERY_UI_ORIGIN + "/",
            "Requestid": str(uuid.uuid4()),
        }
        if login.user_id:
            headers["Username"] = login.user_id
        if login.manager_token:
            headers["e-auth-token"] = login.manager_token
        return headers

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        retry: bool = True,
    ) -> CloudAnswer:
        """One authenticated call; on an expired session, log in again and (reads only) retry once.

        With ``retry=False`` (writes) an expired session raises `EnvoyAuthError`:
        the write was not applied and is not sent again on our own.
        """
        login = await self.login()
        answer = await self._send(login, method, path, json_body, headers, cookies=cookies)
        if not _expired(answer):
            return answer
        _LOG.debug("Enlighten session over (%s %s -> %d)", method, path, answer.status)
        if not retry:
            self._login = None
            raise EnvoyAuthError(
                "the Enlighten session ended just before the write, which was not applied "
                "and was not sent again: run the command again"
            )
        login = await self.relogin()
        answer = await self._send(login, method, path, json_body, headers, cookies=None)
        if _expired(answer):
            raise EnvoyAuthError(
                f"Enlighten refused a fresh session for {path.split('?', maxsplit=1)[0]} "
                f"(HTTP {answer.status}): check that this account owns the site"
            )
        return answer

    async def _send(
        self,
        login: EnlightenLogin,
        method: str,
        path: str,
        json_body: Any,
        headers: Mapping[str, str] | None,
        *,
        cookies: Mapping[str, str] | None,
    ) -> CloudAnswer:
        sent = self._headers(login)
        sent.update(headers or {})
        jar = {**login.cookies, **(cookies or {})}
        return await cloud_call(
            self._http(), method, self.base + path, json_body=json_body, headers=sent, cookies=jar
        )


def _sites(answer: CloudAnswer) -> list[tuple[str, set[str]]]:
    """(site id, gateway serials) of each site in a ``search_sites.json`` answer."""
    try:
        doc = json.loads(answer.body)
    except ValueError:
        return []
    items = doc.get("sites", doc.get("data")) if isinstance(doc, dict) else doc
    out: list[tuple[str, set[str]]] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        site = item.get("id", item.get("site_id", item.get("system_id")))
        if isinstance(site, bool) or not isinstance(site, str | int):
            continue
        serials: set[str] = set()
        for key in _SERIAL_KEYS:
            value = item.get(key)
            values = value if isinstance(value, list) else [value]
            serials.update(str(v) for v in values if isinstance(v, str | int))
        out.append((str(site), serials))
    return out

"""The installer token: from the Entrez portal, kept apart, renewed before its 12 hours run out.

Why a flow of its own: since about firmware 8.3.5289 (April 2026) the
Enlighten login plus ``/tokens`` (`net.cloud`) gives installer and DIY
accounts an *owner* token (VW #265), and export limiting and the production
switch need an installer's. The Entrez portal still issues one
(cloud.md section 2):

    POST {entrez}/login          form username, password     (a session cookie)
    POST {entrez}/entrez_tokens  form serialNum              -> page, first <textarea> = JWT

Text starting with ``Error`` is the portal's refusal. The role comes from
the token's ``enphaseUser`` claim: an owner's token from the portal is
refused here rather than stored as an installer's. Installer tokens last
12 hours; `InstallerTokens.get` renews one that has less than
`RENEW_BEFORE_S` left when it knows the account, and stores it in the 0600
token store's own section. The password and the tokens never appear in
errors or logs; they are only sent over https (or to a loopback simulator).
"""

from __future__ import annotations

import html
import ipaddress
import logging
import re
import time
from collections.abc import Callable

import aiohttp
from yarl import URL

from ..errors import (
    EnvoyAuthError,
    EnvoyBadCredentialsError,
    EnvoyHTTPError,
    EnvoyInsecureConnectionError,
    EnvoyParseError,
    EnvoyTokenExpiredError,
)
from .claims import TokenClaims
from .cloud import DEFAULT_ENTREZ_URL
from .cloud_http import cloud_call
from .token_store import TokenStore

__all__ = [
    "RENEW_BEFORE_S",
    "InstallerTokens",
    "fetch_installer_token",
    "require_private_url",
    "token_from_page",
]

_LOGGER = logging.getLogger("enphase_local.installer")

RENEW_BEFORE_S = 2 * 3600.0  # of 12 h: a command or an hour-long price dip never meets the expiry
_TEXTAREA = re.compile(r"<textarea\b[^>]*>(.*?)</textarea\s*>", re.IGNORECASE | re.DOTALL)
_SNIPPET = 100
HOW = "run `enphase token --installer` with the installer (or DIY) account of the Entrez portal"


def require_private_url(url: str) -> None:
    """Refuse to send a password or token to `url` unless over https (or to this machine)."""
    parsed = URL(url)
    if parsed.scheme == "https":
        return
    host = parsed.host or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parsed.scheme == "http" and loopback:
        return
    raise EnvoyInsecureConnectionError(
        f"refusing to send the Entrez password to {parsed.scheme}://{host}: "
        "the portal must be reached over https"
    )


def token_from_page(page: bytes, serial: str) -> str:
    """The JWT in the first ``<textarea>`` of the portal's answer, checked to be an installer's.

    Raises `EnvoyBadCredentialsError` for the portal's ``Error ...`` text or
    a page without a text area (the login did not hold), `EnvoyAuthError` for
    an owner's token, `EnvoyParseError` for text that is no token.
    """
    found = _TEXTAREA.search(page.decode("utf-8", "replace"))
    if found is None:
        raise EnvoyBadCredentialsError(
            "the Entrez portal answered without a token (its login page): check the username "
            f"and password, and that the account does not use multi-factor login; {HOW}"
        )
    text = html.unescape(found.group(1)).strip()
    if text.lower().startswith("error"):
        said = " ".join(text.split())[:_SNIPPET]
        raise EnvoyBadCredentialsError(
            f"the Entrez portal refused a token for gateway {serial} ({said}): check the serial "
            "and that the gateway is linked to this installer account"
        )
    try:
        claims = TokenClaims.decode(text)
    except EnvoyBadCredentialsError as err:
        raise EnvoyParseError(
            "/entrez_tokens", "", "the Entrez portal answered something that is not a token"
        ) from err
    if claims.role != "installer":
        raise EnvoyAuthError(
            f"the Entrez portal gave this account a {claims.role} token, not an installer's: "
            "export limiting and the production switch need an installer or DIY account"
        )
    if claims.serial and claims.serial != serial:
        raise EnvoyAuthError(
            f"the Entrez portal gave a token for gateway {claims.serial}, not {serial}"
        )
    return text


async def fetch_installer_token(
    *,
    username: str,
    password: str,
    serial: str,
    entrez_url: str = DEFAULT_ENTREZ_URL,
    session: aiohttp.ClientSession | None = None,
) -> str:
    """Log in to the Entrez portal and get an installer token for gateway `serial`.

    The login's cookie must reach the token page, so without a `session` one
    is made with a cookie jar of its own (accepting the loopback simulator's
    address) and closed afterwards.
    """
    base = entrez_url.rstrip("/")
    require_private_url(base)
    own = session is None
    jar = aiohttp.CookieJar(unsafe=True)  # unsafe = also for IP hosts; this flow's cookies only
    client = session if session is not None else aiohttp.ClientSession(cookie_jar=jar)
    try:
        form = {"username": username, "password": password}
        status = (await cloud_call(client, "POST", f"{base}/login", data=form)).status
        if status in (401, 403):
            raise EnvoyBadCredentialsError(
                "the Entrez portal refused the username or password: check them "
                "(those of the installer or DIY account)"
            )
        if status >= 400:
            raise EnvoyHTTPError(status, "/login", f"the Entrez portal answered HTTP {status}")
        asked = {"serialNum": serial}
        reply = await cloud_call(client, "POST", f"{base}/entrez_tokens", data=asked)
        status, page = reply.status, reply.body
        if status >= 400:
            raise EnvoyHTTPError(
                status, "/entrez_tokens", f"the Entrez portal answered HTTP {status} for a token"
            )
        return token_from_page(page, serial)
    finally:
        if own:
            await client.close()


class InstallerTokens:
    """Installer tokens by gateway serial: the stored one while good, else a fresh one.

    `username`/`password` are the Entrez account's; without them a stored
    token is used until it expires, and then the error says how to get one.
    """

    def __init__(
        self,
        store: TokenStore,
        *,
        username: str | None = None,
        password: str | None = None,
        entrez_url: str = DEFAULT_ENTREZ_URL,
        clock: Callable[[], float] | None = None,
        renew_before_s: float = RENEW_BEFORE_S,
    ) -> None:
        self.store = store
        self._username, self._password = username, password
        self.entrez_url = entrez_url
        self._clock = clock
        self.renew_before_s = renew_before_s
        self.fetched = 0  # tokens asked of the portal by this object

    def __repr__(self) -> str:
        return f"InstallerTokens({self.store!r}, username={self._username!r})"

    def _now(self) -> float:
        """The injected clock, else `time.time` looked up at each call (so tests may set it)."""
        return self._clock() if self._clock is not None else time.time()

    def _usable(self, token: str | None, margin_s: float) -> bool:
        if token is None:
            return False
        try:
            claims = TokenClaims.decode(token)
        except EnvoyBadCredentialsError:
            return False
        left = claims.seconds_left(self._now())
        return claims.role == "installer" and (left is None or left > margin_s)

    def stored(self, serial: str) -> str | None:
        """The stored installer token of `serial` while it has not expired, else None."""
        token = self.store.installer(serial)
        return token if self._usable(token, 0.0) else None

    async def get(self, serial: str) -> str:
        """A valid installer token for `serial`, renewed through the portal when it runs low."""
        token = self.store.installer(serial)
        if self._usable(token, self.renew_before_s):
            assert token is not None
            return token
        if not (self._username and self._password):
            if token is not None and self._usable(token, 0.0):
                return token  # low, but good: renewing needs the account
            raise EnvoyTokenExpiredError(
                f"no valid installer token for gateway {serial} "
                f"({'expired' if token else 'none stored'}): {HOW}"
            )
        fresh = await fetch_installer_token(
            username=self._username,
            password=self._password,
            serial=serial,
            entrez_url=self.entrez_url,
        )
        self.store.put_installer(serial, fresh)
        self.fetched += 1
        _LOGGER.info("installer token for %s renewed through the Entrez portal", serial)
        return fresh

"""Which authenticator for which gateway: digest before firmware 7, tokens from 7.

One home for the decision, so the client only wires it in. Before 7 the
gateway speaks HTTP digest with user ``envoy`` (password derived from the
serial) or ``installer``; from 7 (and on the few older builds that
advertise web tokens) it wants a bearer token: given, kept in the token
store, or fetched from the Enphase cloud with an Enlighten login.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from ..errors import EnvoyAuthError
from ..models.gateway import GatewayInfo
from .cloud import DEFAULT_ENLIGHTEN_URL, DEFAULT_ENTREZ_URL, fetch_cloud_token
from .digest import DigestAuth, installer_password, owner_password
from .exchange import Authenticator
from .token_auth import TokenAuth
from .token_store import TokenStore

__all__ = ["CloudUrls", "Credentials", "choose_authenticator"]


@dataclass(frozen=True, slots=True)
class CloudUrls:
    """Base URLs of the Enlighten login and the Entrez token service (tests point them locally)."""

    enlighten: str = DEFAULT_ENLIGHTEN_URL
    entrez: str = DEFAULT_ENTREZ_URL


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the user gave us to log in with (any of them may be missing)."""

    token: str | None = None
    username: str | None = None
    password: str | None = None
    store: TokenStore | None = None
    cloud: CloudUrls = CloudUrls()

    def __repr__(self) -> str:  # never show a secret
        return f"Credentials(username={self.username!r}, token={'set' if self.token else None})"


def choose_authenticator(
    info: GatewayInfo,
    credentials: Credentials,
    *,
    session: aiohttp.ClientSession | None,
    clock: Callable[[], float],
) -> tuple[Authenticator, str, str | None]:
    """The authenticator for this gateway, its kind (``digest``/``token``) and digest role.

    Raises `EnvoyAuthError` with what to do when a token is needed and none
    can be had.
    """
    if not info.fw.uses_tokens and not info.web_tokens:
        user = credentials.username or "envoy"
        password = credentials.password
        if password is None:
            password = (
                installer_password(info.serial)
                if user == "installer"
                else owner_password(info.serial)
            )
        role = "installer" if user == "installer" else "owner"
        return DigestAuth(user, password), "digest", role
    store = credentials.store
    token = credentials.token or (store.get(info.serial) if store else None)
    provider = (
        _cloud_provider(info.serial, credentials, session)
        if credentials.username and credentials.password
        else None
    )
    if token is None and provider is None:
        raise EnvoyAuthError(
            f"this gateway (firmware {info.firmware}) needs a token: give one (token=... or "
            "--token), or your Enlighten username and password, or run `enphase token` to get "
            "and store one"
        )
    return TokenAuth(token, token_provider=provider, clock=clock), "token", None


def _cloud_provider(
    serial: str, credentials: Credentials, session: aiohttp.ClientSession | None
) -> Callable[[], Awaitable[str]]:
    """A coroutine factory that logs in to the cloud for a fresh token (and stores it)."""

    async def provide() -> str:
        assert credentials.username and credentials.password
        owns = session is None
        use = session or aiohttp.ClientSession()
        try:
            token = await fetch_cloud_token(
                use,
                username=credentials.username,
                password=credentials.password,
                serial=serial,
                enlighten_url=credentials.cloud.enlighten,
                entrez_url=credentials.cloud.entrez,
            )
        finally:
            if owns:
                await use.close()
        if credentials.store is not None:
            credentials.store.put(serial, token)
        return token

    return provide

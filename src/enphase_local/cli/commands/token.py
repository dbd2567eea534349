"""`enphase token`: get a gateway token from the Enphase cloud, store it, or check one.

    enphase token [HOST] [--username U] [--serial S] [--store/--no-store] [--print]
    enphase token --check [HOST]        (token from --token, $ENPHASE_TOKEN or stdin)

Why a command: firmware 7+ wants a token issued by Enphase's cloud, and
every other command finds it in the token store by gateway serial once it
is there. The password is asked for without echo (or taken from
$ENPHASE_PASSWORD); the token itself is shown only with ``--print``. The
serial comes from ``--serial`` or from the gateway's public ``/info``.
Accounts with multi-factor login cannot be automated: paste a token from
the Enphase website, check it with ``--check``, and keep it with
``--check --store`` (or ``--store --token T``): checked first, then stored
by the serial it names (or ``--serial``, or HOST's).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Any

import click

from ...errors import EnvoyAuthError, EnvoyTokenExpiredError
from ...net.claims import GET_A_TOKEN
from ..config import Settings
from ..connect import connect, connection_options, make_envoy, resolve_host, settings_from
from ..errors import CliError, set_output
from ..output import echo_json, progress, run

__all__ = ["token"]


def _interactive() -> bool:
    """Whether we may prompt (a terminal on stdin)."""
    return sys.stdin.isatty()


def _describe(claims: Any, now: float) -> dict[str, Any]:
    left = claims.seconds_left(now)
    return {
        "serial": claims.serial,
        "role": claims.role,
        "username": claims.username,
        "issued_at": claims.issued_at,
        "expires_at": claims.expires_at,
        "expired": claims.expired(now),
        "days_left": None if left is None else round(left / 86400, 1),
    }


def _show(info: dict[str, Any], *, err: bool = False) -> None:
    from ..render.format import fmt_time

    expires = "never" if info["expires_at"] is None else fmt_time(info["expires_at"])
    left = info["days_left"]
    state = "EXPIRED" if info["expired"] else ("valid" if left is None else f"{left:g} days left")
    lines = [f"gateway {info['serial'] or '?'}: {info['role']} token, expires {expires} ({state})"]
    if info.get("stored"):
        lines.append(f"stored in {info['stored']}")
    if info.get("gateway_accepted"):
        lines.append("the gateway accepted it")
    for line in lines:
        click.echo(line, err=err)


async def _serial_of(settings: Settings) -> str:
    from ...sources.keys import SourceKey
    from ...sources.table import SOURCES

    envoy = make_envoy(settings)
    try:
        with progress(f"reading {envoy.host}/info..."):
            result = await envoy.request("GET", "/info")
        serial: str = SOURCES[SourceKey.INFO].parse(result.body).serial
        return serial
    finally:
        await envoy.close()


async def _fetch(settings: Settings, serial: str | None, username: str, password: str) -> Any:
    import aiohttp

    from ...net.cloud import DEFAULT_ENLIGHTEN_URL, DEFAULT_ENTREZ_URL, fetch_cloud_token

    if serial is None:
        serial = await _serial_of(settings)
    async with aiohttp.ClientSession() as session:
        with progress("asking the Enphase cloud for a token..."):
            token = await fetch_cloud_token(
                session,
                username=username,
                password=password,
                serial=serial,
                enlighten_url=settings.enlighten_url or DEFAULT_ENLIGHTEN_URL,
                entrez_url=settings.entrez_url or DEFAULT_ENTREZ_URL,
            )
    return serial, token


def _pasted(settings: Settings) -> str:
    if settings.token:
        return settings.token
    if _interactive():
        return str(click.prompt("paste the token", hide_input=True)).strip()
    text = sys.stdin.read().strip()
    if not text:
        raise CliError("usage", "no token: give --token, set ENPHASE_TOKEN, or pipe it on stdin")
    return text


async def _gateway_accepts(settings: Settings, claims: Any) -> None:
    """Send the token to the gateway: an owner data endpoint must answer with it.

    Raises `EnvoyAuthError` when the gateway refuses it (a token of another
    gateway, a revoked one), so the check means what it says.
    """
    async with connect(settings, probe=False) as envoy:
        serial = envoy.info.serial
        if claims.serial and serial and claims.serial != serial:
            raise EnvoyAuthError(
                f"this token is for gateway {claims.serial}, but {envoy.host} is gateway "
                f"{serial}: get a token for {serial} with `enphase token`"
            )
        if envoy.auth_kind != "token":
            raise CliError(
                "usage",
                f"{envoy.host} (firmware {envoy.info.firmware}) does not use tokens: "
                "no token is needed",
            )
        result = await envoy.request("GET", "/api/v1/production")
        if result.status in (401, 403):
            raise EnvoyAuthError(
                f"the gateway refused this token (HTTP {result.status}): {GET_A_TOKEN}"
            )


def _check(settings: Settings, as_json: bool, *, keep: bool, serial: str | None) -> None:
    """Check a pasted token; with `keep`, store it once it passed (by its serial)."""
    from ...net.claims import TokenClaims

    pasted = _pasted(settings)
    claims = TokenClaims.decode(pasted)
    info = _describe(claims, time.time())
    if info["expired"]:
        # one document on stdout, always: with --json, only the error envelope
        from ..render.format import fmt_time

        raise EnvoyTokenExpiredError(
            f"this {info['role']} token for gateway {info['serial'] or '?'} expired on "
            f"{fmt_time(info['expires_at'])}: get a new one with `enphase token` "
            "or from the Enphase website"
        )
    if settings.host:
        checked = Settings(**{**_fields(settings), "token": pasted})
        run(lambda: _gateway_accepts(checked, claims))
        info["gateway_accepted"] = True
    if keep:
        info["stored"] = _keep(settings, pasted, serial or claims.serial)
    if as_json:
        echo_json(info)
    else:
        _show(info)


def _keep(settings: Settings, pasted: str, serial: str | None) -> str:
    """Store a checked token under its gateway's serial; the store's path."""
    from ...net.token_store import TokenStore

    if not serial and settings.host:
        serial = run(lambda: _serial_of(settings))
    if not serial:
        raise CliError(
            "usage", "this token names no gateway serial: give --serial S or HOST to store it"
        )
    store = TokenStore(settings.token_store)
    store.put(serial, pasted)
    return str(store.path)


def _fields(settings: Settings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in Settings.__dataclass_fields__}


@click.command("token")
@connection_options
@click.option("--serial", help="Gateway serial (default: read from HOST's /info).")
@click.option("--store/--no-store", default=True, show_default=True, help="Save in the store.")
@click.option("--print", "show", is_flag=True, help="Print the token itself on stdout.")
@click.option("--check", is_flag=True, help="Check a pasted token: role, expiry, validity.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
def token(
    *, serial: str | None, store: bool, show: bool, check: bool, as_json: bool, **params: Any
) -> None:
    """Get a token from the Enphase cloud and store it (or --check a pasted one)."""
    set_output(as_json=as_json)
    store_asked = click.get_current_context().get_parameter_source("store") not in (
        click.core.ParameterSource.DEFAULT,
        None,
    )
    settings = settings_from(params, need_host=False)
    if check or (store_asked and store and settings.token):  # a pasted token (MFA accounts)
        _check(settings, as_json, keep=store_asked and store, serial=serial)
        return
    if serial is None and not settings.host:
        try:  # the only gateway on the network, when discovery is installed
            settings = dataclasses.replace(settings, host=resolve_host())
        except CliError:
            raise CliError(
                "usage", "which gateway? give --serial S, or HOST (or --host, ENPHASE_HOST)"
            ) from None
    username = settings.username
    if not username:
        if not _interactive():
            raise CliError("usage", "give --username (or set ENPHASE_USERNAME)")
        username = str(click.prompt("Enlighten username (e-mail)")).strip()
    password = settings.password
    if not password:
        if not _interactive():
            raise CliError("usage", "no password: set ENPHASE_PASSWORD or run in a terminal")
        password = str(click.prompt(f"password for {username}", hide_input=True))
    serial, fetched = run(lambda: _fetch(settings, serial, username, password))
    from ...net.claims import TokenClaims
    from ...net.token_store import TokenStore

    info = _describe(TokenClaims.decode(fetched), time.time())
    info["serial"] = info["serial"] or serial
    if store:
        token_store = TokenStore(settings.token_store)
        token_store.put(serial, fetched)
        info["stored"] = str(token_store.path)
    if as_json:
        echo_json({**info, **({"token": fetched} if show else {})})
        return
    if show:
        click.echo(fetched)
    _show(info, err=show)

"""`enphase token`: get a gateway token from the Enphase cloud, store it, or check one.

    enphase token [HOST] [--username U] [--serial S] [--store/--no-store] [--print]
    enphase token --check [HOST]        (token from --token, $ENPHASE_TOKEN or stdin)

Why a command: firmware 7+ wants a token issued by Enphase's cloud, and
every other command finds it in the token store by gateway serial once it
is there. The password is asked for without echo (or taken from
$ENPHASE_PASSWORD); the token itself is shown only with ``--print``. The
serial comes from ``--serial`` or from the gateway's public ``/info``.
Accounts with multi-factor login cannot be automated: paste a token from
the Enphase website and check it with ``--check``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from ...errors import EnvoyTokenExpiredError
from ..config import Settings
from ..connect import connect, connection_options, make_envoy, settings_from
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


def _check(settings: Settings, as_json: bool) -> None:
    from ...net.claims import TokenClaims

    pasted = _pasted(settings)
    info = _describe(TokenClaims.decode(pasted), time.time())
    if info["expired"]:
        if as_json:
            echo_json(info)
        raise EnvoyTokenExpiredError(
            "this token has expired: get a new one with `enphase token` or from the Enphase website"
        )
    if settings.host:
        checked = Settings(**{**_fields(settings), "token": pasted})

        async def go() -> None:
            async with connect(checked, probe=False):
                pass

        run(go)
        info["gateway_accepted"] = True
    if as_json:
        echo_json(info)
    else:
        _show(info)


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
    settings = settings_from(params, need_host=False)
    if check:
        _check(settings, as_json)
        return
    if serial is None and not settings.host:
        raise CliError("usage", "which gateway? give --serial S, or HOST (or ENPHASE_HOST)")
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

"""`enphase export-limit` and `enphase production`: zero export when the price goes negative.

    enphase export-limit [HOST] show [--json]
    enphase export-limit [HOST] set WATTS [--mode export|production] [--slew-rate N]
    enphase export-limit [HOST] clear
    enphase production [HOST] on|off

Why apart from the other writes: both need an *installer* token, which is
not the one the other commands use. Unless ``--token`` is given, the
connection takes the installer token stored by ``enphase token
--installer`` (the token store's own section, `net.installer`), renewing it
through the Entrez portal when it runs low and the installer account is in
$ENPHASE_INSTALLER_USERNAME / $ENPHASE_INSTALLER_PASSWORD; without one the
command says how to get it, with nothing sent. ``show`` reads with the
installer token when one is stored, else with the owner's: a gateway may
refuse an owner the limit, never the switch's state to an installer.

``production off`` asks for confirmation (the inverters may stay off until
the next morning once switched back on); ``export-limit set 0`` is the
gentle way to stop exporting. Exit codes as in `cli.write.run`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator, Mapping
from typing import Any

import click

from ...control import Control, WriteResult
from ..config import ENV, Settings, resolve
from ..connect import HostFirst, HostFirstGroup, connection_flags, connection_options, settings_from
from ..errors import set_output
from ..output import echo_json, run
from .run import WriteFlags, common, run_action, target_host

__all__ = ["export_limit", "installer_envoy", "production"]

INSTALLER_USERNAME_ENV = "ENPHASE_INSTALLER_USERNAME"
INSTALLER_PASSWORD_ENV = "ENPHASE_INSTALLER_PASSWORD"


def _installer_tokens(settings: Settings) -> Any:
    from ...net.cloud import DEFAULT_ENTREZ_URL
    from ...net.installer import InstallerTokens
    from ...net.token_store import TokenStore

    return InstallerTokens(
        TokenStore(settings.token_store),
        username=os.environ.get(INSTALLER_USERNAME_ENV),
        password=os.environ.get(INSTALLER_PASSWORD_ENV),
        entrez_url=settings.entrez_url or DEFAULT_ENTREZ_URL,
    )


async def _installer_settings(settings: Settings, *, required: bool) -> Settings:
    """`settings` with the stored (or renewed) installer token, and no account to log in with.

    No username or password reaches the `Envoy`: it would replace an expired
    installer token with an owner's from the Enlighten login. Not `required`
    (``show``), the owner's connection stays when no installer token is stored.
    """
    from ..commands.token import _serial_of
    from ..connect import setup_logging
    from ..errors import is_debug

    serial = await _serial_of(settings)
    tokens = _installer_tokens(settings)
    token = await tokens.get(serial) if required else tokens.stored(serial)
    if token is None:
        return settings
    # the redaction table learns the installer token and password too (--debug logs)
    setup_logging(is_debug(), (token, settings.password, os.environ.get(INSTALLER_PASSWORD_ENV)))
    return dataclasses.replace(settings, token=token, username=None, password=None)


@contextlib.asynccontextmanager
async def installer_envoy(options: Mapping[str, Any]) -> AsyncIterator[Any]:
    """A connected `Envoy` with an installer token, for `cli.write.run` (its ``open_envoy``).

    A ``--token`` given on the command line is used as it is (the control
    layer refuses an owner's before sending anything).
    """
    from ..connect import connect, resolve_host, setup_logging

    settings = resolve({k: options.get(k) for k in ENV})
    if not settings.host:
        settings = dataclasses.replace(settings, host=resolve_host())
    setup_logging(bool(options.get("debug")), (settings.token, settings.password))
    if not options.get("token"):  # $ENPHASE_TOKEN is the owner's: not for these commands
        settings = await _installer_settings(settings, required=True)
    async with connect(settings) as envoy:
        yield envoy


def _run_installer(
    ctx: click.Context, act: Any, flags: WriteFlags, confirm: str | None = None
) -> None:
    ctx.ensure_object(dict).setdefault("open_envoy", installer_envoy)  # tests may inject theirs
    run_action(ctx, act, flags, confirm=confirm)


@click.group("export-limit", cls=HostFirstGroup)
@click.argument("host", required=False, metavar="[HOST]")
@connection_flags
def export_limit(host: str | None, **_connection: Any) -> None:
    """Dynamic export limiting: show it, set a limit in watts, clear it (installer token)."""


@export_limit.command("set")
@click.argument("watts", type=click.FloatRange(min=0))
@click.option(
    "--mode",
    type=click.Choice(["export", "production"], case_sensitive=False),
    default="export",
    show_default=True,
    help="Cap what goes to the grid (export) or the production itself.",
)
@click.option(
    "--slew-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=50.0,
    show_default=True,
    help="How fast the gateway moves to the limit (its own unit).",
)
@common
@click.pass_context
def set_limit(
    ctx: click.Context,
    /,
    *,
    watts: float,
    mode: str,
    slew_rate: float,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Limit export (or production) to WATTS; 0 stops all export."""

    async def act(c: Control) -> WriteResult:
        return await c.set_export_limit(
            watts,
            mode=mode.lower(),
            slew_rate=slew_rate,
            dry_run=flags.dry_run,
            timeout_s=flags.timeout_s,
        )

    _run_installer(ctx, act, flags)


@export_limit.command("clear")
@common
@click.pass_context
def clear_limit(ctx: click.Context, /, *, flags: WriteFlags, **_connection: Any) -> None:
    """Turn dynamic export limiting off."""

    async def act(c: Control) -> WriteResult:
        return await c.clear_export_limit(dry_run=flags.dry_run, timeout_s=flags.timeout_s)

    _run_installer(ctx, act, flags)


@export_limit.command("show")
@connection_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
def show_limit(*, as_json: bool, **params: Any) -> None:
    """The limit in force and the production switch, with whichever token may read them."""
    set_output(as_json=as_json)
    settings = settings_from(params)
    document = run(lambda: _read_limits(settings))
    if as_json:
        echo_json(document)
        return
    _print_limits(document)


async def _read_limits(settings: Settings) -> dict[str, Any]:
    from ...engine.export_limit import compose_export_limit
    from ...errors import EnvoyError
    from ..connect import connect

    settings = await _installer_settings(settings, required=False)
    read: dict[str, Any] = {}
    unreadable: dict[str, str] = {}
    async with connect(settings, probe=False) as envoy:
        for key in ("dpel", "production_power", "pel_settings", "sc_status"):
            try:
                read[key] = await envoy.read(key)
            except EnvoyError as err:
                unreadable[key] = str(err)
        role = envoy.role
    status = read.get("sc_status")
    unreadable.pop("sc_status", None)  # only battery sites and 8.x metered ones have it
    section = compose_export_limit(read.get("dpel"), read.get("production_power"), status=status)
    pel = read.get("pel_settings")
    return {
        "role": role,
        "export_limit": None if section is None else section.to_dict(),
        "power_export_limit": None if pel is None else pel.to_dict(),
        "unreadable": unreadable,
    }


def _print_limits(document: Mapping[str, Any]) -> None:
    section = document["export_limit"] or {}
    role = document["role"] or "unknown"
    if section.get("enabled") is True:
        unit = "export" if section.get("mode") == "export" else "production"
        click.echo(f"export limit: on, {unit} capped at {section['limit_watts']:g} W")
    elif section.get("enabled") is False:
        click.echo("export limit: off")
    else:
        click.echo(f"export limit: unknown (not readable with this {role} token)")
    active = section.get("active")
    if active is not None:
        click.echo(f"limiting now: {'yes, production is curtailed' if active else 'no'}")
    forced = section.get("production_forced_off")
    if forced is None:
        click.echo("production switch: unknown (readable with an installer token only)")
    else:
        click.echo(f"production switch: {'OFF (forced)' if forced else 'on'}")
    for key, message in document["unreadable"].items():
        click.echo(f"  ({key}: {message})", err=True)


@click.command("production", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument("state", type=click.Choice(["on", "off"], case_sensitive=False))
@common
@click.pass_context
def production(
    ctx: click.Context, /, *, host: str | None, state: str, flags: WriteFlags, **_c: Any
) -> None:
    """Switch all production on or off (installer token). Prefer `export-limit set 0`."""
    on = state.lower() == "on"
    prompt = (
        f"Switch ALL production off on {target_host(ctx)}? Once switched back on, the "
        "microinverters may stay off until the next morning; `enphase export-limit set 0` "
        "stops export without that risk"
    )

    async def act(c: Control) -> WriteResult:
        return await c.set_production(on, dry_run=flags.dry_run, timeout_s=flags.timeout_s)

    _run_installer(ctx, act, flags, confirm=None if on else prompt)

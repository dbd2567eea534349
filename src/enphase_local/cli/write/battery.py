"""`enphase battery`: show the batteries, or change their settings by the route that works.

    enphase battery [HOST]                      (the batteries and storage settings, as before)
    enphase battery reserve [HOST] 30           [--route auto|local|cloud]
    enphase battery mode [HOST] backup|self-consumption|economy
    enphase battery charge-from-grid [HOST] on|off [--accept-itc-disclaimer] [--window 02:00-05:00]
    enphase battery shutdown-level [HOST] 15
    enphase battery storm-guard [HOST] on|off

Why one group: these are the settings people change first, and from
firmware 8.2.4225 only the Enphase cloud changes them (the gateway accepts a
local write and ignores it). ``--route auto`` (the default) writes locally
before that firmware and through the cloud from it, when an Enlighten
account is given (``--username`` / ENPHASE_USERNAME, with ENPHASE_PASSWORD or
the session `enphase token` stored); the result says which route it took.
Accounts with multi-factor login give ``--otp CODE`` (or $ENPHASE_OTP), or
are asked for the code on a terminal. The cloud route is opt-in and says it
uses the Enphase cloud. Exit codes: those of `cli.write.run`, plus 13
accepted (by Enphase, waiting for the gateway) and 14 not confirmed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import click

from ...control import Control, WriteResult
from ..connect import HostFirst
from .run import WriteFlags, common, interactive, minutes, run_action

__all__ = ["battery", "cloud_attacher", "cloud_flags"]

_ROUTE = click.option(
    "--route",
    type=click.Choice(["auto", "local", "cloud"], case_sensitive=False),
    default="auto",
    show_default=True,
    help="local: the gateway's API; cloud: the Enphase cloud; auto: whichever works there.",
)
_OTP = click.option("--otp", metavar="CODE", help="One-time code (multi-factor Enlighten login).")
_SITE = click.option("--site-id", metavar="ID", help="Enlighten site id (several sites only).")


def cloud_flags(func: Any) -> Any:
    """--route, --otp and --site-id: how to reach the setting, and the Enlighten login's extras."""
    return _ROUTE(_OTP(_SITE(func)))


def cloud_attacher(route: str, otp: str | None, site_id: str | None) -> Any:
    """An ``attach(envoy, options)`` for `run_action`: the cloud route, when an account is given."""

    @contextlib.asynccontextmanager
    async def attach(envoy: Any, options: dict[str, Any]) -> AsyncIterator[None]:
        from ...net.battery_cloud import BatteryCloud
        from ...net.token_store import TokenStore
        from ..config import ENV, resolve

        settings = resolve({k: options.get(k) for k in ENV})
        username = settings.username
        if route == "local" or not username or "@" not in username:
            yield
            return
        code = otp or os.environ.get("ENPHASE_OTP")

        async def ask() -> str:  # only on a terminal; elsewhere the login says to give --otp
            return str(click.prompt("one-time code Enphase e-mailed you")).strip()

        cloud = BatteryCloud(
            username=username,
            password=settings.password,
            serial=envoy.info.serial,
            enlighten_url=settings.enlighten_url,
            otp=code or (ask if interactive() else None),
            store=TokenStore(settings.token_store),
            site_id=site_id,
        )
        try:
            envoy.control.use_cloud(cloud)
            yield
        finally:
            await cloud.close()

    return attach


class BatteryGroup(click.Group):
    """``enphase battery [HOST]`` shows; ``enphase battery SETTING ...`` changes one."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        words = [a for a in args if not a.startswith("-")]
        asking_help = any(a in ("-h", "--help") for a in args)
        if not any(w in self.commands for w in words) and not (asking_help and not words):
            args = ["show", *args]
        return super().parse_args(ctx, args)


@click.group("battery", cls=BatteryGroup, invoke_without_command=False)
def battery() -> None:
    """Batteries and storage settings; change mode, reserve, charge from grid, shutdown level.

    `enphase battery [HOST]` shows them. The settings commands take --route:
    from firmware 8.2.4225 only the Enphase cloud changes them (give an
    Enlighten account: --username, ENPHASE_PASSWORD); see docs/control.md.
    """


def _show() -> click.Command:
    from ..commands.read import battery as show

    return show


battery.add_command(_show(), "show")


def _run(ctx: click.Context, act: Any, flags: WriteFlags, route: str, **cloud: Any) -> None:
    run_action(ctx, act, flags, attach=cloud_attacher(route.lower(), **cloud))


@battery.command("reserve", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument("percent", type=click.FloatRange(0, 100))
@cloud_flags
@common
@click.pass_context
def reserve(
    ctx: click.Context,
    /,
    *,
    host: str | None,
    percent: float,
    route: str,
    otp: str | None,
    site_id: str | None,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Set the battery reserve kept for outages, in percent."""

    async def act(c: Control) -> WriteResult:
        return await c.set_reserve_soc(
            percent, route=route.lower(), dry_run=flags.dry_run, timeout_s=flags.timeout_s
        )

    _run(ctx, act, flags, route, otp=otp, site_id=site_id)


@battery.command("mode", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument(
    "mode", type=click.Choice(["backup", "self-consumption", "economy"], case_sensitive=False)
)
@cloud_flags
@common
@click.pass_context
def mode(
    ctx: click.Context,
    /,
    *,
    host: str | None,
    mode: str,
    route: str,
    otp: str | None,
    site_id: str | None,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Set the storage mode: backup (Full Backup), self-consumption or economy (Savings)."""

    async def act(c: Control) -> WriteResult:
        return await c.set_storage_mode(
            mode.lower(), route=route.lower(), dry_run=flags.dry_run, timeout_s=flags.timeout_s
        )

    _run(ctx, act, flags, route, otp=otp, site_id=site_id)


def _window(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    begin, sep, end = text.partition("-")
    if not sep:
        raise click.BadParameter(f"expected a window as HH:MM-HH:MM, got {text!r}")
    return minutes(begin), minutes(end)


@battery.command("charge-from-grid", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument("state", type=click.Choice(["on", "off"], case_sensitive=False))
@click.option(
    "--accept-itc-disclaimer",
    is_flag=True,
    help="Accept the ITC disclaimer first, where the site has not (cloud route).",
)
@click.option("--window", metavar="HH:MM-HH:MM", help="When to charge from the grid (cloud).")
@cloud_flags
@common
@click.pass_context
def charge_from_grid(
    ctx: click.Context,
    /,
    *,
    host: str | None,
    state: str,
    accept_itc_disclaimer: bool,
    window: str | None,
    route: str,
    otp: str | None,
    site_id: str | None,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Allow (on) or forbid (off) charging the batteries from the grid."""
    span = _window(window)

    async def act(c: Control) -> WriteResult:
        return await c.set_charge_from_grid(
            state.lower() == "on",
            route=route.lower(),
            accept_itc_disclaimer=accept_itc_disclaimer,
            window_min=span,
            dry_run=flags.dry_run,
            timeout_s=flags.timeout_s,
        )

    _run(ctx, act, flags, route, otp=otp, site_id=site_id)


@battery.command("shutdown-level", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument("percent", type=click.FloatRange(0, 100))
@cloud_flags
@common
@click.pass_context
def shutdown_level(
    ctx: click.Context,
    /,
    *,
    host: str | None,
    percent: float,
    route: str,
    otp: str | None,
    site_id: str | None,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Set the charge (percent) at which the batteries shut down (cloud route only)."""

    async def act(c: Control) -> WriteResult:
        return await c.set_shutdown_soc(
            percent, route=route.lower(), dry_run=flags.dry_run, timeout_s=flags.timeout_s
        )

    _run(ctx, act, flags, route, otp=otp, site_id=site_id)


@battery.command("storm-guard", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument("state", type=click.Choice(["on", "off"], case_sensitive=False))
@_OTP
@_SITE
@common
@click.pass_context
def storm_guard(
    ctx: click.Context,
    /,
    *,
    host: str | None,
    state: str,
    otp: str | None,
    site_id: str | None,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Turn Storm Guard on or off (cloud only: charge full ahead of a storm alert)."""

    async def act(c: Control) -> WriteResult:
        return await c.set_storm_guard(
            state.lower() == "on", dry_run=flags.dry_run, timeout_s=flags.timeout_s
        )

    _run(ctx, act, flags, "cloud", otp=otp, site_id=site_id)

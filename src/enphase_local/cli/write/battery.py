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
are asked for the code on a terminal (`cli.write.route`). The cloud route is
opt-in and says it uses the Enphase cloud. ``mode``, ``reserve`` and
``charge-from-grid`` are the very commands of ``enphase set``. Exit codes:
those of `cli.write.run`, plus 13 accepted (by Enphase, waiting for the
gateway) and 14 not confirmed.
"""

from __future__ import annotations

from typing import Any

import click

from ...control import Control, WriteResult
from ..connect import HostFirst
from .route import RouteFlags, route_flags
from .run import WriteFlags, common, run_action
from .site import charge_from_grid, reserve, storage_mode

__all__ = ["battery"]


class BatteryGroup(click.Group):
    """``enphase battery [HOST]`` shows; ``enphase battery SETTING ...`` changes one."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        words = [a for a in args if not a.startswith("-")]
        asking_help = any(a in ("-h", "--help") for a in args)
        if not any(w in self.commands for w in words) and not (asking_help and not words):
            args = ["show", *args]
        return super().parse_args(ctx, args)


@click.group("battery", cls=BatteryGroup)
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
battery.add_command(storage_mode, "mode")
battery.add_command(reserve, "reserve")
battery.add_command(charge_from_grid, "charge-from-grid")


@battery.command("shutdown-level", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument("percent", type=click.FloatRange(0, 100))
@route_flags
@common
@click.pass_context
def shutdown_level(
    ctx: click.Context,
    /,
    *,
    host: str | None,
    percent: float,
    via: RouteFlags,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Set the charge (percent) at which the batteries shut down (cloud route only)."""

    async def act(c: Control) -> WriteResult:
        return await c.set_shutdown_soc(
            percent, route=via.route, dry_run=flags.dry_run, timeout_s=flags.timeout_s
        )

    run_action(ctx, act, flags, attach=via.attach())


@battery.command("storm-guard", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument("state", type=click.Choice(["on", "off"], case_sensitive=False))
@route_flags
@common
@click.pass_context
def storm_guard(
    ctx: click.Context,
    /,
    *,
    host: str | None,
    state: str,
    via: RouteFlags,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Turn Storm Guard on or off (cloud only: charge full ahead of a storm alert)."""
    if via.route == "local":
        raise click.UsageError("Storm Guard has no local route: only the Enphase cloud changes it")

    async def act(c: Control) -> WriteResult:
        return await c.set_storm_guard(
            state.lower() == "on", dry_run=flags.dry_run, timeout_s=flags.timeout_s
        )

    run_action(ctx, act, flags, attach=RouteFlags("cloud", via.otp, via.site_id).attach())

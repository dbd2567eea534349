"""Writes that change how the site runs: storage settings, the grid relay, a dry contact.

    enphase set storage-mode HOST economy [--clear-opt-schedules] [--verify-after 120]
    enphase set reserve HOST 30
    enphase set charge-from-grid HOST on|off
    (each with --route auto|local|cloud, as `enphase battery mode|reserve|charge-from-grid`)
    enphase relay HOST off-grid|on-grid
    enphase contact HOST NC1 open|closed
    enphase contact-settings HOST NC1 --soc-low 20 --soc-high 80 ...
    enphase generator HOST mode off|on|auto
    enphase generator HOST exercise --day Sat --start 09:45 --duration 20 --weeks 3
    enphase generator HOST charge on|off
    enphase acb-sleep HOST SERIAL --min 20 --max 30  |  enphase acb-sleep HOST SERIAL... --clear

Every command takes ``--dry-run`` (print the request, send nothing), ``--json``
(print `WriteResult.to_dict()`), ``--timeout`` (seconds to poll for the new
value) and ``--yes``. Going off grid, opening a contact and starting the
generator ask for confirmation unless ``--yes`` (or ``--dry-run``) is given.
The storage, relay and contact commands are here, the contact-settings,
generator and acb-sleep commands in `cli.write.devices`; `cli.write.run`
does the connecting, printing and exit codes (0 confirmed or dry run, 10 pending, 11 ignored,
12 reverted, 2 bad arguments, 1 other errors).
"""

from __future__ import annotations

from typing import Any

import click

from ...control import Control, WriteResult
from ..connect import HostFirst, connection_flags
from .route import RouteFlags, route_flags
from .run import Unchanged, WriteFlags, common, minutes, run_action, target_host

__all__ = ["charge_from_grid", "contact", "relay", "reserve", "set_group", "storage_mode"]

_ON_OFF = click.Choice(["on", "off"], case_sensitive=False)
_VERIFY = click.option(
    "--verify-after",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="After a confirmed (or cloud-accepted) write, wait this long and check it again.",
)


@click.group("set")
@connection_flags
def set_group(**_connection: Any) -> None:
    """Change battery storage settings (mode, reserve, charge from grid)."""


@set_group.command("storage-mode", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument(
    "mode", type=click.Choice(["backup", "self-consumption", "economy"], case_sensitive=False)
)
@click.option(
    "--clear-opt-schedules",
    is_flag=True,
    help="Also turn opt_schedules off (the gateway ignores mode changes while it is on).",
)
@_VERIFY
@route_flags
@common
@click.pass_context
def storage_mode(
    ctx: click.Context,
    /,
    *,
    host: str | None,
    mode: str,
    clear_opt_schedules: bool,
    verify_after: float | None,
    via: RouteFlags,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Set the storage mode: backup, self-consumption or economy."""

    async def act(c: Control) -> WriteResult:
        return await c.set_storage_mode(
            mode,
            clear_opt_schedules=clear_opt_schedules,
            route=via.route,
            dry_run=flags.dry_run,
            timeout_s=flags.timeout_s,
        )

    run_action(ctx, act, flags, verify_after=verify_after, attach=via.attach())


@set_group.command("reserve", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument("percent", type=click.FloatRange(0, 100))
@_VERIFY
@route_flags
@common
@click.pass_context
def reserve(
    ctx: click.Context,
    /,
    *,
    host: str | None,
    percent: float,
    verify_after: float | None,
    via: RouteFlags,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Set the battery reserve kept for outages, in percent."""

    async def act(c: Control) -> WriteResult:
        return await c.set_reserve_soc(
            percent, route=via.route, dry_run=flags.dry_run, timeout_s=flags.timeout_s
        )

    run_action(ctx, act, flags, verify_after=verify_after, attach=via.attach())


def _window(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    begin, sep, end = text.partition("-")
    if not sep:
        raise click.BadParameter(f"expected a window as HH:MM-HH:MM, got {text!r}")
    return minutes(begin), minutes(end)


@set_group.command("charge-from-grid", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument("state", type=_ON_OFF)
@click.option(
    "--accept-itc-disclaimer",
    is_flag=True,
    help="Accept the ITC disclaimer first, where the site has not (cloud route).",
)
@click.option("--window", metavar="HH:MM-HH:MM", help="When to charge from the grid (cloud).")
@_VERIFY
@route_flags
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
    verify_after: float | None,
    via: RouteFlags,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Allow (on) or forbid (off) charging the batteries from the grid."""
    span = _window(window)

    async def act(c: Control) -> WriteResult:
        return await c.set_charge_from_grid(
            state.lower() == "on",
            route=via.route,
            accept_itc_disclaimer=accept_itc_disclaimer,
            window_min=span,
            dry_run=flags.dry_run,
            timeout_s=flags.timeout_s,
        )

    run_action(ctx, act, flags, verify_after=verify_after, attach=via.attach())


@click.command("relay", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument("where", type=click.Choice(["off-grid", "on-grid"], case_sensitive=False))
@common
@click.pass_context
def relay(
    ctx: click.Context,
    /,
    *,
    host: str | None,
    where: str,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Disconnect the site from the grid (off-grid) or reconnect it (on-grid)."""
    off = where.lower() == "off-grid"
    prompt = f"Disconnect {target_host(ctx)} from the grid? The site will run on batteries alone"

    async def act(c: Control) -> WriteResult:
        if off:
            return await c.go_off_grid(dry_run=flags.dry_run, timeout_s=flags.timeout_s)
        return await c.go_on_grid(dry_run=flags.dry_run, timeout_s=flags.timeout_s)

    run_action(ctx, act, flags, confirm=prompt if off else None)


@click.command("contact", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument("contact_id", metavar="ID")
@click.argument("state", type=click.Choice(["open", "closed"], case_sensitive=False))
@common
@click.pass_context
def contact(
    ctx: click.Context,
    /,
    *,
    host: str | None,
    contact_id: str,
    state: str,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Open or close a dry contact (NC1, NC2, NO1, NO2)."""
    opening = state.lower() == "open"
    prompt = f"Open dry contact {contact_id} on {target_host(ctx)}? What it drives will switch"

    async def act(c: Control) -> WriteResult:
        wanted = state.lower()
        preview = await c.set_dry_contact(contact_id, wanted, dry_run=True)
        if flags.dry_run:
            return preview
        if preview.before is not None and preview.before == preview.requested:
            raise Unchanged(preview, f"dry contact {contact_id} is already {wanted}")
        return await c.set_dry_contact(contact_id, wanted, timeout_s=flags.timeout_s)

    run_action(ctx, act, flags, confirm=prompt if opening else None)

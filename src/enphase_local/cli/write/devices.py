"""Write commands for the system controller's devices: contact settings, generator, ACB sleep.

    enphase contact-settings HOST NC1 --soc-low 20 --soc-high 80 ...
    enphase generator HOST mode off|on|auto
    enphase generator HOST exercise --day Sat --start 09:45 --duration 20 --weeks 3
    enphase generator HOST charge on|off
    enphase acb-sleep HOST SERIAL --min 20 --max 30  |  enphase acb-sleep HOST SERIAL... --clear

Options as described in `cli.write.site`.
"""

from __future__ import annotations

from typing import Any

import click

from ...control import Control, WriteResult
from ...sources.dry_contacts import SETTABLE_FIELDS
from ..connect import HostFirst, HostFirstGroup, connection_flags
from .run import WriteFlags, common, minutes, run_action, target_host

__all__ = ["acb_sleep", "contact_settings", "generator"]

_ON_OFF = click.Choice(["on", "off"], case_sensitive=False)
_ACTIONS = click.Choice(["apply", "shed", "schedule", "none"], case_sensitive=False)


@click.command("contact-settings", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument("contact_id", metavar="ID")
@click.option(
    "--type",
    "type_",
    type=click.Choice(["NONE", "PV", "LOAD", "3RD-PV"], case_sensitive=False),
    help="What the contact drives.",
)
@click.option("--grid-action", type=_ACTIONS)
@click.option("--micro-grid-action", type=_ACTIONS)
@click.option("--gen-action", type=_ACTIONS)
@click.option("--mode", type=click.Choice(["manual", "soc"], case_sensitive=False))
@click.option("--soc-low", type=click.FloatRange(0, 100), help="Battery SoC threshold, percent.")
@click.option("--soc-high", type=click.FloatRange(0, 100), help="Battery SoC threshold, percent.")
@click.option("--load-name")
@click.option("--priority", type=click.IntRange(min=1))
@click.option("--black-start", "black_s_start", type=click.FloatRange(min=0))
@click.option("--essential-start", metavar="HH:MM", help="Start of the essential window.")
@click.option("--essential-end", metavar="HH:MM", help="End of the essential window.")
@click.option("--override/--no-override", default=None)
@click.option("--manual-override/--no-manual-override", default=None)
@click.option("--pv-serial", "pv_serials", multiple=True, help="PV serial (repeat for more).")
@common
@click.pass_context
def contact_settings(
    ctx: click.Context,
    /,
    *,
    host: str | None,
    contact_id: str,
    flags: WriteFlags,
    **options: Any,
) -> None:
    """Change the settings of one dry contact; the others stay as they are."""
    changes: dict[str, Any] = {}
    for name in sorted(SETTABLE_FIELDS & options.keys()):  # the options named as the fields
        if options[name] is not None:
            changes[name] = options[name]
    if options["type_"] is not None:
        changes["type"] = options["type_"]
    for name in ("essential_start", "essential_end"):
        if options[name] is not None:
            changes[f"{name}_time"] = minutes(options[name]) * 60
    if options["pv_serials"]:
        changes["pv_serial_nb"] = list(options["pv_serials"])
    if not changes:
        raise click.UsageError("give at least one setting to change, e.g. --soc-low 20")

    async def act(c: Control) -> WriteResult:
        return await c.configure_dry_contact(
            contact_id, dry_run=flags.dry_run, timeout_s=flags.timeout_s, **changes
        )

    run_action(ctx, act, flags)


@click.group("generator", cls=HostFirstGroup)
@click.argument("host", required=False, metavar="[HOST]")
@connection_flags
def generator(host: str | None, **_connection: Any) -> None:
    """Generator: mode, exercise schedule, charging the batteries from it."""


@generator.command("mode")
@click.argument("mode", type=click.Choice(["off", "on", "auto"], case_sensitive=False))
@common
@click.pass_context
def generator_mode(
    ctx: click.Context,
    /,
    *,
    mode: str,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Set the generator to off, on (start it now) or auto."""
    host = target_host(ctx)
    starting = mode.lower() == "on"
    prompt = f"Start the generator on {host} now?"

    async def act(c: Control) -> WriteResult:
        return await c.set_generator_mode(
            mode.lower(), dry_run=flags.dry_run, timeout_s=flags.timeout_s
        )

    run_action(ctx, act, flags, confirm=prompt if starting else None)


@generator.command("exercise")
@click.option(
    "--day",
    type=click.Choice(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], case_sensitive=False),
)
@click.option("--start", metavar="HH:MM", help="Start time of the exercise run.")
@click.option("--duration", type=click.IntRange(10, 60), help="Minutes, in tens (10 to 60).")
@click.option("--weeks", type=click.IntRange(1, 4), help="Run every 1 to 4 weeks.")
@click.option("--start-soc", type=click.FloatRange(0, 100), help="Default start SoC, percent.")
@click.option("--stop-soc", type=click.FloatRange(0, 100), help="Default stop SoC, percent.")
@common
@click.pass_context
def generator_exercise(
    ctx: click.Context,
    /,
    *,
    day: str | None,
    start: str | None,
    duration: int | None,
    weeks: int | None,
    start_soc: float | None,
    stop_soc: float | None,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Change the exercise run and default SoC thresholds; the rest of the schedule stays."""
    start_minute = None if start is None else minutes(start)
    if all(v is None for v in (day, start_minute, duration, weeks, start_soc, stop_soc)):
        raise click.UsageError("give at least one of --day, --start, --duration, --weeks, ...")

    async def act(c: Control) -> WriteResult:
        return await c.set_generator_exercise(
            day=day,
            start_minute=start_minute,
            duration_minutes=duration,
            freq_in_weeks=weeks,
            start_soc_percent=start_soc,
            stop_soc_percent=stop_soc,
            dry_run=flags.dry_run,
            timeout_s=flags.timeout_s,
        )

    run_action(ctx, act, flags)


@generator.command("charge")
@click.argument("state", type=_ON_OFF)
@common
@click.pass_context
def generator_charge(
    ctx: click.Context,
    /,
    *,
    state: str,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Allow (on) or forbid (off) charging the batteries from the generator."""

    async def act(c: Control) -> WriteResult:
        on = state.lower() == "on"
        return await c.set_charge_from_generator(
            on, dry_run=flags.dry_run, timeout_s=flags.timeout_s
        )

    run_action(ctx, act, flags)


@click.command("acb-sleep", cls=HostFirst)
@click.argument("host", required=False, metavar="[HOST]")
@click.argument("serials", metavar="SERIAL...", nargs=-1)
@click.option("--min", "min_soc", type=click.IntRange(0, 100), help="Sleep from this SoC, %.")
@click.option("--max", "max_soc", type=click.IntRange(0, 100), help="up to this SoC, %.")
@click.option("--clear", is_flag=True, help="Wake the batteries: remove their sleep window.")
@common
@click.pass_context
def acb_sleep(
    ctx: click.Context,
    /,
    *,
    host: str | None,
    serials: tuple[str, ...],
    min_soc: int | None,
    max_soc: int | None,
    clear: bool,
    flags: WriteFlags,
    **_connection: Any,
) -> None:
    """Put an AC Battery to sleep within a SoC window (--min/--max), or wake them (--clear).

    HOST may be left out (``$ENPHASE_HOST``): AC Battery serials are all digits, a host is not.
    """
    if host is not None and host.isdigit():
        serials, host = (host, *serials), None
        ctx.params["host"] = None
    if not serials:
        raise click.UsageError("give the AC Battery serial(s): acb-sleep [HOST] SERIAL...")
    if clear:
        if min_soc is not None or max_soc is not None:
            raise click.UsageError("--clear takes no --min or --max")
    elif min_soc is None or max_soc is None:
        raise click.UsageError("give --min and --max, or --clear")
    elif len(serials) != 1:
        raise click.UsageError("give one serial with --min/--max (run once per battery)")

    async def act(c: Control) -> WriteResult:
        if clear:
            return await c.clear_acb_sleep(
                serials, dry_run=flags.dry_run, timeout_s=flags.timeout_s
            )
        assert min_soc is not None and max_soc is not None
        return await c.set_acb_sleep(
            serials[0], min_soc, max_soc, dry_run=flags.dry_run, timeout_s=flags.timeout_s
        )

    run_action(ctx, act, flags)

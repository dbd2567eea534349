"""`enphase watch HOST`: a live view (rich.live), or JSON lines, until Ctrl-C.

The loop asks `Envoy.update()` every ``--interval`` seconds; the client's
scheduler decides which endpoints are actually due, so a short interval
does not hammer the gateway. A failed update (the gateway restarting, a
timeout) is shown and retried at the next tick; only credential problems
end the watch. Ctrl-C ends it cleanly with exit status 0.

`watch_loop` is shared with `enphase demo`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from ...errors import EnvoyConnectionError, EnvoyHTTPError, EnvoyParseError
from ..connect import connect, connection_options, settings_from
from ..errors import set_output
from ..output import console, echo_json, run

__all__ = ["watch", "watch_loop"]

_TRANSIENT = (EnvoyConnectionError, EnvoyHTTPError, EnvoyParseError)


async def watch_loop(
    envoy: Any,
    *,
    interval: float,
    count: int | None,
    as_json: bool,
    title: str = "",
    panel: str = "enphase watch",
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> None:
    """Update every `interval` seconds, `count` times (forever when None), printing each."""
    live: Any = None
    # a file or a pipe gets one plain line per update, flushed: a live view would be
    # written only when the watch ends
    plain = not as_json and not sys.stdout.isatty()
    if not as_json and not plain:
        from rich.live import Live

        live = Live(console=console(), refresh_per_second=4, auto_refresh=False)
        live.start()
    try:
        done = 0
        while count is None or done < count:
            if done:
                await sleep(interval)
            try:
                document = (await envoy.update()).to_dict()
            except _TRANSIENT as err:
                click.echo(f"enphase: update failed, retrying in {interval:g} s: {err}", err=True)
                done += 1
                continue
            done += 1
            if as_json:
                echo_json(document, indent=None)
            elif plain:
                from ..render.live import plain_line

                click.echo(plain_line(document))
                sys.stdout.flush()
            else:
                from ..render.live import live_view

                footer = f"{title}every {interval:g} s; Ctrl-C to stop" if count is None else title
                live.update(live_view(document, footer=footer, title=panel), refresh=True)
    finally:
        if live is not None:
            live.stop()


@click.command("watch")
@connection_options
@click.option(
    "--interval",
    type=click.FloatRange(min=0.5),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds between updates.",
)
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many updates.")
@click.option("--json", "as_json", is_flag=True, help="One JSON contract document per line.")
def watch(*, interval: float, count: int | None, as_json: bool, **params: Any) -> None:
    """Live power flow (solar, house, grid, battery), per phase, until Ctrl-C."""
    set_output(as_json=as_json)
    settings = settings_from(params)

    async def go() -> None:
        async with connect(settings) as envoy:
            await watch_loop(envoy, interval=interval, count=count, as_json=as_json)

    try:
        run(go)
    except KeyboardInterrupt:
        click.echo("enphase: stopped", err=True)  # Ctrl-C is how a watch ends: exit 0

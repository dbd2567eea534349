"""`enphase watch HOST`: a live view (rich.live), or JSON lines, until Ctrl-C.

By default it follows `Envoy.live()`: balanced power flows about once a
second from the best live source the gateway allows (livedata, the meter
stream, or CT readings), each shown with its age; ``--json`` prints one
live frame per line (schema ``live/1``). With ``--interval S``, or on a
gateway with no live source, it asks `Envoy.update()` every S seconds
instead (the client's scheduler decides which endpoints are actually due,
so a short interval does not hammer the gateway) and ``--json`` prints the
whole contract document. A failed update is shown and retried at the next
tick; only credential problems end the watch. Ctrl-C ends it with status 0.

`watch_loop` (polling) is shared with `enphase demo`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from ...errors import (
    EnvoyConnectionError,
    EnvoyFeatureUnavailable,
    EnvoyHTTPError,
    EnvoyParseError,
)
from ..connect import connect, connection_options, settings_from
from ..errors import set_output
from ..output import console, echo_json, run

__all__ = ["live_loop", "watch", "watch_loop"]

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


def gateway_doc(envoy: Any) -> dict[str, Any]:
    """The snapshot's ``gateway`` section for a live view: metered, auth and role included."""
    import dataclasses

    from ...engine.snapshot import gateway_summary

    summary = gateway_summary(
        envoy.info, envoy.host, envoy.auth_kind, envoy.role, envoy.capabilities
    )
    return dataclasses.asdict(summary)


async def live_loop(envoy: Any, *, count: int | None, as_json: bool) -> bool:
    """Follow `envoy.live()`, `count` frames (forever when None); False if it has none."""
    import contextlib
    import time

    live: Any = None
    plain = not as_json and not sys.stdout.isatty()
    gateway = gateway_doc(envoy)
    done = 0
    try:
        async with contextlib.aclosing(envoy.live(interval=1.0)) as frames:
            async for frame in frames:
                doc = frame.to_json(now=time.time())
                if as_json:
                    echo_json(doc, indent=None)
                elif plain:
                    from ..render.live import frame_line

                    click.echo(frame_line(doc))
                    sys.stdout.flush()
                else:
                    from rich.live import Live

                    from ..render.live import frame_view

                    if live is None:
                        live = Live(console=console(), refresh_per_second=4, auto_refresh=False)
                        live.start()
                    live.update(
                        frame_view(doc, gateway, footer="live, every second; Ctrl-C to stop"),
                        refresh=True,
                    )
                done += 1
                if count is not None and done >= count:
                    break
    except EnvoyFeatureUnavailable as err:
        if done:
            raise
        click.echo(f"enphase: no live source ({err}); polling updates instead", err=True)
        return False
    finally:
        if live is not None:
            live.stop()
    return True


@click.command("watch")
@connection_options
@click.option(
    "--interval",
    type=click.FloatRange(min=0.5),
    default=None,
    metavar="SECONDS",
    help="Poll whole updates every SECONDS instead of following live power each second.",
)
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many frames/updates.")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON document per line (live frame or snapshot)."
)
def watch(*, interval: float | None, count: int | None, as_json: bool, **params: Any) -> None:
    """Live power flow (solar, house, grid, battery) every second, until Ctrl-C."""
    set_output(as_json=as_json)
    settings = settings_from(params)

    async def go() -> None:
        async with connect(settings) as envoy:
            if interval is None and await live_loop(envoy, count=count, as_json=as_json):
                return
            await watch_loop(envoy, interval=interval or 5.0, count=count, as_json=as_json)

    try:
        run(go)
    except KeyboardInterrupt:
        click.echo("enphase: stopped", err=True)  # Ctrl-C is how a watch ends: exit 0

"""`enphase demo`: the whole tool against a built-in simulated gateway, offline.

Why: the first command of the README must show something real on a fresh
machine with no gateway, no account and no network. The demo starts the
simulator in this process on free 127.0.0.1 ports (HTTPS with its
self-signed certificate, as a real firmware-7+ gateway), takes a token it
issues, connects exactly as `watch` does, and shows the live view. The
simulated clock starts at 11:00 local time of the site, today, and runs
``--speed`` times faster (60: a minute per second), so the sun moves.

    enphase demo                  live view until Ctrl-C
    enphase demo --once           one snapshot as tables, then exit
    enphase demo --json           one JSON snapshot, then exit
    enphase demo --json --count 5 five JSON lines
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
import zoneinfo
from typing import Any

import click

from ...simulator import PRESETS
from ..config import Settings
from ..connect import connect, setup_logging
from ..errors import set_output
from ..output import console, run

__all__ = ["demo", "demo_start"]


def site_zone(timezone: str) -> dt.tzinfo:
    """The simulated site's time zone (UTC when the name is unknown here)."""
    try:
        return zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def demo_start(timezone: str, now: float | None = None) -> float:
    """Epoch seconds of 11:00 today in `timezone`: mid-morning sun, rising production."""
    tz = site_zone(timezone)
    today = dt.datetime.fromtimestamp(time.time() if now is None else now, tz).date()
    return dt.datetime.combine(today, dt.time(11, 0), tz).timestamp()


async def _demo(
    preset: str, *, speed: float, once: bool, as_json: bool, count: int | None, interval: float
) -> None:
    from ..render.format import set_display_zone

    config = PRESETS[preset]
    set_display_zone(site_zone(config.timezone))  # the site's clock, as documented
    try:
        await _serve_and_show(
            preset, config, speed=speed, once=once, as_json=as_json, count=count,
            interval=interval,
        )  # fmt: skip
    finally:
        set_display_zone(None)


async def _serve_and_show(
    preset: str, config: Any, *, speed: float, once: bool, as_json: bool, count: int | None,
    interval: float,
) -> None:  # fmt: skip
    """Serve the simulated site and show it, as `watch` (or `read` with --once) would."""
    from ...firmware import Firmware
    from ...simulator import SimClock, SimulatedGateway, SiteBackend
    from .watch import watch_loop

    clock = SimClock(start=demo_start(config.timezone), speed=speed)
    backend = SiteBackend(config, clock, seed=0)
    # a throwaway token store: the simulator's certificate must not be trusted in the user's
    scratch = tempfile.TemporaryDirectory(prefix="enphase-demo-")
    store = os.path.join(scratch.name, "tokens.json")
    async with SimulatedGateway(backend, clock=clock) as gw:
        tokens = Firmware.parse(gw.firmware).uses_tokens
        if tokens:
            settings = Settings(host=gw.https_host, token=gw.owner_token(), token_store=store)
        else:
            settings = Settings(
                host=gw.http_host, username="envoy", password=gw.owner_password, token_store=store
            )
        click.echo(
            f"enphase demo: simulated {preset} gateway {gw.serial} (firmware {gw.firmware}) "
            f"at {gw.https_url if tokens else gw.http_url}, clock {speed:g}x, "
            f"times in the site's zone ({config.timezone})",
            err=True,
        )
        async with connect(settings, clock=clock) as envoy:
            if once and not as_json:
                from ..render.snapshot import snapshot_view

                console().print(snapshot_view((await envoy.update()).to_dict()))
                return
            if as_json and count is None:
                count = 1
            title = f"demo: {preset}, simulated clock {speed:g}x; "
            await watch_loop(
                envoy, interval=interval, count=count, as_json=as_json, title=title,
                panel="enphase demo",
            )  # fmt: skip


@click.command("demo")
@click.option(
    "--preset",
    type=click.Choice(sorted(PRESETS)),
    default="battery-backup",
    show_default=True,
    help="Which simulated site to show.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Simulated seconds per real second (0 freezes the clock).",
)
@click.option("--once", is_flag=True, help="Print one snapshot as tables and exit.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one snapshot unless --count).")
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many updates.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="Real seconds between updates.",
)
@click.option("--debug", is_flag=True, help="Debug logs (redacted) and tracebacks.")
def demo(
    *,
    preset: str,
    speed: float,
    once: bool,
    as_json: bool,
    count: int | None,
    interval: float,
    debug: bool,
) -> None:
    """Try everything against a built-in simulated gateway (no hardware, no network)."""
    set_output(as_json=as_json, debug=debug)
    setup_logging(debug)
    if once and count is not None:
        raise click.UsageError("use --once or --count, not both")
    try:
        run(
            lambda: _demo(
                preset, speed=speed, once=once, as_json=as_json, count=count, interval=interval
            )
        )
    except KeyboardInterrupt:
        click.echo("enphase demo: stopped", err=True)

"""`enphase discover`: the gateways on the local network, found over mDNS.

Listens ``--timeout`` seconds (IPv4 and IPv6) for ``_enphase-envoy._tcp``
announcements, then reads each gateway's public ``/info`` for its serial
and firmware, so what is shown is what the gateway says now. Needs the
``discovery`` extra (zeroconf). Finding none is not an error (exit 0, an
empty list): scripts decide.
"""

from __future__ import annotations

import asyncio

import click

from ..discovery import Found, browse, identify
from ..errors import set_output
from ..output import console, echo_json, progress, run

__all__ = ["discover"]


async def _discover(timeout_s: float, read_info: bool) -> list[Found]:
    found = await browse(timeout_s)
    if read_info and found:
        found = list(await asyncio.gather(*(identify(f) for f in found)))
    return sorted(found, key=lambda f: (f.serial or "", f.host))


@click.command("discover")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.2, max=60),
    default=3.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to listen for announcements.",
)
@click.option("--no-info", is_flag=True, help="Do not read /info (announcement only).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
def discover(*, timeout: float, no_info: bool, as_json: bool) -> None:
    """Find gateways on the local network (mDNS): address, serial, firmware."""
    set_output(as_json=as_json)
    import zeroconf  # noqa: F401 - a missing `discovery` extra is reported here, by name

    with progress(f"listening for gateways ({timeout:g} s)..."):
        found = run(lambda: _discover(timeout, not no_info))
    if as_json:
        echo_json({"gateways": [f.to_dict() for f in found]})
        return
    if not found:
        click.echo(f"no gateway announced itself in {timeout:g} s", err=True)
        return
    from ..render.format import DASH, table

    t = table(f"Gateways ({len(found)})", "Host", "Serial", "Firmware", "Addresses", numeric_from=9)
    for f in found:
        firmware = f.firmware or (f"protocol {f.protovers}" if f.protovers else DASH)
        t.add_row(f.host, f.serial or DASH, firmware, ", ".join(f.addresses) or DASH)
    console().print(t)
    for f in found:
        if f.error:
            click.echo(f"enphase: {f.host}: /info not read: {f.error}", err=True)

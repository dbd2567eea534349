"""Finding gateways on the local network over mDNS (the ``discovery`` extra: zeroconf).

Why: a new user does not know the gateway's address. Gateways announce
``_enphase-envoy._tcp.local.`` with TXT records ``serialnum`` and
``protovers``; `browse` listens for a bounded time on IPv4 and IPv6, and
`identify` asks each one's public ``/info`` for its serial and firmware
(the announcement alone can be stale or partial).

`enphase discover` (below) lists them; `only_gateway` is what commands use
when nothing names a gateway: exactly
one found is used and said on stderr; none or several is a usage error that
lists what was found. ``ENPHASE_DISCOVER_TIMEOUT`` sets how long it listens
(seconds, default 2; 0 turns it off).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
from dataclasses import dataclass, field
from typing import Any

import click

from .errors import CliError, set_output
from .output import console, echo_json, progress, run

__all__ = [
    "NO_HOST",
    "SERVICE_TYPE",
    "Found",
    "browse",
    "discover",
    "discover_timeout",
    "found_from_info",
    "identify",
    "only_gateway",
]

SERVICE_TYPE = "_enphase-envoy._tcp.local."
NO_HOST = (
    "no gateway address: give HOST, or --host, or set ENPHASE_HOST, or `host` in the config file"
)
DEFAULT_TIMEOUT_S = 2.0


@dataclass(slots=True)
class Found:
    """One announced gateway: where it is and what it says about itself."""

    name: str
    addresses: list[str]
    port: int | None
    serial: str | None
    protovers: str | None
    scheme: str | None = None
    firmware: str | None = None  # from /info, when `identify` could read it
    error: str | None = None  # why /info could not be read
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        """What to give as HOST: IPv4 first, a port only when it is not the scheme's own."""
        if not self.addresses:
            return self.name
        ordered = sorted(self.addresses, key=lambda a: ipaddress.ip_address(a).version)
        address = ordered[0]
        shown = f"[{address}]" if ":" in address else address
        scheme = self.scheme or ("https" if self.port == 443 else "http")
        if self.port in (None, 80) and scheme == "http":
            return shown
        port = "" if (scheme, self.port) == ("https", 443) else f":{self.port}"
        return f"{scheme}://{shown}{port}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "serial": self.serial,
            "firmware": self.firmware,
            "protovers": self.protovers,
            "addresses": self.addresses,
            "port": self.port,
            "name": self.name,
            "error": self.error,
        }


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def found_from_info(info: Any) -> Found:
    """A `Found` from a resolved zeroconf ``ServiceInfo`` (TXT keys are bytes)."""
    props = {_text(k) or "": _text(v) or "" for k, v in (info.properties or {}).items()}
    addresses = sorted(set(info.parsed_scoped_addresses()), key=lambda a: (":" in a, a))
    return Found(
        name=str(info.name),
        addresses=addresses,
        port=info.port,
        serial=props.pop("serialnum", None) or None,
        protovers=props.pop("protovers", None) or None,
        scheme=props.pop("scheme", None) or None,
        extra=props,
    )


async def browse(timeout_s: float) -> list[Found]:
    """Every gateway announcing itself within `timeout_s` seconds (IPv4 and IPv6)."""
    from zeroconf import IPVersion
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    names: list[str] = []

    def on_change(**kwargs: Any) -> None:
        name = str(kwargs["name"])
        if name not in names:
            names.append(name)

    azc = AsyncZeroconf(ip_version=IPVersion.All)
    try:
        browser = AsyncServiceBrowser(azc.zeroconf, [SERVICE_TYPE], handlers=[on_change])
        try:
            await asyncio.sleep(timeout_s)
        finally:
            await browser.async_cancel()
        found: list[Found] = []
        for name in names:
            info = AsyncServiceInfo(SERVICE_TYPE, name)
            if await info.async_request(azc.zeroconf, max(500, int(timeout_s * 500))):
                found.append(found_from_info(info))
        return found
    finally:
        await azc.async_close()


async def identify(found: Found, timeout_s: float = 5.0) -> Found:
    """Serial and firmware from the gateway's public /info (no credentials needed)."""
    from ..client import Envoy
    from ..net.backoff import RetryPolicy
    from ..net.exchange import Timeouts
    from ..sources.keys import SourceKey
    from ..sources.table import SOURCES

    envoy = Envoy(
        found.host, timeouts=Timeouts(timeout_s, timeout_s), retry=RetryPolicy(attempts=1)
    )
    try:
        result = await envoy.request("GET", "/info")
        if result.status != 200:
            found.error = f"/info answered HTTP {result.status}"
            return found
        info = SOURCES[SourceKey.INFO].parse(result.body)
        found.serial, found.firmware = info.serial or found.serial, info.firmware
    except Exception as err:
        found.error = str(err) or type(err).__name__
    finally:
        await envoy.close()
    return found


def discover_timeout() -> float:
    """Seconds to listen when a command needs a gateway (``ENPHASE_DISCOVER_TIMEOUT``)."""
    text = os.environ.get("ENPHASE_DISCOVER_TIMEOUT", "")
    try:
        value = float(text) if text else DEFAULT_TIMEOUT_S
    except ValueError:
        raise CliError(
            "usage", f"ENPHASE_DISCOVER_TIMEOUT={text!r} is not a number of seconds"
        ) from None
    return max(0.0, value)


def only_gateway() -> str:
    """The address of the only gateway on the network; a usage error otherwise."""
    timeout = discover_timeout()
    if timeout <= 0:
        raise CliError("usage", NO_HOST)
    try:
        import zeroconf  # noqa: F401 - only to know whether discovery is installed
    except ImportError:
        raise CliError(
            "usage",
            f"{NO_HOST} (or install the `discovery` extra to find it on the network: "
            "pip install 'enphase-local[discovery]')",
        ) from None
    from .output import say

    with progress(f"looking for gateways ({timeout:g} s)..."):
        found = asyncio.run(browse(timeout))
    if not found:
        raise CliError("usage", f"{NO_HOST}; none announced itself on the network")
    if len(found) > 1:
        listed = ", ".join(f"{f.serial or '?'} at {f.host}" for f in found)
        raise CliError("usage", f"{len(found)} gateways found ({listed}): say which one as HOST")
    only = found[0]
    say(f"using the only gateway found: {only.serial or '?'} at {only.host}")
    return only.host


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
    from .render.format import DASH, table

    t = table(f"Gateways ({len(found)})", "Host", "Serial", "Firmware", "Addresses", numeric_from=9)
    for f in found:
        firmware = f.firmware or (f"protocol {f.protovers}" if f.protovers else DASH)
        t.add_row(f.host, f.serial or DASH, firmware, ", ".join(f.addresses) or DASH)
    console().print(t)
    for f in found:
        if f.error:
            click.echo(f"enphase: {f.host}: /info not read: {f.error}", err=True)

"""`enphase simulate`: serve simulated gateways until interrupted.

Why a command: the demo, the benchmarks and anyone trying the library
without hardware need a gateway at hand. It prints what a client needs (the
URLs, the serial, digest passwords or a ready token, the cloud emulation)
and serves until Ctrl-C or SIGTERM, then exits cleanly. It listens on
127.0.0.1 unless told otherwise: the simulator is a test tool, not a service.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import json
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from enphase_local.simulator import NO_LATENCY, REALISTIC_LATENCY, Backend, Faults, SimClock

__all__ = ["simulate"]

_DEFAULT_PRESETS = ("default", "metered-split")


def _fail(message: str) -> click.UsageError:
    return click.UsageError(message)


def _preset_names() -> list[str]:
    try:
        from enphase_local.simulator import PRESETS
    except ImportError:
        return []
    return list(PRESETS)


def _fleet_serial(base: str, index: int) -> str:
    """Serial of fleet member `index`: the first six digits of `base`, then a running number."""
    return f"{base[:6]}{index + 1:06d}"


def _site_backends(
    preset: str | None, site: Path | None, count: int, clock: SimClock, seed: int
) -> list[Backend]:
    try:
        from enphase_local.simulator import PRESETS, SiteBackend, load_site
    except ImportError as err:
        raise click.ClickException(
            f"the site model is not available ({err}); use --fixtures DIR"
        ) from None
    if site is not None:
        try:
            config = load_site(site)
        except (OSError, ValueError) as err:
            raise _fail(f"--site {site}: {err}") from None
    else:
        name = preset or next((p for p in _DEFAULT_PRESETS if p in PRESETS), next(iter(PRESETS)))
        if name not in PRESETS:
            raise _fail(f"unknown preset {name!r} (known: {', '.join(PRESETS)})")
        config = PRESETS[name]
    if count == 1:
        return [SiteBackend(config, clock, seed=seed)]
    return [
        SiteBackend(
            dataclasses.replace(config, serial=_fleet_serial(config.serial, i)),
            clock,
            seed=seed + i,
        )
        for i in range(count)
    ]


def _replay_backends(folder: Path, count: int) -> list[Backend]:
    from enphase_local.simulator import ReplayBackend

    try:
        first = ReplayBackend(folder)
    except (OSError, ValueError) as err:
        raise _fail(f"--fixtures {folder}: {err}") from None
    if count == 1:
        return [first]
    return [ReplayBackend(folder, serial=_fleet_serial(first.serial, i)) for i in range(count)]


def _check_faults(specs: tuple[str, ...]) -> None:
    probe = Faults(clock=SimClock())
    for spec in specs:
        try:
            probe.apply_spec(spec)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--fault") from None


def _describe(gateway: Any, *, first: bool) -> list[str]:
    scheme = gateway.core.personality.scheme
    lines = [
        f"gateway {gateway.serial}  firmware {gateway.firmware}  ({scheme} auth)",
        f"  https: {gateway.https_url}   (self-signed certificate)",
        f"  http:  {gateway.http_url}",
    ]
    if scheme == "digest":
        passwords = gateway.passwords
        lines.append(
            f"  digest users: envoy / {passwords['envoy']}   installer / {passwords['installer']}"
        )
    else:
        lines.append(f"  owner token: {gateway.owner_token()}")
    if first:
        lines.append(f"  control: {gateway.http_url}/__sim__/")
    return lines


def _manifest(gateways: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "serial": g.serial,
            "firmware": g.firmware,
            "http_url": g.http_url,
            "https_url": g.https_url,
            "https_host": g.https_host,
            "owner_token": g.owner_token(),
            "installer_token": g.installer_token(),
            "passwords": dict(g.passwords),
        }
        for g in gateways
    ]


async def _serve(
    backends: list[Backend],
    *,
    clock: SimClock,
    host: str,
    ports: tuple[int, int],
    specs: tuple[str, ...],
    latency: str,
    seed: int,
    manifest: Path | None,
    echo: Callable[[str], None],
    advertise: bool = False,
) -> None:
    from enphase_local.simulator import SimulatedFleet

    profile = REALISTIC_LATENCY if latency == "realistic" else NO_LATENCY
    fleet = SimulatedFleet(
        backends, host=host, http_port=ports[0], https_port=ports[1], clock=clock,
        latency=profile, seed=seed,
    )  # fmt: skip
    for gateway in fleet:
        for spec in specs:
            gateway.faults.apply_spec(spec)
    try:
        await fleet.start()
    except OSError as err:
        raise _fail(f"cannot listen on {host}: {err.strerror or err}") from None
    try:
        gateways = list(fleet)
        if len(gateways) > 1:
            echo(f"enphase simulate: fleet of {len(gateways)} gateways on {host}")
        for index, gateway in enumerate(gateways[:3]):
            for line in _describe(gateway, first=index == 0):
                echo(line)
        if len(gateways) > 3:
            last = gateways[-1]
            echo(f"... and {len(gateways) - 3} more, up to {last.serial} at {last.https_url}")
        urls = fleet.cloud_base_url
        echo(f"cloud: enlighten {urls.enlighten}  entrez {urls.entrez}")
        echo(
            "  account owner@example.com / owner-password (mfa@example.com / mfa-password, "
            "one-time code 123456); battery settings too: "
            "ENPHASE_ENLIGHTEN_URL=<enlighten> enphase battery reserve HOST 30"
        )
        echo("  installer installer@example.com / installer-password (enphase token --installer)")
        faults = ", ".join(specs) or "none"
        echo(f"latency: {latency}; faults: {faults}; clock speed {clock.speed:g}x")
        if manifest is not None:
            text = json.dumps(_manifest(gateways), indent=2)
            await asyncio.to_thread(manifest.write_text, text)
            echo(f"manifest: {manifest}")
        advertiser = await _advertise(gateways, host, echo) if advertise else None
        if not _is_loopback(host):
            click.echo(
                f"warning: listening on {host}: anyone who can reach it can use the control "
                "endpoint /__sim__/ and the printed credentials",
                err=True,
            )
        echo("serving; press Ctrl-C to stop")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            if advertiser is not None:
                await advertiser.stop()
    finally:
        await fleet.stop()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


async def _advertise(gateways: list[Any], host: str, echo: Callable[[str], None]) -> Any:
    """Announce every gateway over mDNS as a real one does (``--advertise``)."""
    from enphase_local.simulator.advertise import Advertiser, local_addresses, service_info

    try:
        wildcard = ipaddress.ip_address(host).is_unspecified
        addresses = local_addresses() if wildcard else [host]
    except ValueError:  # a name such as localhost
        addresses = [socket.gethostbyname(host)]
    infos = []
    for gateway in gateways:
        https = gateway.core.personality.scheme != "digest"
        port = urlsplit(gateway.https_url if https else gateway.http_url).port or 0
        infos.append(service_info(gateway.serial, gateway.firmware, addresses, port, https=https))
    advertiser = Advertiser(infos, addresses)
    try:
        await advertiser.start()
    except OSError as err:
        raise _fail(f"--advertise: cannot announce over mDNS: {err.strerror or err}") from None
    echo(f"advertising {len(infos)} gateway(s) over mDNS (_enphase-envoy._tcp) on {host}")
    return advertiser


@click.command("simulate")
@click.option("--preset", help=f"A named site: {', '.join(_preset_names()) or 'see presets.py'}.")
@click.option(
    "--site",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A site described in a TOML or JSON file.",
)
@click.option(
    "--fixtures",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Replay a folder of real captures exactly as recorded.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    help="HTTP port (0: any free port; a fleet counts up from it).",
)
@click.option(
    "--https-port",
    type=click.IntRange(0, 65535),
    default=0,
    help="HTTPS port (0: any free port; a fleet counts up from it).",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Simulated seconds per real second (0 freezes the clock).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random choice.")
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="SPEC",
    help="Inject a fault, e.g. error-rate=0.05, fail-next=3:503@/production.json, "
    "drop-rate=0.01, truncate-next=1, garbage-rate=0.01, html-error-rate=0.01, "
    "outage=3, reboot=60, expire-tokens, unauthorized=/ivp/meters, production-401, "
    "latency-scale=0.5. Repeatable.",
)
@click.option(
    "--latency",
    type=click.Choice(["realistic", "none"]),
    default="realistic",
    show_default=True,
    help="Per-endpoint response times of a real gateway, or none.",
)
@click.option(
    "--fleet",
    type=click.IntRange(1, 5000),
    default=1,
    show_default=True,
    help="Serve this many gateways, each on its own ports.",
)
@click.option(
    "--advertise",
    is_flag=True,
    help="Announce the gateways over mDNS, as real ones do (needs the `discovery` extra).",
)
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every gateway's URLs and credentials to this JSON file.",
)
def simulate(  # noqa: PLR0917 - click passes every option positionally
    preset: str | None,
    site: Path | None,
    fixtures: Path | None,
    host: str,
    port: int,
    https_port: int,
    speed: float,
    seed: int,
    faults: tuple[str, ...],
    latency: str,
    fleet: int,
    advertise: bool,
    manifest: Path | None,
) -> int:
    """Serve simulated Enphase gateways until interrupted (Ctrl-C or SIGTERM)."""
    chosen = [name for name, value in (("--preset", preset), ("--site", site),
                                       ("--fixtures", fixtures)) if value is not None]  # fmt: skip
    if len(chosen) > 1:
        raise _fail(f"use only one of {', '.join(chosen)}")
    if port and https_port and abs(port - https_port) < fleet:
        raise _fail("--port and --https-port ranges overlap")
    _check_faults(faults)
    clock = SimClock(speed=speed)
    if fixtures is not None:
        backends = _replay_backends(fixtures, fleet)
    else:
        backends = _site_backends(preset, site, fleet, clock, seed)

    def echo(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()

    asyncio.run(
        _serve(
            backends, clock=clock, host=host, ports=(port, https_port), specs=faults,
            latency=latency, seed=seed, manifest=manifest, echo=echo, advertise=advertise,
        )
    )  # fmt: skip
    click.echo("enphase simulate: stopped", err=True)
    return 0

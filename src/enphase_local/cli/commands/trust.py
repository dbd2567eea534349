"""`enphase trust HOST`: show the gateway's certificate fingerprint and trust it.

    enphase trust [HOST] [--yes] [--json]

Why a command: the library trusts a gateway's self-signed certificate on
first use and refuses to send a token once it changes
(`EnvoyCertificateChangedError`). A firmware update may legitimately
generate a new certificate; this is how the owner accepts it, knowingly.
It connects over HTTPS without checking anything, reads the public
``/info`` (no credential is sent), shows the serial and the SHA-256
fingerprint next to the one trusted so far, and asks before recording it in
the token store (``--yes`` for scripts).

All of this command lives in this one file; the group names it in `app`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import click

from ..connect import connection_flags

__all__ = ["trust"]


async def _inspect(host: str, wait_s: float) -> dict[str, Any]:
    """Serial, firmware and certificate fingerprint of the gateway at `host` (HTTPS only)."""
    from ...errors import EnvoyConnectionError, EnvoyHTTPError
    from ...net.exchange import Timeouts
    from ...net.transport import Transport
    from ...net.trust import CertificateTrust
    from ...sources.keys import SourceKey
    from ...sources.registry import Speed
    from ...sources.table import SOURCES

    source = SOURCES[SourceKey.INFO]
    trust = CertificateTrust()  # learning: records whatever certificate is presented
    async with Transport(
        host, scheme="https", trust=trust, timeouts=Timeouts(fast_s=wait_s)
    ) as transport:
        result = await transport.send(
            "GET", source.path, speed=Speed.FAST, retry=False, max_bytes=source.max_bytes
        )
        netloc = transport.netloc
    if result.status != 200:
        raise EnvoyHTTPError(result.status, source.path)
    if trust.pinned_text is None:
        raise EnvoyConnectionError(f"{netloc} presented no certificate over HTTPS")
    info = source.parse(result.body)
    return {
        "host": netloc,
        "serial": info.serial,
        "firmware": info.firmware,
        "fingerprint": trust.pinned_text,
    }


def _describe(found: dict[str, Any], previous: str | None) -> list[str]:
    lines = [
        f"gateway {found['serial']} at {found['host']} (firmware {found['firmware']})",
        f"  certificate: SHA256 {found['fingerprint']}",
    ]
    if previous is None:
        lines.append("  not trusted yet (no certificate on record for this serial)")
    elif previous == found["fingerprint"]:
        lines.append("  already trusted")
    else:
        lines += [
            f"  trusted so far: SHA256 {previous}",
            "  The certificate CHANGED. A firmware update may generate a new one; if the",
            "  gateway was not just updated, something on your network may be intercepting",
            "  the connection: do not trust it. You can compare the fingerprint with the one",
            "  your browser shows for https://<gateway address> (certificate details).",
        ]
    return lines


@click.command("trust")
@click.argument("host", required=False)
@click.option("--yes", "-y", is_flag=True, help="Trust without asking (scripts).")
@click.option("--json", "as_json", is_flag=True, help="Print what was found as JSON.")
@connection_flags
def trust(host: str | None, yes: bool, as_json: bool, **connection: Any) -> None:
    """Show the gateway's certificate fingerprint and trust it for its serial.

    Needed once after a firmware update that replaced the certificate: the
    library then refuses to send the token until the new one is trusted.
    """
    from ...net.token_store import TokenStore
    from ..connect import settings_from
    from ..errors import CliError, set_output

    set_output(as_json=as_json)
    settings = settings_from({"host": host, **connection})
    found = asyncio.run(_inspect(settings.require_host(), settings.timeout or 10.0))
    store = TokenStore(settings.token_store)
    previous = store.certificate(found["serial"])
    found["previous"] = previous
    already = previous == found["fingerprint"]
    if not as_json:
        for line in _describe(found, previous):
            click.echo(line)
    if not already:
        if not yes:
            if not sys.stdin.isatty():
                raise CliError(
                    "usage",
                    "not asking without a terminal: check the fingerprint, then run again "
                    "with --yes to trust it",
                )
            if not click.confirm(f"Trust this certificate for gateway {found['serial']}?"):
                click.echo("not trusted: nothing changed", err=True)
                sys.exit(1)
        store.put_certificate(found["serial"], found["fingerprint"])
    found["trusted"] = True
    found["store"] = str(store.path)
    if as_json:
        click.echo(json.dumps(found, sort_keys=True))
    elif not already:
        click.echo(f"trusted: recorded in {store.path}")

"""`enphase info HOST`: who the gateway is, how it authenticates, what it can do.

Why two depths: ``/info`` answers anyone, so identity and firmware need no
credentials at all (useful before getting a token). When credentials are at
hand (a token from flags, environment, config or the token store; a
username and password; or a pre-7 gateway's default digest password) the
command also probes the gateway and lists its capabilities and what each
endpoint answered. That list is the gateway's answer now, never the probe
cache's memory: `info` always probes (it is the command that verifies the
credentials and says what each endpoint does today), and refreshes the cache.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from ...errors import EnvoyHTTPError
from ..config import Settings
from ..connect import connection_options, make_envoy, settings_from
from ..errors import set_output
from ..output import console, echo_json, progress, run

__all__ = ["info"]


def _has_credentials(settings: Settings, info: Any) -> bool:
    from ...net.token_store import TokenStore

    if not (info.fw.uses_tokens or info.web_tokens):
        return True  # digest: the owner password derives from the serial
    if settings.token or (settings.username and settings.password):
        return True
    return TokenStore(settings.token_store).get(info.serial) is not None


async def _gather(settings: Settings) -> dict[str, Any]:
    from ...sources.keys import SourceKey
    from ...sources.table import SOURCES

    envoy = make_envoy(dataclasses.replace(settings, reprobe=True))  # fresh, and kept
    try:
        with progress(f"reading {envoy.host}/info..."):
            result = await envoy.request("GET", "/info")
            if result.status != 200:
                raise EnvoyHTTPError(result.status, "/info")
            info = SOURCES[SourceKey.INFO].parse(result.body)
        connected = _has_credentials(settings, info)
        if connected:
            with progress(f"probing {envoy.host}..."):
                await envoy.connect()
        token_fw = info.fw.uses_tokens or info.web_tokens
        return {
            "gateway": {
                "host": envoy.host,
                "serial": info.serial,
                "part_number": info.part_number,
                "firmware": info.firmware,
                "metered": info.imeter,
                "web_tokens": info.web_tokens,
                "device_time": info.device_time,
                "build_id": info.build_id,
            },
            "packages": {name: p.version for name, p in sorted(info.packages.items())},
            "auth": envoy.auth_kind if connected else ("token" if token_fw else "digest"),
            "role": envoy.role if connected else None,
            "capabilities": sorted(str(c) for c in envoy.capabilities) if connected else None,
            "sources": (
                {k: str(v) for k, v in sorted(envoy.source_status.items())} if connected else None
            ),
        }
    finally:
        await envoy.close()


def _show(document: dict[str, Any]) -> None:
    from ..render.format import fmt_num, fmt_time, table

    gw = document["gateway"]
    t = table("Gateway", "", "", numeric_from=9)
    t.show_header = False
    rows = [
        ("Address", gw["host"]),
        ("Serial", gw["serial"]),
        ("Part number", gw["part_number"]),
        ("Firmware", gw["firmware"]),
        ("Metered", fmt_num(gw["metered"])),
        ("Clock", fmt_time(gw["device_time"])),
        ("Auth", document["auth"] + (f" ({document['role']})" if document["role"] else "")),
    ]
    for label, value in rows:
        t.add_row(label, str(value if value is not None else "-"))
    out = console()
    out.print(t)
    if document["capabilities"] is None:
        out.print(
            "Capabilities need credentials: give --token (or set ENPHASE_TOKEN), "
            "or run `enphase token` once to store one."
        )
        return
    out.print("[bold]Capabilities[/bold]: " + (", ".join(document["capabilities"]) or "none"))
    sources = table("Endpoints", "Source", "Status", numeric_from=9)
    for key, status in document["sources"].items():
        sources.add_row(key, endpoint_status(key, status, document["sources"]))
    out.print(sources)


# sources that give the same data: one answering is enough
_ALTERNATIVES = (
    {"production_json", "production_summary", "production_v1", "production_html"},
    {"inverters_v1", "device_data"},
)
_WORDS = {
    "ok": "ok",
    "absent": "not on this gateway",
    "forbidden": "installer only",
    "failed": "failed (asked again later)",
}


def endpoint_status(key: str, status: str, every: dict[str, str]) -> str:
    """A status in words; a failed source whose data another one gives is "not needed"."""
    if status == "failed":
        for group in _ALTERNATIVES:
            answering = sorted(k for k in group if every.get(k) == "ok" and k != key)
            if key in group and answering:
                return f"not needed ({answering[0]} answers)"
    return _WORDS.get(status, status)


@click.command("info")
@connection_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
def info(*, as_json: bool, **params: Any) -> None:
    """Identity, firmware, authentication and (with credentials) capabilities."""
    set_output(as_json=as_json)
    settings = settings_from(params)
    settings.require_host()
    document = run(lambda: _gather(settings))
    if as_json:
        echo_json(document)
    else:
        _show(document)

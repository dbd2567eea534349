"""`enphase dump [HOST] DIR`: capture every endpoint, anonymised, replayable.

Why: a capture is the best bug report and the best test fixture. The
folder has the layout of the project's real captures (one body file named
after the request path, ``<name>_log.json`` with status and headers, see
fixtures/real/README.md), so `enphase simulate --fixtures DIR` replays it.

Everything identifying goes through one `Redactor` (the table the debug
logs use): gateway, inverter and battery serials (every 12-digit number),
MAC and IP addresses, tokens, cookies and the credentials given. One table
for the whole folder keeps the fakes consistent across files, so the
inventory still matches the device data and the replay still makes sense.
Bodies are redacted before they reach the disk.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import click

from ..errors import EnvoyError
from .connect import connect, connection_flags, log_redactor, settings_from, split_host
from .errors import CliError, set_output
from .read import echo_json, run

__all__ = ["capture_file_name", "dump", "redact_body", "redact_headers"]

_SEPARATORS = re.compile(r"[/?=&]")
# content-length is left out: redaction changes the length of the body
_KEEP_HEADERS = {"content-type", "server", "date", "www-authenticate"}
_SECRET_HEADERS = {"set-cookie", "cookie", "authorization"}


def capture_file_name(path: str) -> str:
    """``/production.json?details=1`` -> ``production.json_details_1`` (README layout)."""
    return _SEPARATORS.sub("_", path.lstrip("/"))


def redact_body(body: bytes, redactor: Any) -> bytes:
    text = body.decode("utf-8", errors="replace")
    if text.lstrip()[:1] in ("{", "["):
        try:
            document = json.loads(text)
        except ValueError:
            pass
        else:
            return json.dumps(redactor.redact_json(document)).encode()
    return str(redactor.redact_text(text)).encode()


def redact_headers(headers: Any, redactor: Any) -> dict[str, str]:
    """The headers a replay needs, secrets replaced (a digest challenge keeps its shape)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _SECRET_HEADERS:
            out[name] = redactor.fake("secret", value)
        elif lower in _KEEP_HEADERS:
            out[name] = redactor.redact_text(value)
    return out


async def _capture(settings: Any, folder: Path) -> dict[str, Any]:
    from ..net.token_store import TokenStore
    from ..sources.registry import Role
    from ..sources.table import SOURCES

    async with connect(settings, probe=False) as envoy:
        serial = envoy.info.serial
        redactor = log_redactor()  # credentials given are in it already
        redactor.add_serial(serial)
        stored = TokenStore(settings.token_store).get(serial)
        if stored:
            redactor.add_secret(stored)
        paths = ["/info"] + [s.path for s in SOURCES.values() if s.path != "/info"]
        installer_only = {s.path for s in SOURCES.values() if s.role is Role.INSTALLER}
        report: dict[str, Any] = {}
        for path in dict.fromkeys(paths):
            if path in installer_only and envoy.role != "installer":
                report[path] = "skipped (installer only)"
                continue
            try:
                result = await envoy.request("GET", path)
            except EnvoyError as err:
                report[path] = f"failed: {redactor.redact_text(str(err))}"
                continue
            report[path] = result.status
            if result.status == 404:
                continue  # the README layout: no file means absent
            name = capture_file_name(path)
            (folder / name).write_bytes(redact_body(result.body, redactor))
            log = {"code": result.status, "headers": redact_headers(result.headers, redactor)}
            (folder / f"{name}_log.json").write_text(json.dumps(log, indent=2) + "\n")
        readme = (
            f"Captured by `enphase dump` on {time.strftime('%Y-%m-%d')} from firmware "
            f"{envoy.info.firmware} ({envoy.auth_kind} auth, role {envoy.role or 'none'}).\n"
            "Serials, MAC and IP addresses, tokens and cookies are replaced by stable fakes.\n"
        )
        (folder / "_readme").write_text(readme)
        return {"firmware": envoy.info.firmware, "folder": str(folder), "endpoints": report}


@click.command("dump")
@click.argument("target", nargs=-1, required=True, metavar="[HOST] DIR")
@connection_flags
@click.option("--force", is_flag=True, help="Write into DIR even if it is not empty.")
@click.option("--json", "as_json", is_flag=True, help="Print what was captured as JSON.")
def dump(*, target: tuple[str, ...], force: bool, as_json: bool, **params: Any) -> None:
    """Save every endpoint's answer, anonymised, into DIR (replay: simulate --fixtures DIR)."""
    set_output(as_json=as_json)
    host, directory = split_host(target, "DIR")
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise CliError("usage", f"{folder} exists and is not a directory")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise CliError("usage", f"{folder} is not empty: choose a new folder or add --force")
    settings = settings_from({**params, "host": host})
    settings.require_host()
    folder.mkdir(parents=True, exist_ok=True)
    summary = run(lambda: _capture(settings, folder))
    if as_json:
        echo_json(summary)
        return
    endpoints = summary["endpoints"]
    saved = sum(1 for v in endpoints.values() if isinstance(v, int) and v != 404)
    for path, status in endpoints.items():
        click.echo(f"  {status!s:>30}  {path}", err=True)
    click.echo(f"saved {saved} endpoints (firmware {summary['firmware']}) to {folder}")

"""`enphase raw [HOST] PATH` and `enphase dump [HOST] DIR`: endpoints exactly as they answer.

Why `raw`: new firmware brings endpoints the library does not know yet, and
bug reports need the exact body. It authenticates as the library would
(token or digest by firmware), but skips the probe, asks once, and prints
the body as it came (JSON pretty-printed); the status line goes to stderr
so stdout stays pipeable. A non-2xx answer still prints its body and exits
with status 5 (4 for 401/403).

Why `dump`: a capture is the best bug report and the best test fixture. The
folder has the layout of the project's real captures (one body file named
after the request path, ``<name>_log.json`` with status and headers, see
fixtures/real/README.md), so `enphase simulate --fixtures DIR` replays it.
Everything identifying goes through one `Redactor`: gateway, inverter and
battery serials (any value under a serial key, and 12-digit runs in text),
MAC, IP and e-mail addresses, tokens and cookies; the username and password
given are credentials only in headers, so they are not searched for in
bodies (`-u envoy` must not rewrite ``<envoy_info>``). One table for the whole folder
keeps the fakes consistent across files, so the inventory still matches the
device data and the replay still makes sense. Bodies are redacted before
they reach the disk.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import click

from ...errors import EnvoyError
from ...redact import Redactor
from ..connect import connect, connection_flags, settings_from, split_host
from ..errors import CliError, set_output
from ..output import echo_json, run

__all__ = ["capture_file_name", "dump", "raw", "redact_body", "redact_headers", "render_body"]


def render_body(body: bytes, content_type: str) -> str:
    """JSON pretty-printed; anything else as text (undecodable bytes replaced)."""
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type or text.lstrip()[:1] in ("{", "["):
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return text


@click.command("raw")
@click.argument("target", nargs=-1, required=True, metavar="[HOST] PATH")
@connection_flags
def raw(*, target: tuple[str, ...], **params: Any) -> None:
    """GET PATH (e.g. /ivp/meters/readings) and print the body; status on stderr."""
    set_output(as_json=False)
    host, path = split_host(target, "PATH")
    if not path.startswith("/"):
        path = "/" + path
    settings = _settings(params, host, "PATH", target)

    async def go() -> Any:
        async with connect(settings, probe=False) as envoy:
            return await envoy.request("GET", path)

    result = run(go)
    content_type = result.headers.get("Content-Type", "")
    click.echo(
        f"HTTP {result.status} {path} ({content_type or 'no content type'}, "
        f"{len(result.body)} bytes, {result.elapsed_s:.2f} s)",
        err=True,
    )
    text = render_body(result.body, content_type)
    click.echo(text, nl=not text.endswith("\n"))
    sys.stdout.flush()
    if result.status in (401, 403):
        raise CliError(
            "auth",
            f"the gateway refused {path} (HTTP {result.status}): it may need an installer token",
        )
    if not 200 <= result.status < 300:
        raise CliError("http", f"the gateway answered HTTP {result.status} for {path}")


_SEPARATORS = re.compile(r"[/?=&]")
# content-length is left out: redaction changes the length of the body
_KEEP_HEADERS = {"content-type", "server", "date", "www-authenticate"}
_SECRET_HEADERS = {"set-cookie", "cookie", "authorization"}


def _settings(params: dict[str, Any], host: str | None, what: str, given: tuple[str, ...]) -> Any:
    """Settings for ``[HOST] WHAT``: with one argument and no gateway known, WHAT is missing."""
    try:
        return settings_from({**params, "host": host})
    except CliError as err:
        if host is None and err.kind == "usage" and len(given) == 1:
            raise CliError(
                "usage",
                f"missing {what}: expected [HOST] {what}, and {given[0]!r} was taken as {what} "
                "because no gateway is named (HOST, --host, ENPHASE_HOST)",
            ) from None
        raise


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
    from ...net.token_store import TokenStore
    from ...sources.registry import Role, Speed
    from ...sources.table import SOURCES

    async with connect(settings, probe=False) as envoy:
        serial = envoy.info.serial
        # its own table: credentials are redacted where they are credentials (headers,
        # secret keys), never as text: `-u envoy` must not turn `<envoy_info>` into a fake
        redactor = Redactor(serials=[serial], secrets=[t for t in (settings.token,) if t])
        stored = TokenStore(settings.token_store).get(serial)
        if stored:
            redactor.add_secret(stored)
        paths = ["/info"] + [s.path for s in SOURCES.values() if s.path != "/info"]
        installer_only = {s.path for s in SOURCES.values() if s.role is Role.INSTALLER}
        # slow endpoints (/home, production.json...) get the slow timeout, as in `read`
        slow = {s.path for s in SOURCES.values() if s.speed is Speed.SLOW}
        report: dict[str, Any] = {}
        for path in dict.fromkeys(paths):
            if path in installer_only and envoy.role != "installer":
                report[path] = "skipped (installer only)"
                continue
            try:
                speed = Speed.SLOW if path in slow else Speed.FAST
                result = await envoy.request("GET", path, speed=speed)
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
    settings = _settings(params, host, "DIR", target)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".enphase-dump-check").touch()
        (folder / ".enphase-dump-check").unlink()
    except OSError as err:
        raise CliError("usage", f"cannot write into {folder}: {err.strerror or err}") from None
    summary = run(lambda: _capture(settings, folder))
    if as_json:
        echo_json(summary)
        return
    endpoints = summary["endpoints"]
    saved = sum(1 for v in endpoints.values() if isinstance(v, int) and v != 404)
    for path, status in endpoints.items():
        click.echo(f"  {status!s:>30}  {path}", err=True)
    click.echo(f"saved {saved} endpoints (firmware {summary['firmware']}) to {folder}")

"""`enphase raw [HOST] PATH`: GET any endpoint with the right authentication.

Why: new firmware brings endpoints the library does not know yet, and bug
reports need the exact body. The command authenticates as the library
would (token or digest by firmware), but skips the probe, asks once, and
prints the body as it came (JSON pretty-printed); the status line goes to
stderr so stdout stays pipeable. A non-2xx answer still prints its body
and exits with status 5 (4 for 401/403).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .connect import connect, connection_flags, settings_from, split_host
from .errors import CliError, set_output
from .read import run

__all__ = ["raw", "render_body"]


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
    settings = settings_from({**params, "host": host})
    settings.require_host()

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

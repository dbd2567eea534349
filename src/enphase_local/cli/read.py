"""`enphase read HOST`: one full snapshot, as tables or as the JSON contract.

``--json`` prints exactly `Snapshot.to_dict()` (docs/json-contract.md) and
nothing else on stdout; the tables are rendered from that same document.
Also home of the small helpers every reading command shares.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import click

from .connect import connect, connection_options, settings_from
from .errors import set_output

__all__ = ["console", "echo_json", "read", "read_snapshot", "run"]

T = TypeVar("T")


def console() -> Any:
    """A rich console on the current stdout (wide enough for the tables when piped)."""
    from rich.console import Console

    width = None if sys.stdout.isatty() else max(120, shutil.get_terminal_size().columns)
    return Console(file=sys.stdout, width=width, highlight=False)


def echo_json(document: Any, *, indent: int | None = 2) -> None:
    """JSON on stdout (one line with ``indent=None``: JSON lines)."""
    click.echo(json.dumps(document, indent=indent, ensure_ascii=False))
    sys.stdout.flush()


def run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run one coroutine to completion on a fresh event loop."""

    async def main() -> T:
        return await factory()

    return asyncio.run(main())


async def read_snapshot(params: Mapping[str, Any]) -> dict[str, Any]:
    """Connect, read one snapshot, return its contract document."""
    settings = settings_from(params)
    async with connect(settings) as envoy:
        snapshot = await envoy.update()
        document: dict[str, Any] = snapshot.to_dict()
        return document


@click.command("read")
@connection_options
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract document only.")
def read(*, as_json: bool, **params: Any) -> None:
    """Read everything once: energy, phases, meters, inverters, batteries, settings."""
    set_output(as_json=as_json)
    document = run(lambda: read_snapshot(params))
    if as_json:
        echo_json(document)
        return
    from .render import snapshot_view

    console().print(snapshot_view(document))

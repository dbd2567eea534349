"""How every command prints: a rich console, JSON documents, a spinner, one event loop.

Why one place: stdout is the command's answer (tables or exactly one JSON
document), stderr is for people (progress, warnings), and every command
must keep the two apart the same way so scripts can rely on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import click

__all__ = ["console", "echo_json", "progress", "run", "say", "set_verbosity", "verbosity"]

T = TypeVar("T")

_VERBOSITY = {"level": 0}


def set_verbosity(level: int) -> None:
    """-1 quiet (errors only), 0 normal, 1 verbose (informational logs)."""
    _VERBOSITY["level"] = level


def verbosity() -> int:
    return _VERBOSITY["level"]


def say(message: str) -> None:
    """A note for the person on stderr (``enphase: ...``); silent with --quiet."""
    if verbosity() >= 0:
        click.echo(f"enphase: {message}", err=True)


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


@contextlib.contextmanager
def progress(message: str) -> Iterator[None]:
    """A spinner on stderr during a slow step; nothing when stderr is not a terminal."""
    if not sys.stderr.isatty() or verbosity() < 0:
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield

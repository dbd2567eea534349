"""Running one write command of ``enphase``: confirm, connect, act, print, exit.

The commands (`cli.write.site`, `cli.write.devices`) only parse arguments and name the
`Control` action; this module does the rest the same way for all of them.

Exit status: 0 confirmed (or dry run), 10 pending, 11 ignored, 12 reverted,
2 invalid arguments (nothing was sent), and the error codes of docs/cli.md
otherwise. With ``--json`` errors print ``{"error": {"kind", "message"}}``
on stdout, like every other command.

Every write command takes the connection flags of every other command
(`cli.connect.connection_flags`, also accepted on the root group), so
``enphase --host H --token T relay on-grid`` works; ``--wait`` is how long
to read the new value back. The connection comes from
``open_envoy(options)`` in `cli.connect` (an async context manager yielding
an object with ``.control``); tests inject a stand-in as
``obj={"open_envoy": ...}`` in the click context. `options` holds the
connection parameters given (innermost wins) with ``host`` resolved.

A confirmation prompt needs a person: with stdin not a terminal the command
says to add ``--yes`` and exits 2 before connecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import json
import os
import re
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, cast

import click

from ...control import Control, Outcome, WriteResult
from ...errors import EnvoyError
from ..config import ENV, resolve
from ..connect import connection_flags, connection_params, resolve_host, with_password
from ..errors import CliError, in_cli_words, is_debug, report, set_output

__all__ = [
    "EXIT_CODES",
    "Attach",
    "Unchanged",
    "WriteFlags",
    "common",
    "interactive",
    "minutes",
    "run_action",
    "target_host",
]

OpenEnvoy = Callable[[dict[str, Any]], AbstractAsyncContextManager[Any]]
Attach = Callable[[Any, dict[str, Any]], AbstractAsyncContextManager[Any]]
Action = Callable[[Control], Awaitable[WriteResult]]

EXIT_CODES: dict[Outcome, int] = {
    Outcome.CONFIRMED: 0,
    Outcome.DRY_RUN: 0,
    Outcome.PENDING: 10,
    Outcome.IGNORED: 11,
    Outcome.REVERTED: 12,
    Outcome.ACCEPTED: 13,
    Outcome.NOT_CONFIRMED: 14,
}


class Unchanged(Exception):
    """Raised by an action that found the value already as asked: nothing is sent."""

    def __init__(self, preview: WriteResult, what: str) -> None:
        super().__init__(what)
        self.preview = preview
        self.what = what


def _print_unchanged(unchanged: Unchanged, as_json: bool) -> None:
    message = f"{unchanged.what}: nothing was sent"
    if as_json:
        document = {**unchanged.preview.to_dict(), "outcome": "unchanged", "message": message}
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(f"unchanged: {message}")


def _opener(ctx: click.Context) -> OpenEnvoy:
    obj = ctx.find_object(dict)
    if obj is not None and callable(obj.get("open_envoy")):
        return cast(OpenEnvoy, obj["open_envoy"])
    module = importlib.import_module("enphase_local.cli.connect")
    return cast(OpenEnvoy, module.open_envoy)


def _print(result: WriteResult, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    message = in_cli_words(result.message)
    if result.outcome is Outcome.DRY_RUN:
        # the library says "dry run: nothing sent..."; one label is enough
        message = re.sub(r"^dry[ -]run:\s*", "", message)
    click.echo(f"{result.outcome.value}: {message}")
    if result.outcome is Outcome.DRY_RUN:
        req = result.request
        click.echo(f"{req.method} {req.path}")
        if req.body is not None:
            click.echo(json.dumps(dict(req.body), indent=2))


def interactive() -> bool:
    """Whether a person can answer a prompt (stdin is a terminal)."""
    return sys.stdin.isatty()


def _confirm(prompt: str) -> None:
    if not interactive():
        raise CliError(
            "usage",
            "this change needs confirmation and stdin is not a terminal: add --yes to confirm",
        )
    if not click.confirm(prompt):
        click.echo("enphase: not confirmed: nothing was sent", err=True)
        raise click.exceptions.Exit(1)


def run_action(
    ctx: click.Context,
    action: Action,
    flags: WriteFlags,
    *,
    confirm: str | None = None,
    verify_after: float | None = None,
    attach: Attach | None = None,
) -> None:
    """Confirm if asked, connect, run one action, print the result, exit with its code.

    `confirm` is the question for a change that needs one; it is not asked with
    ``--yes`` or ``--dry-run``. `attach(envoy, options)` is entered around the
    action once connected (the battery commands give the cloud route this way).
    """
    as_json = flags.as_json
    set_output(as_json=as_json)
    options = connection_params()
    if not options.get("host"):
        options["host"] = resolve_host()
    if confirm is not None and not (flags.yes or flags.dry_run):
        _confirm(confirm)
    options = _with_password(options)
    opener = _opener(ctx)

    async def go() -> WriteResult:
        async with contextlib.AsyncExitStack() as stack:
            envoy = await stack.enter_async_context(opener(options))
            if attach is not None:
                await stack.enter_async_context(attach(envoy, options))
            control: Control = envoy.control
            result = await action(control)
            if verify_after and result.outcome in (Outcome.CONFIRMED, Outcome.ACCEPTED):
                if not as_json:
                    click.echo(f"{result.message}; checking again in {verify_after:g} s")
                result = await control.verify_later(result, wait_s=verify_after)
            return result

    try:
        result = asyncio.run(go())
    except Unchanged as unchanged:
        _print_unchanged(unchanged, as_json)
        ctx.exit(0)
    except ValueError as err:  # invalid request: nothing was sent
        ctx.exit(report(CliError("usage", in_cli_words(str(err))), as_json=as_json, debug=False))
    except EnvoyError as err:
        ctx.exit(report(err, as_json=as_json, debug=is_debug()))
    _print(result, as_json)
    ctx.exit(EXIT_CODES[result.outcome])


def _with_password(options: dict[str, Any]) -> dict[str, Any]:
    """The Enlighten password asked now, before the event loop (Ctrl-C must work at the prompt)."""
    username = options.get("username") or os.environ.get("ENPHASE_USERNAME")
    if not username or "@" not in username:
        return options
    settings = with_password(resolve({k: options.get(k) for k in ENV}))
    return {**options, "password": settings.password} if settings.password else options


def target_host(ctx: click.Context) -> str:
    """The gateway named for this command, for prompts ("this gateway" when not known yet)."""
    host = connection_params().get("host")
    return str(host) if host else "the gateway"


@dataclass(frozen=True, slots=True)
class WriteFlags:
    """The flags every write command takes, handed to it as one value by `common`."""

    dry_run: bool
    as_json: bool
    timeout_s: float | None
    yes: bool


def common(func: Callable[..., Any]) -> Callable[..., Any]:
    """--dry-run, --json, --wait, --yes (passed as ``flags: WriteFlags``), the connection flags."""

    @functools.wraps(func)
    def bundled(
        *args: Any, dry_run: bool, as_json: bool, timeout_s: float | None, yes: bool, **kw: Any
    ) -> Any:
        return func(*args, flags=WriteFlags(dry_run, as_json, timeout_s, yes), **kw)

    cmd: Callable[..., Any] = bundled  # not `func`: bundled calls that one
    cmd = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(cmd)
    cmd = click.option(
        "--wait",
        "timeout_s",
        type=click.FloatRange(min=0),
        default=None,
        metavar="SECONDS",
        help="Seconds to read the value back until it changes (default: per action).",
    )(cmd)
    cmd = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(cmd)
    cmd = click.option(
        "--dry-run", is_flag=True, help="Print the request that would be sent; send nothing."
    )(cmd)
    return connection_flags(cmd)


def minutes(text: str) -> int:
    """``"09:45"`` -> 585 minutes after midnight (a plain number is taken as minutes)."""
    value = text.strip()
    if value.isdigit():
        return int(value)
    hours, sep, mins = value.partition(":")
    if not sep or not hours.isdigit() or not mins.isdigit() or len(mins) != 2:
        raise click.BadParameter(f"expected a time as HH:MM, got {text!r}")
    h, m = int(hours), int(mins)
    if h > 23 or m > 59:
        raise click.BadParameter(f"not a time of day: {text!r}")
    return h * 60 + m

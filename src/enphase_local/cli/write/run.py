"""Running one write command of ``enphase``: confirm, connect, act, print, exit.

The commands (`cli.write.site`, `cli.write.devices`) only parse arguments and name the
`Control` action; this module does the rest the same way for all of them.

Exit status: 0 confirmed (or dry run), 10 pending, 11 ignored, 12 reverted,
2 invalid arguments (nothing was sent), and the error codes of docs/cli.md
otherwise. With ``--json`` errors print ``{"error": {"kind", "message"}}``
on stdout, like every other command.

The connection comes from ``open_envoy(options)`` in `cli.connect` (an async
context manager yielding an object with ``.control``); tests inject a
stand-in as ``obj={"open_envoy": ...}`` in the click context. `options` holds
the parameters of the enclosing command groups (credentials and such) and
``host``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, cast

import click

from ...control import Control, Outcome, WriteResult
from ...errors import EnvoyError
from ..errors import CliError, report

__all__ = ["EXIT_CODES", "ask", "common", "minutes", "run_action"]

OpenEnvoy = Callable[[dict[str, Any]], AbstractAsyncContextManager[Any]]
Action = Callable[[Control], Awaitable[WriteResult]]

EXIT_CODES: dict[Outcome, int] = {
    Outcome.CONFIRMED: 0,
    Outcome.DRY_RUN: 0,
    Outcome.PENDING: 10,
    Outcome.IGNORED: 11,
    Outcome.REVERTED: 12,
}


def _opener(ctx: click.Context) -> OpenEnvoy:
    obj = ctx.find_object(dict)
    if obj is not None and callable(obj.get("open_envoy")):
        return cast(OpenEnvoy, obj["open_envoy"])
    module = importlib.import_module("enphase_local.cli.connect")
    return cast(OpenEnvoy, module.open_envoy)


def _options(ctx: click.Context, host: str) -> dict[str, Any]:
    """Parameters of the enclosing groups (root first), then `host`."""
    chain: list[click.Context] = []
    parent = ctx.parent
    while parent is not None:
        chain.append(parent)
        parent = parent.parent
    options: dict[str, Any] = {}
    for outer in reversed(chain):
        options.update(outer.params)
    options["host"] = host
    return options


def _print(result: WriteResult, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    click.echo(f"{result.outcome.value}: {result.message}")
    if result.outcome is Outcome.DRY_RUN:
        req = result.request
        click.echo(f"{req.method} {req.path}")
        if req.body is not None:
            click.echo(json.dumps(dict(req.body), indent=2))


def run_action(
    ctx: click.Context,
    host: str,
    action: Action,
    *,
    as_json: bool,
    confirm: str | None = None,
    verify_after: float | None = None,
) -> None:
    """Confirm if asked, connect, run one action, print the result, exit with its code."""
    if confirm is not None:
        click.confirm(confirm, abort=True)
    opener = _opener(ctx)
    options = _options(ctx, host)

    async def go() -> WriteResult:
        async with opener(options) as envoy:
            control: Control = envoy.control
            result = await action(control)
            if verify_after and result.outcome is Outcome.CONFIRMED:
                if not as_json:
                    click.echo(f"{result.message}; checking again in {verify_after:g} s")
                result = await control.verify_later(result, wait_s=verify_after)
            return result

    try:
        result = asyncio.run(go())
    except ValueError as err:  # invalid request: nothing was sent
        ctx.exit(report(CliError("usage", str(err)), as_json=as_json, debug=False))
    except EnvoyError as err:
        ctx.exit(report(err, as_json=as_json, debug=False))
    _print(result, as_json)
    ctx.exit(EXIT_CODES[result.outcome])


def common(func: Callable[..., Any]) -> Callable[..., Any]:
    """--dry-run, --json, --timeout, --yes."""
    func = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(func)
    func = click.option(
        "--timeout",
        "timeout_s",
        type=click.FloatRange(min=0),
        default=None,
        help="Seconds to poll for the new value (default: per action).",
    )(func)
    func = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(func)
    return click.option(
        "--dry-run", is_flag=True, help="Print the request that would be sent; send nothing."
    )(func)


def ask(destructive: bool, yes: bool, dry_run: bool, prompt: str) -> str | None:
    """The confirmation prompt to show, or None when no confirmation is needed."""
    return prompt if destructive and not (yes or dry_run) else None


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

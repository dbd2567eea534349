"""From command-line options to a connected `Envoy`, the same way for every command.

Every command that talks to a gateway takes the same `connection_flags`
(--host, --token, -u/--username, --password, --timeout, --retries, cloud
URLs, --debug), and so does the root group, kasa style: ``enphase --host H
--token T relay on-grid``. Most also take HOST as their first argument
(optional: ``$ENPHASE_HOST`` or the config file supply it); `HostFirst`
lets an optional HOST stand before required arguments (``set reserve
[HOST] 30``). `settings_from` merges the parameters of the command and its
groups (innermost wins) with the environment and the config file
(`cli.config`), and `connect` opens the gateway with a spinner on stderr
while the slow steps run. The token store is always used: a token fetched
once is found again by gateway serial, and so is what the probe found
(`net.probe_cache`, beside the tokens; ``--reprobe`` probes afresh).

`open_envoy(options)` is the entry the write commands (`cli.write.run`)
use: ``options`` holds any of the setting names, missing ones come from
the environment and the config file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import click

from .config import ENV, Settings, resolve
from .errors import CliError, set_output
from .output import progress, verbosity

__all__ = [
    "CONNECTION_PARAMS",
    "HostFirst",
    "HostFirstGroup",
    "connect",
    "connection_flags",
    "connection_options",
    "connection_params",
    "make_envoy",
    "open_envoy",
    "resolve_host",
    "settings_from",
    "setup_logging",
    "split_host",
    "with_password",
]

_SETTING_NAMES = tuple(ENV)
# the parameter names every gateway command has (`tests/cli` checks each command)
CONNECTION_PARAMS = (
    "host_option",
    "token",
    "username",
    "password",
    "timeout",
    "retries",
    "enlighten_url",
    "entrez_url",
    "reprobe",
    "debug",
)


def connection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """HOST (optional: $ENPHASE_HOST) and the `connection_flags`."""
    return click.argument("host", required=False)(connection_flags(func))


def split_host(args: tuple[str, ...], what: str) -> tuple[str | None, str]:
    """``[HOST] THING`` arguments: (host or None, thing)."""
    if len(args) == 1:
        return None, args[0]
    if len(args) == 2:
        return args[0], args[1]
    if not args:
        raise click.UsageError(f"missing {what}: expected [HOST] {what}")
    raise click.UsageError(f"expected [HOST] {what}, got {len(args)} arguments")


def _positionals(command: click.Command, ctx: click.Context, args: list[str]) -> list[str]:
    """The positional tokens of `args`, parsed with `command`'s own options."""
    probe = click.Command(
        None,
        params=[
            *(p for p in command.params if isinstance(p, click.Option)),
            click.Argument(["rest"], nargs=-1),
        ],
    )
    probe.allow_interspersed_args = command.allow_interspersed_args
    probe_ctx = click.Context(probe, parent=ctx.parent, resilient_parsing=True)
    opts, _, _ = probe.make_parser(probe_ctx).parse_args(list(args))
    rest = opts.get("rest")
    return list(rest) if isinstance(rest, list | tuple) else []


class HostFirst(click.Command):
    """A command whose first argument, HOST, may be left out before required ones.

    Click fills arguments left to right, so ``set reserve 30`` would take 30
    for HOST. When one positional is missing, HOST is the one left out.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing and "--help" not in args and "-h" not in args:
            wanted = sum(
                1
                for p in self.params
                if isinstance(p, click.Argument) and p.name != "host" and p.nargs == 1
            )
            if len(_positionals(self, ctx, args)) == wanted:
                args = ["", *args]  # HOST not given: an empty placeholder, read as "none"
        return super().parse_args(ctx, args)


class HostFirstGroup(click.Group):
    """A group whose optional HOST argument stands before the subcommand name."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing and "--help" not in args and "-h" not in args:
            positionals = _positionals(self, ctx, args)
            at = len(args) - len(positionals)  # where the first positional stands
            if positionals and positionals[0] in self.commands:
                args = [*args[:at], "", *args[at:]]  # no HOST: an empty one before the name
            elif positionals:
                # HOST first: the group's options after it (``gw --token T mode on``) are
                # parsed too by moving HOST just before the subcommand name
                rest = args[at + 1 :]
                cut = len(rest) - len(_positionals(self, ctx, rest))
                args = [*args[:at], *rest[:cut], args[at], *rest[cut:]]
        return super().parse_args(ctx, args)


def connection_flags(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say how to reach and authenticate to the gateway."""
    options = [
        click.option(
            "--host",
            "host_option",
            metavar="HOST",
            help="Gateway address (instead of the HOST argument; or $ENPHASE_HOST).",
        ),
        click.option("--token", metavar="JWT", help="Gateway token (firmware 7+)."),
        click.option("--username", "-u", help="Enlighten username, or digest user before 7."),
        click.option("--password", help="Password (prefer $ENPHASE_PASSWORD: flags are visible)."),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            metavar="SECONDS",
            help="Seconds to wait for one answer (default 10; slow endpoints at least 60).",
        ),
        click.option(
            "--retries",
            type=click.IntRange(min=0),
            help="Retries after a failed read (default 2).",
        ),
        click.option("--enlighten-url", metavar="URL", help="Enlighten login service (tests)."),
        click.option("--entrez-url", metavar="URL", help="Entrez token service (tests)."),
        click.option(
            "--reprobe",
            is_flag=True,
            default=None,
            help="Probe the gateway afresh, not from the probe cache (or $ENPHASE_REPROBE=1).",
        ),
        click.option(
            "--debug", is_flag=True, default=None, help="Debug logs (redacted) and tracebacks."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def connection_params(params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The connection parameters given to this command and its groups (innermost wins).

    ``host`` is the HOST argument if given, else the nearest ``--host``.
    """
    ctx = click.get_current_context(silent=True)
    chain: list[Mapping[str, Any]] = []
    while ctx is not None:
        chain.append(ctx.params)
        ctx = ctx.parent
    merged: dict[str, Any] = {}
    for outer in reversed(chain):
        merged.update({k: v for k, v in outer.items() if v not in (None, "")})
    if params is not None:
        merged.update({k: v for k, v in params.items() if v not in (None, "")})
    host = merged.pop("host", None) or merged.get("host_option")
    merged.pop("host_option", None)
    if host:
        merged["host"] = host
    names = {*_SETTING_NAMES, "debug"}
    return {k: v for k, v in merged.items() if k in names}


def resolve_host(flags: Mapping[str, Any] | None = None) -> str:
    """The gateway to use: given, from $ENPHASE_HOST or the config file, else the only one found.

    Discovery (mDNS, the ``discovery`` extra) runs only when nothing names a
    gateway; finding exactly one is said on stderr, anything else is a usage error.
    """
    settings = resolve({k: (flags or {}).get(k) for k in _SETTING_NAMES})
    if settings.host:
        return settings.host
    from .discovery import only_gateway

    return only_gateway()


def with_password(settings: Settings) -> Settings:
    """Ask for the Enlighten password on a terminal when an account is given without one.

    Asked before any event loop runs: inside `asyncio.run`, Ctrl-C only
    cancels the loop's task, which a blocking prompt never yields to, so the
    prompt would wait for Enter. Digest users (`envoy`, `installer`) have a
    password derived from the serial and are never asked.
    """
    account = settings.username and "@" in settings.username
    if not account or settings.password is not None or not sys.stdin.isatty():
        return settings
    password = click.prompt(f"password for {settings.username}", hide_input=True)
    return dataclasses.replace(settings, password=password)


def settings_from(params: Mapping[str, Any], *, need_host: bool = True) -> Settings:
    """Settings from a command's parameters (and the enclosing groups'), env and file.

    With `need_host`, a missing host is looked for (`resolve_host`) or reported now.
    """
    merged = connection_params(params)
    debug = bool(merged.get("debug"))
    set_output(debug=debug)
    settings = resolve({k: merged.get(k) for k in _SETTING_NAMES})
    setup_logging(debug, (settings.token, settings.password))
    if need_host and not settings.host:
        settings = dataclasses.replace(settings, host=resolve_host())
    return with_password(settings)


_redactor: Any = None


def setup_logging(debug: bool, secrets: tuple[str | None, ...] = ()) -> None:
    """Warnings always, everything with --debug; on stderr, through the one redaction table."""
    global _redactor  # noqa: PLW0603
    from ..redact import RedactingFilter, Redactor

    _redactor = Redactor(secrets=[s for s in secrets if s])
    root = logging.getLogger("enphase_local")
    for handler in list(root.handlers):
        if getattr(handler, "_enphase_cli", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._enphase_cli = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter(_redactor))
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}[max(-1, min(1, verbosity()))]
    root.setLevel(logging.DEBUG if debug else level)
    root.propagate = False


def make_envoy(settings: Settings, clock: Callable[[], float] | None = None) -> Any:
    """An unconnected `Envoy` from settings (see `with_password` for asking the password)."""
    from ..client import CloudUrls, Envoy
    from ..net.backoff import RetryPolicy
    from ..net.cloud import DEFAULT_ENLIGHTEN_URL, DEFAULT_ENTREZ_URL
    from ..net.exchange import Timeouts
    from ..net.probe_cache import ProbeCache
    from ..net.token_store import TokenStore

    kwargs: dict[str, Any] = {}
    if clock is not None:
        kwargs["clock"] = clock
    if settings.timeout is not None:
        kwargs["timeouts"] = Timeouts(fast_s=settings.timeout, slow_s=max(settings.timeout, 60.0))
    if settings.retries is not None:
        kwargs["retry"] = RetryPolicy(attempts=settings.retries + 1)
    password = settings.password
    cloud = CloudUrls(
        enlighten=settings.enlighten_url or DEFAULT_ENLIGHTEN_URL,
        entrez=settings.entrez_url or DEFAULT_ENTREZ_URL,
    )
    store = TokenStore(settings.token_store)
    # what the probe found, beside the tokens; --reprobe: probe afresh (and keep that)
    probes = ProbeCache.beside(store.path, max_age_s=0.0 if settings.reprobe else None)
    try:
        return Envoy(
            settings.require_host(),
            token=settings.token,
            username=settings.username,
            password=password,
            token_store=store,
            cloud=cloud,
            probe_cache=probes,
            **kwargs,
        )
    except ValueError as err:  # the address: a usage error, said as such
        raise CliError("usage", f"{err} (e.g. 192.168.1.50, envoy.local, {_EXAMPLE})") from None


_EXAMPLE = "https://envoy.local, [fe80::1]:443"


@contextlib.asynccontextmanager
async def connect(
    settings: Settings, *, clock: Callable[[], float] | None = None, probe: bool = True
) -> AsyncIterator[Any]:
    """A connected `Envoy` (probed unless ``probe=False``), closed on exit."""
    envoy = make_envoy(settings, clock)
    try:
        with progress(f"connecting to {envoy.host}..."):
            await envoy.connect(probe=probe)
        yield envoy
    finally:
        await envoy.close()


@contextlib.asynccontextmanager
async def open_envoy(options: Mapping[str, Any]) -> AsyncIterator[Any]:
    """A connected `Envoy` for the write commands (they use ``envoy.control``).

    `options` may hold any setting (host, token, username, password, timeout,
    retries, enlighten_url, entrez_url, token_store); the others come from
    the environment and the config file.
    """
    settings = resolve({k: options.get(k) for k in _SETTING_NAMES})
    if not settings.host:
        settings = dataclasses.replace(settings, host=resolve_host())
    setup_logging(bool(options.get("debug")), (settings.token, settings.password))
    async with connect(settings) as envoy:
        yield envoy

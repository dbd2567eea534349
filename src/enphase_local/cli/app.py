"""Entry point of the `enphase` command: a click group whose subcommands load lazily.

Why lazy: `enphase --help` and shell completion should answer at once, not
after importing aiohttp, rich and the simulator. Each subcommand is named
here with its module and a one-line help; its module is imported only when
the subcommand runs (or asks for its own ``--help``). To add a command, add
one line to `COMMANDS`.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NamedTuple

import click

from .connect import connection_flags

__all__ = ["COMMANDS", "cli", "main"]


class LazyCommand(NamedTuple):
    module: str
    attribute: str
    help: str


_CMD = "enphase_local.cli.commands."
_WRITE = "enphase_local.cli.write."

COMMANDS: dict[str, LazyCommand] = {
    "simulate": LazyCommand(
        _CMD + "simulate", "simulate", "Serve simulated gateways for tests, demos and benchmarks."
    ),
    "demo": LazyCommand(_CMD + "demo", "demo", "Try it all on a built-in simulated gateway."),
    "discover": LazyCommand(
        "enphase_local.cli.discovery", "discover", "Find gateways on the network."
    ),
    "info": LazyCommand(_CMD + "info", "info", "Identity, firmware, auth and capabilities."),
    "read": LazyCommand(_CMD + "read", "read", "One full snapshot as tables, or --json."),
    "watch": LazyCommand(_CMD + "watch", "watch", "Live power flow until Ctrl-C, or JSON lines."),
    "inverters": LazyCommand(_CMD + "read", "inverters", "Microinverters, sorted."),
    "meters": LazyCommand(_CMD + "read", "meters", "CT meters, per phase."),
    "battery": LazyCommand(
        _WRITE + "battery", "battery", "Batteries and storage settings; change them (cloud too)."
    ),
    "raw": LazyCommand(_CMD + "endpoints", "raw", "GET any endpoint with the right auth."),
    "dump": LazyCommand(
        _CMD + "endpoints", "dump", "Capture every endpoint, anonymised, to a folder."
    ),
    "token": LazyCommand(_CMD + "token", "token", "Get, store or check a gateway token."),
    "collect": LazyCommand(
        "enphase_local.cli.commands.service", "collect", "Keep history; dashboard, metrics."
    ),
    "history": LazyCommand(
        "enphase_local.cli.commands.service", "history", "Energy and power from the history."
    ),
    "trust": LazyCommand(
        "enphase_local.cli.commands.trust", "trust", "Show and trust the gateway's certificate."
    ),
    # write commands
    "set": LazyCommand(_WRITE + "site", "set_group", "Change battery storage settings."),
    "relay": LazyCommand(_WRITE + "site", "relay", "Go off grid or back on grid."),
    "contact": LazyCommand(_WRITE + "site", "contact", "Open or close a dry contact."),
    "contact-settings": LazyCommand(
        _WRITE + "devices", "contact_settings", "Configure a dry contact."
    ),
    "generator": LazyCommand(_WRITE + "devices", "generator", "Generator mode and exercise."),
    "acb-sleep": LazyCommand(_WRITE + "devices", "acb_sleep", "AC Battery sleep settings."),
    "export-limit": LazyCommand(
        _WRITE + "export_limit", "export_limit", "Limit grid export (installer token)."
    ),
    "production": LazyCommand(
        _WRITE + "export_limit", "production", "Switch all production on or off (installer)."
    ),
}


class MissingExtra(click.ClickException):
    """A command whose optional dependencies are not installed: exit 6, "unavailable"."""

    exit_code = 6


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        try:
            module = importlib.import_module(entry.module)
        except ImportError as err:
            from .extras import missing_extra

            advice = missing_extra(err)
            if advice is None:
                raise
            raise MissingExtra(advice) from None
        command = getattr(module, entry.attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{entry.module}.{entry.attribute} is not a click command")
        return command

    def invoke(self, ctx: click.Context) -> object:
        """Run the subcommand; turn any failure into one line (or JSON) and its exit code."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            raise
        except (Exception, KeyboardInterrupt) as err:
            from .errors import is_debug, is_json, report

            code = report(err, as_json=is_json(), debug=is_debug() or bool(ctx.params.get("debug")))
            raise click.exceptions.Exit(code) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List subcommands from `COMMANDS` without importing them."""
        rows = [(name, COMMANDS[name].help) for name in sorted(COMMANDS)]
        rows += [
            (name, cmd.get_short_help_str())
            for name, cmd in sorted(self.commands.items())
            if name not in COMMANDS and not cmd.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows))


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": None},
)
# the distribution's version, which pyproject reads from `enphase_local.__version__`
@click.version_option(None, "--version", "-V", package_name="enphase-local", prog_name="enphase")
@connection_flags
@click.option(
    "--quiet", "-q", is_flag=True, help="Errors only on stderr (no warnings, no progress)."
)
@click.option("--verbose", "-v", is_flag=True, help="Informational logs on stderr.")
def cli(*, quiet: bool, verbose: bool, debug: bool | None, **_connection: Any) -> None:
    """Everything your Enphase gateway knows, locally, gently.

    Connection settings come from flags (here or after the command), then
    ENPHASE_* variables, then ~/.config/enphase-local/config.toml. Exit
    codes: 2 usage, 3 connection or timeout, 4 authentication, 5 gateway
    HTTP or parse error, 6 feature unavailable, 130 interrupted. See
    docs/cli.md.
    """
    from .errors import set_output
    from .output import set_verbosity

    if quiet and (verbose or debug):
        raise click.UsageError("use --quiet or --verbose/--debug, not both")
    set_verbosity(-1 if quiet else (1 if verbose else 0))
    if debug:
        from .connect import setup_logging

        set_output(debug=True)
        setup_logging(True)


COMPLETE_VAR = "_ENPHASE_COMPLETE"


@cli.command("completion", short_help="Shell completion script (bash, zsh, fish).")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    Click completes commands, options and choices itself when the shell asks
    through ``_ENPHASE_COMPLETE``; this prints the small script that makes
    the shell ask (see docs/cli.md, "Shell completion").
    """
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    if cls is None:  # click knows all three; a future click might drop one
        raise click.UsageError(f"no completion for {shell} in this version of click")
    click.echo(cls(cli, {}, "enphase", COMPLETE_VAR).source())


def _no_arguments(argv: list[str] | None) -> bool:
    """Bare `enphase` (not the shell asking for completions, which passes no arguments)."""
    if os.environ.get(COMPLETE_VAR):
        return False
    return not (sys.argv[1:] if argv is None else argv)


def main(argv: list[str] | None = None) -> int:
    """Run the `enphase` command; returns the exit code (2 for bad arguments)."""
    if _no_arguments(argv):
        with click.Context(cli, info_name="enphase") as ctx:
            click.echo(cli.get_help(ctx))
        return 0
    try:
        result = cli.main(args=argv, prog_name="enphase", standalone_mode=False)
    except click.UsageError as err:
        if "--json" in (sys.argv[1:] if argv is None else argv):
            from .errors import report

            return report(err, as_json=True, debug=False)
        where = err.ctx.command_path if err.ctx is not None else "enphase"
        print(f"{where}: {err.format_message()}", file=sys.stderr)
        return 2
    except click.ClickException as err:
        print(f"enphase: {err.format_message()}", file=sys.stderr)
        return err.exit_code
    except (click.Abort, KeyboardInterrupt):
        print("enphase: interrupted", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())

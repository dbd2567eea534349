"""Entry point of the `enphase` command: a click group whose subcommands load lazily.

Why lazy: `enphase --help` and shell completion should answer at once, not
after importing aiohttp, rich and the simulator. Each subcommand is named
here with its module and a one-line help; its module is imported only when
the subcommand runs (or asks for its own ``--help``). To add a command, add
one line to `COMMANDS`.
"""

from __future__ import annotations

import importlib
import sys
from typing import NamedTuple

import click

__all__ = ["COMMANDS", "cli", "main"]


class LazyCommand(NamedTuple):
    module: str
    attribute: str
    help: str


COMMANDS: dict[str, LazyCommand] = {
    "simulate": LazyCommand(
        "enphase_local.cli.simulate",
        "simulate",
        "Serve simulated gateways for tests, demos and benchmarks.",
    ),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        command = getattr(importlib.import_module(entry.module), entry.attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{entry.module}.{entry.attribute} is not a click command")
        return command

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


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="enphase-local", prog_name="enphase")
def cli() -> None:
    """Everything your Enphase gateway knows, locally, gently."""


def main(argv: list[str] | None = None) -> int:
    """Run the `enphase` command; returns the exit code (2 for bad arguments)."""
    try:
        result = cli.main(args=argv, prog_name="enphase", standalone_mode=False)
    except click.UsageError as err:
        where = err.ctx.command_path if err.ctx is not None else "enphase"
        print(f"{where}: {err.format_message()}", file=sys.stderr)
        return 2
    except click.ClickException as err:
        print(f"enphase: {err.format_message()}", file=sys.stderr)
        return err.exit_code
    except click.Abort:
        print("enphase: aborted", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())

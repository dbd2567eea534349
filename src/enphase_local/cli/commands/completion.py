"""`enphase completion bash|zsh|fish`: the shell completion script, to source once.

Why a command: click completes commands, options and choices itself when
the shell asks through ``_ENPHASE_COMPLETE``; this prints the small script
that makes the shell ask, so users need not know that variable::

    enphase completion bash > ~/.local/share/bash-completion/completions/enphase
    enphase completion zsh  > "${fpath[1]}/_enphase"
    enphase completion fish > ~/.config/fish/completions/enphase.fish
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

__all__ = ["completion"]

COMPLETE_VAR = "_ENPHASE_COMPLETE"


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish)."""
    from ..app import cli

    cls = get_completion_class(shell)
    if cls is None:  # click knows all three; a future click might drop one
        raise click.UsageError(f"no completion for {shell} in this version of click")
    click.echo(cls(cli, {}, "enphase", COMPLETE_VAR).source())

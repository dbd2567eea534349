"""Issue 18 item 1: every gateway command connects the same way, write commands included."""

from __future__ import annotations

import json

import click
import pytest

from enphase_local.cli.app import COMMANDS, cli
from enphase_local.cli.connect import CONNECTION_PARAMS

from .conftest import SimThread, enphase

# commands that do not talk to a gateway
NOT_GATEWAY = {"simulate", "demo", "completion", "discover", "history"}


def _leaves(group: click.Group, ctx: click.Context) -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            sub = click.Context(command, parent=ctx, info_name=name)
            out += [(f"{name} {n}", c) for n, c in _leaves(command, sub)]
        else:
            out.append((name, command))
    return out


def test_every_gateway_command_takes_every_connection_option() -> None:
    ctx = click.Context(cli, info_name="enphase")
    leaves = [(n, c) for n, c in _leaves(cli, ctx) if n.split()[0] not in NOT_GATEWAY]
    assert len(leaves) >= 17  # read..token, 3 set, relay, contact, ..., 3 generator
    for name, command in leaves:
        names = {p.name for p in command.params}
        missing = [p for p in CONNECTION_PARAMS if p not in names]
        assert not missing, f"`enphase {name}` lacks {missing}"
        timeout = next(p for p in command.params if p.name == "timeout")
        assert "answer" in (getattr(timeout, "help", "") or ""), name
    root = {p.name for p in cli.params}
    assert set(CONNECTION_PARAMS) <= root
    assert set(COMMANDS) - NOT_GATEWAY <= {n.split()[0] for n, _ in leaves}


def test_write_command_takes_token_and_wait(battery: SimThread) -> None:
    result = enphase(
        "set", "reserve", battery.host, "30", "--token", battery.token(),
        "--retries", "1", "--timeout", "20", "--wait", "5", "--dry-run", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["outcome"] == "dry-run"


def test_connection_options_at_the_root_kasa_style(battery: SimThread) -> None:
    result = enphase(
        "--host", battery.host, "--token", battery.token(), "relay", "on-grid", "--dry-run"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.startswith("dry-run: ")
    assert "dry run" not in result.stdout.lower().replace("dry-run: ", "", 1)[:20]
    assert "POST /ivp/ensemble/relay" in result.stdout


def test_host_from_environment_for_write_commands(
    battery: SimThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENPHASE_HOST", battery.host)
    monkeypatch.setenv("ENPHASE_TOKEN", battery.token())
    for args in (
        ("set", "reserve", "30"),
        ("set", "charge-from-grid", "on"),
        ("contact", "NC1", "closed"),
        ("generator", "charge", "on"),
    ):
        result = enphase(*args, "--dry-run", "--json")
        assert result.exit_code in (0, 6), (args, result.stdout + result.stderr)
        assert "No such" not in result.stderr and "Missing" not in result.stderr


def test_missing_token_speaks_in_flags(battery: SimThread) -> None:
    result = enphase("set", "reserve", battery.host, "30", "--dry-run")
    assert result.exit_code == 4, result.stderr
    assert "token=" not in result.stderr and "--token" in result.stderr


def test_no_host_anywhere_is_a_usage_error() -> None:
    result = enphase("set", "reserve", "30", "--token", "x")
    assert result.exit_code == 2
    assert "ENPHASE_HOST" in result.stderr


def test_confirmation_without_a_terminal_says_use_yes(battery: SimThread) -> None:
    result = enphase("relay", battery.host, "off-grid", "--token", battery.token(), input="")
    assert result.exit_code == 2
    assert "--yes" in result.stderr and "interrupted" not in result.stderr


def test_connection_options_on_the_write_groups(battery: SimThread) -> None:
    token = battery.token()
    result = enphase("set", "--token", token, "reserve", battery.host, "30", "--dry-run")
    assert result.exit_code == 0, result.stderr
    for args in (
        ("generator", battery.host, "--token", token, "charge", "on", "--dry-run"),
        ("generator", "--token", token, "--host", battery.host, "charge", "on", "--dry-run"),
    ):
        done = enphase(*args)
        assert "No such" not in done.stderr, (args, done.stderr)
        assert done.exit_code == 6 and "generator" in done.stderr.lower()  # none on this site

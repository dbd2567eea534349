"""The write commands: argument parsing, confirmation prompts, --dry-run, --json, exit codes.

The connection is a stand-in injected through the click context
(``obj={"open_envoy": ...}``) that yields the real `Control` over the
in-process simulator, so the commands run end to end.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from enphase_local.cli.write import run as write_run
from enphase_local.cli.write.devices import acb_sleep, contact_settings, generator
from enphase_local.cli.write.run import minutes
from enphase_local.cli.write.site import contact, relay, set_group
from tests.control.test_target import SimTarget

COMMANDS = [set_group, relay, contact, contact_settings, generator, acb_sleep]


class Harness:
    def __init__(self, preset: str, **kwargs: Any) -> None:
        self.target = SimTarget(preset, **kwargs)
        self.options: list[dict[str, Any]] = []

    @asynccontextmanager
    async def open_envoy(self, options: dict[str, Any]) -> AsyncIterator[Any]:
        self.options.append(options)
        yield SimpleNamespace(control=self.target.control())

    def run(self, *args: str, input: str | None = None) -> Result:
        @click.group()
        @click.option("--token", default=None)
        def enphase(token: str | None) -> None:
            pass

        for command in COMMANDS:
            enphase.add_command(command)
        return CliRunner().invoke(
            enphase, list(args), obj={"open_envoy": self.open_envoy}, input=input
        )


def test_storage_mode_json() -> None:
    h = Harness("battery-backup")
    res = h.run("--token", "t", "set", "storage-mode", "gw.local", "economy", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["outcome"] == "confirmed" and data["after"] == "economy"
    assert data["request"]["path"] == "/admin/lib/tariff"
    assert h.options == [{"token": "t", "host": "gw.local"}]


def test_reserve_and_charge_from_grid() -> None:
    h = Harness("battery-backup")
    res = h.run("set", "reserve", "gw", "30")
    assert res.exit_code == 0, res.output
    assert res.output.startswith("confirmed:")
    res = h.run("set", "charge-from-grid", "gw", "ON")
    assert res.exit_code == 0, res.output
    assert [w.json["tariff"]["storage_settings"]["charge_from_grid"] for w in h.target.writes] == [
        False,
        True,
    ]


def test_ignored_exits_11() -> None:
    h = Harness("tariff-ignored")
    res = h.run("set", "storage-mode", "gw", "backup")
    assert res.exit_code == 11
    assert "ignored" in res.output and "Enphase app" in res.output


def test_verify_after_reports_reverted() -> None:
    h = Harness("cloud-overwrite")
    res = h.run("set", "storage-mode", "gw", "backup", "--verify-after", "120", "--json")
    assert res.exit_code == 12, res.output
    assert json.loads(res.output)["outcome"] == "reverted"


def test_bad_arguments_send_nothing() -> None:
    h = Harness("battery-backup")
    assert h.run("set", "reserve", "gw", "120").exit_code == 2
    assert h.run("set", "storage-mode", "gw", "turbo").exit_code == 2
    assert h.run("contact", "gw", "NC1", "ajar").exit_code == 2
    res = h.run("contact", "gw", "NC7", "closed")
    assert res.exit_code == 2 and "NC1, NC2" in res.output
    assert h.run("contact-settings", "gw", "NC1").exit_code == 2
    assert h.target.writes == []


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prompts answered from `input=` as if typed at a terminal (a pty test covers the real one)."""
    monkeypatch.setattr(write_run, "interactive", lambda: True)


@pytest.mark.usefixtures("terminal")
def test_off_grid_asks_and_aborts() -> None:
    h = Harness("battery-backup")
    res = h.run("relay", "gw", "off-grid", input="n\n")
    assert res.exit_code == 1
    assert "Disconnect gw from the grid?" in res.output
    assert h.target.writes == [] and h.options == []  # not even connected


@pytest.mark.usefixtures("terminal")
def test_off_grid_confirmed_with_yes_or_answer() -> None:
    h = Harness("battery-backup")
    res = h.run("relay", "gw", "off-grid", input="y\n")
    assert res.exit_code == 0, res.output
    res = h.run("relay", "gw", "on-grid")  # not destructive: no prompt
    assert res.exit_code == 0 and "?" not in res.output
    res = h.run("relay", "gw", "off-grid", "--yes")
    assert res.exit_code == 0 and "?" not in res.output
    assert len(h.target.writes) == 3


def test_relay_pending_exits_3() -> None:
    h = Harness("battery-backup")
    res = h.run("relay", "gw", "off-grid", "--yes", "--wait", "5")
    assert res.exit_code == 10 and res.output.startswith("pending:")


def test_dry_run_prints_the_request_without_asking_or_sending() -> None:
    h = Harness("battery-backup")
    res = h.run("relay", "gw", "off-grid", "--dry-run")
    assert res.exit_code == 0, res.output
    assert "POST /ivp/ensemble/relay" in res.output
    assert '"mains_admin_state": "open"' in res.output
    assert h.target.writes == []


@pytest.mark.usefixtures("terminal")
def test_contact_open_asks_close_does_not() -> None:
    h = Harness("battery-backup")
    assert h.run("contact", "gw", "NC1", "open", input="n\n").exit_code == 1
    assert h.target.writes == []
    assert h.run("contact", "gw", "NC1", "open", "-y").exit_code == 0
    res = h.run("contact", "gw", "NC1", "closed")
    assert res.exit_code == 0 and "?" not in res.output


def test_contact_settings_options() -> None:
    h = Harness("battery-backup")
    res = h.run(
        "contact-settings", "gw", "NC1", "--soc-low", "20", "--load-name", "Pool",
        "--essential-start", "08:30", "--no-override", "--type", "load", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    sent = h.target.writes[0].json["dry_contacts"]
    assert sent["soc_low"] == 20.0 and sent["load_name"] == "Pool"
    assert sent["essential_start_time"] == 8.5 * 3600 and sent["override"] == "false"
    assert sent["type"] == "LOAD"
    assert json.loads(res.output)["outcome"] == "confirmed"


@pytest.mark.usefixtures("terminal")
def test_generator_commands() -> None:
    h = Harness("generator")
    assert h.run("generator", "gw", "mode", "on", input="n\n").exit_code == 1
    assert h.target.writes == []
    assert h.run("generator", "gw", "mode", "auto").exit_code == 0
    res = h.run(
        "generator", "gw", "exercise", "--day", "Sat", "--start", "09:45",
        "--duration", "20", "--weeks", "3",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    ex = h.target.writes[-1].json["exercise_config"]
    assert ex == {"freq_in_weeks": 3, "start": 585, "duration": 20, "day": "Sat"}
    assert h.run("generator", "gw", "charge", "off").exit_code == 0
    assert h.run("generator", "gw", "exercise", "--duration", "25").exit_code == 2
    assert h.run("generator", "gw", "exercise").exit_code == 2
    assert h.options[-1]["host"] == "gw"


def test_no_generator_is_an_unavailable_error_with_the_cli_json_envelope() -> None:
    h = Harness("battery-backup")
    res = h.run("generator", "gw", "mode", "auto", "--json")
    assert res.exit_code == 6  # docs/cli.md: feature unavailable
    error = json.loads(res.output)["error"]
    assert error["kind"] == "unavailable" and "generator" in error["message"].lower()


def test_acb_sleep_commands() -> None:
    h = Harness("acb", acb_sleep_in_inventory=True)
    serial = h.target.backend.config.acb_serials()[0]
    res = h.run("acb-sleep", "gw", serial, "--min", "20", "--max", "30")
    assert res.exit_code == 0, res.output
    res = h.run("acb-sleep", "gw", serial, "--clear", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["request"]["method"] == "DELETE"
    assert h.run("acb-sleep", "gw", serial).exit_code == 2
    assert h.run("acb-sleep", "gw", serial, "--clear", "--min", "2").exit_code == 2
    assert h.run("acb-sleep", "gw", serial, serial, "--min", "2", "--max", "3").exit_code == 2
    assert len(h.target.writes) == 2


@pytest.mark.parametrize(
    ("text", "value"), [("09:45", 585), ("0:00", 0), ("23:59", 1439), ("90", 90)]
)
def test_minutes(text: str, value: int) -> None:
    assert minutes(text) == value


@pytest.mark.parametrize("text", ["24:00", "9:5", "nine", "09:60", ""])
def test_minutes_refuses(text: str) -> None:
    with pytest.raises(click.BadParameter):
        minutes(text)


def test_contact_already_in_that_state_sends_nothing() -> None:
    """Polish: `contact NC1 closed` on a closed contact writes nothing and says so."""
    h = Harness("battery-backup")
    res = h.run("contact", "gw", "NC1", "closed")
    assert res.exit_code == 0, res.output
    assert res.output.startswith("unchanged: dry contact NC1 is already closed")
    assert h.target.writes == []
    as_json = json.loads(h.run("contact", "gw", "NC1", "closed", "--json").output)
    assert as_json["outcome"] == "unchanged" and h.target.writes == []
    assert h.run("contact", "gw", "NC1", "open", "--yes").exit_code == 0
    assert len(h.target.writes) == 1

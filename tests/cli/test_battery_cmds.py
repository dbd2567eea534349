"""`enphase battery ...` and `enphase token --otp` from the real command, against the simulator.

The gateway runs the tariff-ignoring firmware (D8.2.4264) and its simulated
Enlighten applies changes at once (`gateway_delay_s = 0`, the clock frozen),
so `--wait 1` sees the result without racing the wall clock.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from enphase_local.net.token_store import TokenStore
from enphase_local.simulator.serve.cloud import CloudEmulation

from .conftest import SimThread, enphase


@pytest.fixture(scope="module")
def ignoring() -> Iterator[SimThread]:
    sim = SimThread("tariff-ignored")
    try:
        yield sim
    finally:
        sim.close()


def _cloud(sim: SimThread) -> CloudEmulation:
    assert sim.gw.cloud is not None
    return sim.gw.cloud


@pytest.fixture
def account(ignoring: SimThread, monkeypatch: pytest.MonkeyPatch) -> SimThread:
    monkeypatch.setenv("ENPHASE_ENLIGHTEN_URL", ignoring.gw.cloud_base_url.enlighten)
    monkeypatch.setenv("ENPHASE_ENTREZ_URL", ignoring.gw.cloud_base_url.entrez)
    monkeypatch.setenv("ENPHASE_TOKEN", ignoring.token())
    ignoring.call(lambda: setattr(_cloud(ignoring).battery, "gateway_delay_s", 0.0))
    return ignoring


@pytest.fixture
def owner(account: SimThread, monkeypatch: pytest.MonkeyPatch) -> SimThread:
    """The account, with the owner's password in the environment (as a user sets it)."""
    monkeypatch.setenv("ENPHASE_PASSWORD", "owner-password")
    return account


def as_owner(*args: str, wait: str = "1") -> Any:
    """`enphase ARGS -u owner@example.com --wait WAIT` (the password from the environment)."""
    return enphase(*args, "-u", "owner@example.com", "--wait", wait)


@contextlib.contextmanager
def gateway_offline(sim: SimThread) -> Iterator[None]:
    """The gateway stops reaching Enphase: the cloud accepts changes it cannot deliver yet."""
    site = sim.call(lambda: _cloud(sim).battery.site(sim.gw.serial))
    sim.call(lambda: setattr(site, "online", False))
    try:
        yield
    finally:
        sim.call(lambda: setattr(site, "online", True))


def secctrl(sim: SimThread) -> dict[str, object]:
    raw = enphase("raw", sim.host, "/ivp/ensemble/secctrl")
    assert raw.exit_code == 0, raw.stderr
    doc: dict[str, object] = json.loads(raw.stdout)
    return doc


def test_reserve_30_is_confirmed_through_the_cloud(owner: SimThread) -> None:
    result = as_owner("battery", "reserve", owner.host, "30", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["outcome"] == "confirmed" and data["route"] == "cloud"
    assert data["after"] == 30.0
    assert secctrl(owner)["configured_backup_soc"] == 30  # read back on the gateway
    assert "owner-password" not in result.stdout + result.stderr


def test_mode_shutdown_and_charge_from_grid(
    owner: SimThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = owner
    monkeypatch.setenv("ENPHASE_USERNAME", "owner@example.com")
    mode = enphase("battery", "mode", account.host, "economy", "--wait", "1")
    assert mode.exit_code == 0, mode.stdout + mode.stderr
    assert mode.stdout.startswith("confirmed:") and "Enphase cloud" in mode.stdout
    level = enphase("battery", "shutdown-level", account.host, "15", "--wait", "1")
    assert level.exit_code == 0, level.stdout + level.stderr
    assert secctrl(account)["VLS_Limit"] == 15
    refused = enphase("battery", "charge-from-grid", account.host, "on", "--wait", "1")
    assert refused.exit_code == 2 and "ITC disclaimer" in refused.stderr
    grid = enphase(
        "battery",
        "charge-from-grid",
        account.host,
        "on",
        "--accept-itc-disclaimer",
        "--wait",
        "1",
    )
    assert grid.exit_code == 0, grid.stdout + grid.stderr
    state = account.call(account.gw.backend.state)  # type: ignore[attr-defined]
    assert state["storage_mode"] == "economy"


def test_without_an_account_the_local_write_is_ignored(account: SimThread) -> None:
    result = enphase("battery", "reserve", account.host, "25", "--wait", "1")
    assert result.exit_code == 11, result.stdout + result.stderr
    assert "ignored" in result.stdout and "cloud" in result.stdout


def test_pending_that_never_arrives_exits_13(owner: SimThread) -> None:
    with gateway_offline(owner):
        result = as_owner("battery", "shutdown-level", owner.host, "20")
    assert result.exit_code == 13, result.stdout + result.stderr
    assert "accepted by Enphase, waiting for the gateway" in result.stdout


def test_show_is_still_the_default(account: SimThread) -> None:
    result = enphase("battery", account.host, "--json")
    assert result.exit_code == 0, result.stderr
    assert "battery" in json.loads(result.stdout)


def test_token_with_a_one_time_code_stores_the_session(
    account: SimThread, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENPHASE_TOKEN")
    monkeypatch.setenv("ENPHASE_PASSWORD", "mfa-password")
    without = enphase("token", account.host, "-u", "mfa@example.com", "--json")
    assert without.exit_code == 4 and "--otp" in without.stdout
    result = enphase("token", account.host, "-u", "mfa@example.com", "--otp", "123456")
    assert result.exit_code == 0, result.stdout + result.stderr
    store = TokenStore(clean_env / "store" / "tokens.json")
    assert store.get(account.gw.serial) is not None
    session = store.enlighten_session("mfa@example.com")
    assert session is not None and session["session_id"]
    assert session["session_id"] not in result.stdout + result.stderr
    # the battery command now runs on the stored session: no password, no code
    monkeypatch.delenv("ENPHASE_PASSWORD")
    reserve = enphase(
        "battery", "reserve", account.host, "35", "-u", "mfa@example.com", "--wait", "1"
    )
    assert reserve.exit_code == 0, reserve.stdout + reserve.stderr
    assert "confirmed" in reserve.stdout


def test_set_reserve_takes_the_route_too(owner: SimThread) -> None:
    result = as_owner("set", "reserve", owner.host, "45", "--route", "cloud", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["route"] == "cloud"
    assert secctrl(owner)["configured_backup_soc"] == 45


def test_cloud_unreachable_or_refusing_is_one_line(
    owner: SimThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = owner
    monkeypatch.setenv("ENPHASE_ENLIGHTEN_URL", "http://127.0.0.1:9")  # nothing listens there
    args = ("battery", "reserve", account.host, "30")
    down = as_owner(*args)
    assert down.exit_code == 3, down.stdout + down.stderr
    assert "Enphase cloud" in down.stderr and "Traceback" not in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1
    monkeypatch.setenv("ENPHASE_ENLIGHTEN_URL", "http://cloud.example.com")
    clear = as_owner(*args)
    assert clear.exit_code == 4 and "https" in clear.stderr  # never a password in clear
    monkeypatch.setenv("ENPHASE_ENLIGHTEN_URL", account.gw.cloud_base_url.enlighten)
    monkeypatch.setenv("ENPHASE_PASSWORD", "wrong")
    wrong = as_owner(*args)
    assert wrong.exit_code == 4 and "wrong" not in wrong.stdout + wrong.stderr


def test_token_asks_for_the_code_on_a_terminal(
    account: SimThread, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from enphase_local.cli.commands import token as token_module

    monkeypatch.delenv("ENPHASE_TOKEN")
    monkeypatch.setattr(token_module, "_interactive", lambda: True)
    result = enphase(
        "token", account.host, "-u", "mfa@example.com", "--json", input="mfa-password\n123456\n"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "123456" not in result.stdout and "mfa-password" not in result.stdout
    store = TokenStore(clean_env / "store" / "tokens.json")
    assert store.enlighten_session("mfa@example.com") is not None


def test_verify_after_settles_an_accepted_change(owner: SimThread) -> None:
    with gateway_offline(owner):
        args = ("battery", "reserve", owner.host, "55", "--verify-after", "0.5", "--json")
        result = as_owner(*args, wait="0")
    assert result.exit_code == 13, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["outcome"] == "accepted" and data["route"] == "cloud"
    assert data["elapsed_s"] >= 0.5  # judged again after --verify-after, not only at --wait 0

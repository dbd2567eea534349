"""The command as a whole: fast help, the demo, configuration, the control seam."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from enphase_local.cli.config import Settings, resolve
from enphase_local.cli.connect import open_envoy
from enphase_local.cli.errors import EXIT_CODES, CliError

from .conftest import SimThread, enphase
from .contract import check_snapshot

_ENV = {k: v for k, v in os.environ.items() if not k.startswith("ENPHASE_")}


def _run(
    *args: str, timeout: float = 30, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from enphase_local.cli.app import main; sys.exit(main())",
            *args,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or _ENV,
    )


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys; from enphase_local.cli.app import main\n"
        "rc = main(['--help'])\n"
        "heavy = [m for m in ('aiohttp', 'rich', 'enphase_local.client', "
        "'enphase_local.simulator') if m in sys.modules]\n"
        "print('HEAVY', heavy, rc)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
        env=_ENV,
    ).stdout
    assert "HEAVY [] 0" in out
    for name in ("read", "watch", "demo", "dump", "token", "inverters", "simulate"):
        assert name in out


def test_demo_once_exits_by_itself() -> None:
    done = _run("demo", "--once")
    assert done.returncode == 0, done.stderr
    assert "Gateway 122232" in done.stdout and "Battery units" in done.stdout
    assert "simulated battery-backup gateway" in done.stderr


def test_demo_json_exits_by_itself() -> None:
    done = _run("demo", "--json", "--preset", "metered-3phase")
    assert done.returncode == 0, done.stderr
    check_snapshot(json.loads(done.stdout))
    lines = _run("demo", "--json", "--count", "2", "--interval", "0.2").stdout.splitlines()
    assert len(lines) == 2
    assert json.loads(lines[1])["taken_at"] > json.loads(lines[0])["taken_at"]


def test_demo_legacy_digest_in_process() -> None:
    result = enphase("demo", "--preset", "legacy-3x", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["gateway"]["auth"] == "digest"


def test_exit_codes_are_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()
    for kind, code in EXIT_CODES.items():
        assert f"`{kind}`" in doc and f"| {code} |" in doc, kind


def test_flags_win_over_env_over_file(tmp_path: Path) -> None:
    file = {"host": "file-host", "token": "file-token", "timeout": 30, "username": "file-user"}
    env = {"ENPHASE_HOST": "env-host", "ENPHASE_TIMEOUT": "20"}
    settings = resolve({"host": "flag-host", "timeout": None}, environ=env, file=file)
    assert settings == Settings(
        host="flag-host", token="file-token", username="file-user", timeout=20.0
    )
    assert "file-token" not in repr(settings)
    with pytest.raises(CliError):
        resolve({}, environ={"ENPHASE_RETRIES": "many"}, file={})


def test_config_file_supplies_host_and_token(battery: SimThread, clean_env: Path) -> None:
    config = clean_env / "config.toml"
    config.write_text(f'host = "{battery.host}"\ntoken = "{battery.token()}"\n')
    config.chmod(0o600)
    result = enphase("read", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["gateway"]["serial"] == battery.gw.serial
    config.write_text('hots = "typo"\n')
    bad = enphase("read")
    assert bad.exit_code == 2 and "unknown key(s) hots" in bad.stderr


def test_config_file_readable_by_others_warns(battery: SimThread, clean_env: Path) -> None:
    config = clean_env / "config.toml"
    config.write_text(f'token = "{battery.token()}"\n')
    config.chmod(0o644)
    result = enphase("read", battery.host, "--json")
    assert result.exit_code == 0
    assert "readable by others" in result.stderr


def test_open_envoy_for_control_commands(battery: SimThread) -> None:
    async def go() -> tuple[str, str]:
        options = {"host": battery.host, "token": battery.token(), "debug": False}
        async with open_envoy(options) as envoy:
            return type(envoy.control).__name__, envoy.info.serial

    assert asyncio.run(go()) == ("Control", battery.gw.serial)


def test_write_commands_connect_through_open_envoy(
    battery: SimThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENPHASE_TOKEN", battery.token())
    result = enphase("set", "reserve", battery.host, "30", "--dry-run", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["outcome"] == "dry-run"

"""Issue 18 item 16 and polish: version, completion, -q/-v, NO_COLOR, bare `enphase`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import enphase_local

from .conftest import SimThread, enphase
from .test_terminal import _read_until, _spawn, _wait

ROOT = Path(__file__).resolve().parents[2]
_MAIN = "import sys; from enphase_local.cli import main; sys.exit(main())"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ENPHASE_", "_ENPHASE"))}
    return subprocess.run(
        [sys.executable, "-c", _MAIN, *args], capture_output=True, text=True, timeout=30,
        env={**base, **(env or {})}, check=False,
    )  # fmt: skip


def test_version_from_one_place() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" in project["dynamic"] and "version" not in project
    for flag in ("--version", "-V"):
        done = _run(flag)
        assert done.returncode == 0
        assert done.stdout.strip() == f"enphase, version {enphase_local.__version__}"


def test_bare_enphase_prints_help_not_an_error() -> None:
    done = _run()
    assert done.returncode == 0
    assert done.stdout.startswith("Usage: enphase") and "Commands" in done.stdout
    assert "enphase: Usage" not in done.stderr + done.stdout


def test_completion_scripts_and_completions() -> None:
    for shell, marker in (("bash", "complete "), ("zsh", "compdef"), ("fish", "complete ")):
        done = _run("completion", shell)
        assert done.returncode == 0 and "_ENPHASE_COMPLETE" in done.stdout, shell
        assert marker in done.stdout, shell
    asked = _run(env={"_ENPHASE_COMPLETE": "bash_complete", "COMP_WORDS": "enphase re",
                      "COMP_CWORD": "1"})  # fmt: skip
    assert {"plain,read", "plain,relay"} <= set(asked.stdout.split())
    words = "enphase set reserve --wa"
    options = _run(env={"_ENPHASE_COMPLETE": "bash_complete", "COMP_WORDS": words,
                        "COMP_CWORD": "3"})  # fmt: skip
    assert "plain,--wait" in options.stdout.split()
    assert _run("completion", "tcsh").returncode == 2


def test_quiet_silences_warnings_verbose_and_debug_log(battery: SimThread, clean_env: Path) -> None:
    config = clean_env / "config.toml"
    config.write_text(f'token = "{battery.token()}"\n')
    config.chmod(0o644)
    normal = enphase("read", battery.host, "--json")
    assert "readable by others" in normal.stderr
    quiet = enphase("-q", "read", battery.host, "--json")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    debug = enphase("--debug", "read", battery.host, "--json")  # issue 18 item 13
    assert re.search(r"DEBUG enphase_local\.transport: GET /\S+ -> 200", debug.stderr)
    assert battery.token() not in debug.stderr
    assert enphase("-q", "-v", "read", battery.host).exit_code == 2


def test_no_color_on_a_terminal(battery: SimThread) -> None:
    env = {**os.environ, "NO_COLOR": "1", "ENPHASE_TOKEN": battery.token()}
    pid, fd = _spawn("read", battery.host, env=env)
    try:
        shown = _read_until(fd, b"Freshness", 20) + _read_until(fd, b"\x00never", 1)
        code = _wait(pid, 10)
    finally:
        os.close(fd)
    assert code == 0 and b"Inverters" in shown
    assert not re.search(rb"\x1b\[[0-9;]*(3[0-7]|38;|9[0-7])[;m]", shown), "colour despite NO_COLOR"
    env.pop("NO_COLOR")
    pid, fd = _spawn("read", battery.host, env=env)
    try:
        coloured = _read_until(fd, b"Freshness", 20) + _read_until(fd, b"\x00never", 1)
        _wait(pid, 10)
    finally:
        os.close(fd)
    assert re.search(rb"\x1b\[[0-9;]*(3[0-7]|38;|9[0-7])[;m]", coloured), "the test is blind"

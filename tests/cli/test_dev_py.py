"""Issue 18 items 3 and 10: `dev.py` checks the Python first, rebuilds a stale .venv, and
Ctrl-C in `python3 dev.py demo` ends quietly with status 0."""

from __future__ import annotations

import importlib.util
import os
import pty
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from .pty_helpers import read_until as _read_until

ROOT = Path(__file__).resolve().parents[2]


def _dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_py", ROOT / "dev.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_old_python_is_refused_in_one_line_before_anything() -> None:
    code = (
        "import runpy, sys\n"
        "sys.version_info = (3, 10, 12, 'final', 0)\n"
        "sys.argv = ['dev.py', 'test']\n"
        f"runpy.run_path({str(ROOT / 'dev.py')!r}, run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "3.11 or newer" in lines[0] and "3.10.12" in lines[0]
    assert "+ " not in done.stderr  # nothing was run, no .venv touched


def test_a_venv_of_another_python_is_rebuilt(tmp_path: Path) -> None:
    dev = _dev()
    folder = tmp_path / ".venv"
    (folder / dev.BIN.name).mkdir(parents=True)
    (folder / dev.BIN.name / "python").write_text("")
    (folder / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.10.12\n")
    assert dev.venv_version(folder) == (3, 10)
    assert dev.made_by_another_python(folder)
    here = ".".join(str(v) for v in sys.version_info[:3])
    (folder / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion = {here}\n")
    assert not dev.made_by_another_python(folder)
    assert not dev.made_by_another_python(tmp_path / "absent")


def test_demo_installs_no_dev_tools() -> None:
    dev = _dev()
    assert dev.PROFILES["demo"] == ".[cli,simulator]"
    assert dev.PROFILES["dev"] == ".[dev]"


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "enphase").exists(), reason="no .venv yet")
def test_ctrl_c_in_dev_py_demo_exits_0_without_traceback() -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal of its own, as a person would run it
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "dev.py", "demo", "--speed", "0"])
    try:
        shown = _read_until(fd, b"Ctrl-C", 30)
        assert b"Ctrl-C" in shown, shown[-500:]
        os.write(fd, b"\x03")
        rest = _read_until(fd, b"\x00never", 10)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, rest[-800:]
    assert b"Traceback" not in shown + rest
    assert b"stopped" in rest

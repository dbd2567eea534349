"""Issue 18 items 3 and 10: `dev.py` checks the Python first, rebuilds a stale .venv, and
Ctrl-C in `python3 dev.py demo` ends quietly with status 0."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from .pty_helpers import read_until as _read_until
from .pty_helpers import spawn
from .pty_helpers import wait_exit as _wait_exit

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


def test_ctrl_c_in_dev_py_demo_exits_0_without_traceback() -> None:
    """dev.py's demo runner around the real `enphase demo`, Ctrl-C typed at its terminal.

    The child runs `run_until_interrupted` (what `dev.py demo` does after its set-up)
    with this interpreter's `enphase`, so the test never installs into `.venv`.
    """
    demo = "from enphase_local.cli import main; raise SystemExit(main())"
    code = (
        f"import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('dev_py', {str(ROOT / 'dev.py')!r})\n"
        "dev = importlib.util.module_from_spec(spec); spec.loader.exec_module(dev)\n"
        f"sys.exit(dev.run_until_interrupted([sys.executable, '-c', {demo!r}, 'demo', "
        "'--speed', '0']))\n"
    )
    pid, fd = spawn([sys.executable, "-c", code], cwd=str(ROOT))  # a terminal of its own
    try:
        shown = _read_until(fd, b"Ctrl-C", 60)
        assert b"Ctrl-C" in shown, shown[-500:]
        os.write(fd, b"\x03")
        rest = _read_until(fd, b"\x00never", 30)
        code_seen = _wait_exit(pid, 30)
    finally:
        os.close(fd)
    assert code_seen == 0, rest[-800:]
    assert b"Traceback" not in shown + rest
    assert b"stopped" in rest


def test_run_until_interrupted_passes_other_exit_codes_through() -> None:
    dev = _dev()
    assert dev.run_until_interrupted([sys.executable, "-c", "raise SystemExit(3)"]) == 3
    assert dev.run_until_interrupted([sys.executable, "-c", "raise SystemExit(130)"]) == 0


def test_hogs_burn_cpu_and_stop_by_pid() -> None:
    dev = _dev()
    hogs = dev.start_hogs(2)
    try:
        assert len({h.pid for h in hogs}) == 2 and all(h.poll() is None for h in hogs)
    finally:
        dev.stop_hogs(hogs)
    assert all(h.returncode is not None for h in hogs)  # reaped: no process left behind


def test_pytest_args_add_workers_unless_chosen() -> None:
    dev = _dev()
    workers = ["-n", dev.WORKERS, "--dist", "loadfile"]
    assert dev.pytest_args([]) == workers
    assert dev.pytest_args(["tests/sources"]) == [*workers, "tests/sources"]
    assert dev.pytest_args(["-n", "0"]) == ["-n", "0"]
    assert dev.pytest_args(["-n4"]) == ["-n4"]
    assert dev.pytest_args(["-p", "no:xdist"]) == ["-p", "no:xdist"]


def test_under_load_runs_the_suite_beside_hogs_and_stops_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`test --under-load`: hogs alive while the steps run, gone after, the flag not passed on."""
    dev = _dev()
    seen: list[tuple[str, ...]] = []
    started: list[object] = []
    real_start = dev.start_hogs

    def start(count: int = dev.HOGS) -> list[subprocess.Popen[bytes]]:
        hogs: list[subprocess.Popen[bytes]] = real_start(count)
        started.extend(hogs)
        return hogs

    def run(*cmd: object) -> int:
        seen.append(tuple(str(c) for c in cmd))
        assert all(h.poll() is None for h in started)  # type: ignore[attr-defined]
        return 0

    monkeypatch.setattr(dev, "setup", lambda profile="dev": None)
    monkeypatch.setattr(dev, "start_hogs", start)
    monkeypatch.setattr(dev, "_run", run)
    assert dev.test(["--under-load", "-k", "x"]) == 0
    assert len(started) == dev.HOGS
    assert all(h.returncode is not None for h in started)  # type: ignore[attr-defined]
    assert seen[-1][-6:] == ("-n", dev.WORKERS, "--dist", "loadfile", "-k", "x")
    assert not any("--under-load" in step for step in seen)

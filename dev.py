#!/usr/bin/env python3
"""Project task runner that needs nothing but python3 (3.11 or newer).

    python3 dev.py demo    set up .venv if needed (runtime + cli + simulator only), run the demo
    python3 dev.py test    set up .venv with everything (dev tools, all extras), lint,
                           type-check and run every test (two pytest workers), then
                           tests/hass in .venv-hass and the library's tests on
                           Python 3.12 and 3.13 (each skipped in one line outside CI
                           when its environment is not built)
    python3 dev.py test --under-load
                           the same beside two CPU-bound processes (started, then
                           stopped by pid): the suite must stay green on a busy machine
    python3 dev.py setup   only create or refresh .venv with everything

Why a Python script rather than make: the README promises commands that work
on a fresh machine with only python3. The virtual environment is created in
`.venv` and refreshed whenever `pyproject.toml` changes (a hash stamp). A
`.venv` made by another Python (an older one, or after an upgrade) is
rebuilt, never reused: its packages would not import.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".dev-stamp"
MINIMUM = (3, 11)
# what each task installs: the demo needs no linters, tests need everything
PROFILES = {"demo": ".[cli,simulator]", "dev": ".[dev]"}


def python_problem(version: tuple[int, ...] = tuple(sys.version_info)) -> str | None:
    """One line saying why this Python cannot run the project, or None when it can."""
    if tuple(version[:2]) >= MINIMUM:
        return None
    found = ".".join(str(v) for v in version[:3])
    return (
        f"dev.py: enphase-local needs Python {MINIMUM[0]}.{MINIMUM[1]} or newer, "
        f"this is {found}: run it with python3.11 (or newer), e.g. `python3.11 dev.py`"
    )


def venv_version(folder: Path = VENV) -> tuple[int, int] | None:
    """The Python version a virtual environment was made with (from pyvenv.cfg), or None."""
    try:
        text = (folder / "pyvenv.cfg").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("version", "version_info"):
            parts = value.strip().split(".")
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
                return int(parts[0]), int(parts[1])
    return None


def made_by_another_python(folder: Path = VENV) -> bool:
    """True when `folder` holds an environment this interpreter must not reuse."""
    if not folder.exists():
        return False
    python = folder / BIN.name / "python"
    return venv_version(folder) != tuple(sys.version_info[:2]) or not python.exists()


def _run(*cmd: str | Path) -> int:
    print("+", " ".join(str(c) for c in cmd), file=sys.stderr, flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT)


def _stamp() -> tuple[str, str] | None:
    try:
        profile, _, digest = STAMP.read_text().strip().partition(" ")
    except OSError:
        return None
    return (profile, digest) if digest else ("dev", profile)  # old stamps: hash only


def setup(profile: str = "dev") -> None:
    """Create `.venv` and install what `profile` needs, once per pyproject change.

    A `.venv` already holding everything (``dev``) serves the demo too.
    """
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if made_by_another_python():
        made = venv_version()
        shown = "an unknown Python" if made is None else f"Python {made[0]}.{made[1]}"
        print(f"rebuilding .venv: it was made by {shown}", file=sys.stderr, flush=True)
    elif (stamp := _stamp()) is not None and stamp[1] == wanted and stamp[0] in (profile, "dev"):
        return
    if made_by_another_python() or not (BIN / "python").exists():
        print("creating .venv ...", file=sys.stderr, flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    py = BIN / "python"
    quiet = "-q"
    if _run(py, "-m", "pip", "install", quiet, "--upgrade", "pip") != 0:
        sys.exit("could not upgrade pip in .venv: check network access to the package registry")
    if _run(py, "-m", "pip", "install", quiet, "-e", PROFILES[profile]) != 0:
        sys.exit("could not install the project into .venv: see the pip output above")
    STAMP.write_text(f"{profile} {wanted}")


UNDER_LOAD = "--under-load"
HOGS = 2  # as many CPU-bound processes as the 2-core machines the suite must pass on
WORKERS = "2"  # pytest-xdist workers: most tests wait on sockets, two keep both cores busy


def start_hogs(count: int = HOGS) -> list[subprocess.Popen[bytes]]:
    """`count` processes that only burn CPU: a busy machine, on demand and by pid."""
    return [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(count)]


def stop_hogs(hogs: list[subprocess.Popen[bytes]]) -> None:
    """End the processes `start_hogs` started (those pids only) and reap them."""
    for hog in hogs:
        hog.kill()
    for hog in hogs:
        hog.wait()


def pytest_args(extra: list[str]) -> list[str]:
    """pytest's arguments: the workers unless the caller chose (``-n``, ``-p no:xdist``).

    ``loadfile``: a module's tests run on one worker, so a run they share (the soak
    day, each behaviour target) is made once, not once per worker. (``loadgroup`` with
    ``xdist_group`` marks did not group anything under pytest 9 with xdist 3.8.)
    """
    chosen = any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in extra)
    chosen = chosen or "no:xdist" in extra
    return extra if chosen else ["-n", WORKERS, "--dist", "loadfile", *extra]


def test(extra: list[str]) -> int:
    """Lint, type-check and run the whole test suite; non-zero on any failure.

    With ``--under-load`` the suite runs beside two CPU hogs: timing races that an
    idle machine hides (a real timeout against a budget) show up there, not in CI.
    """
    setup("dev")
    if UNDER_LOAD in extra:
        hogs = start_hogs()
        print(f"dev.py: {len(hogs)} CPU hogs running (pids {[h.pid for h in hogs]})", flush=True)
        try:
            return test([a for a in extra if a != UNDER_LOAD])
        finally:
            stop_hogs(hogs)
    steps: list[tuple[str | Path, ...]] = [
        (BIN / "ruff", "check", "."),
        (BIN / "ruff", "format", "--check", "."),
        (BIN / "mypy",),
    ]
    for step in steps:
        if (rc := _run(*step)) != 0:
            return rc
    # pytest exits 5 when it collected no test: that is a failure here too.
    rc = _run(BIN / "python", "-m", "pytest", *pytest_args(extra))
    if rc == 5:
        print("pytest collected no tests: treating as a failure", file=sys.stderr)
        return 1
    if rc or extra:
        return rc
    return hass_tests() or python_versions_tests()


def hass_tests() -> int:
    """tests/hass in .venv-hass (Home Assistant on Python 3.13), built by `.ci/hass.sh`.

    Outside CI a missing environment skips them with one line (building it
    takes minutes); under CI=true, where `.ci/run` builds it, that is a failure.
    """
    if not (ROOT / ".venv-hass" / "bin" / "python").exists():
        if os.environ.get("CI") == "true":
            print("tests/hass: no .venv-hass under CI=true: `bash .ci/hass.sh` builds it")
            return 1
        print("tests/hass: skipped: no .venv-hass (build it once: bash .ci/hass.sh)")
        return 0
    return _run("bash", ROOT / ".ci" / "hass.sh", "test")


PYTHONS = {"3.12": ".venv-py312", "3.13": ".venv-py313"}
"""The other Pythons the library's tests run on (Home Assistant's), built by `.ci/pythons.sh`."""


def python_versions_tests() -> int:
    """The library's tests on Python 3.12 and 3.13 (`.ci/pythons.sh test`).

    As with tests/hass: outside CI a missing environment skips them with one
    line; under CI=true, where `.ci/run` builds them, that is a failure.
    """
    missing = [v for v, d in PYTHONS.items() if not (ROOT / d / "bin" / "python").exists()]
    if missing:
        names = " and ".join(missing)
        if os.environ.get("CI") == "true":
            print(f"python {names}: no environment under CI=true: `bash .ci/pythons.sh` builds it")
            return 1
        print(f"python {names}: skipped: no environment (build once: bash .ci/pythons.sh)")
        return 0
    return _run("bash", ROOT / ".ci" / "pythons.sh", "test")


def demo(extra: list[str]) -> int:
    """Run the CLI against the built-in simulated gateway; Ctrl-C ends it quietly (0).

    Ctrl-C reaches the whole process group: the demo handles it (it says
    "stopped" and exits 0), so this script only waits for it to finish
    rather than dying with a traceback or killing the demo mid-sentence.
    """
    setup("demo")
    return run_until_interrupted([str(BIN / "enphase"), "demo", *extra])


def run_until_interrupted(cmd: list[str]) -> int:
    """Run `cmd`, sitting out Ctrl-C while it ends by itself; 0 when Ctrl-C ended it."""
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    child = subprocess.Popen(cmd, cwd=ROOT)
    while True:
        try:
            rc = child.wait()
            break
        except KeyboardInterrupt:
            continue  # the demo got the same Ctrl-C and is ending
    return 0 if rc in (130, -signal.SIGINT) else rc


def main(argv: list[str]) -> int:
    problem = python_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0 if argv else 2
    cmd, extra = argv[0], argv[1:]
    if cmd == "setup":
        setup("dev")
        return 0
    if cmd == "test":
        return test(extra)
    if cmd == "demo":
        return demo(extra)
    print(f"unknown command {cmd!r}; try: python3 dev.py demo | test | setup", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

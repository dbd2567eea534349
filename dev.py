#!/usr/bin/env python3
"""Project task runner that needs nothing but python3.

    python3 dev.py demo    set up .venv if needed, then run the demo
    python3 dev.py test    set up .venv if needed, then lint, type-check and run every test
    python3 dev.py setup   only create or refresh .venv

Why a Python script rather than make: the README promises commands that work
on a fresh machine with only python3. The virtual environment is created in
`.venv` and refreshed whenever `pyproject.toml` changes (a hash stamp).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".dev-stamp"


def _run(*cmd: str | Path) -> int:
    print("+", " ".join(str(c) for c in cmd), file=sys.stderr, flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT)


def setup() -> None:
    """Create `.venv` and install the package with its dev extras, once per pyproject change."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not (BIN / "python").exists():
        print("creating .venv ...", file=sys.stderr, flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    py = BIN / "python"
    quiet = "-q"
    if _run(py, "-m", "pip", "install", quiet, "--upgrade", "pip") != 0:
        sys.exit("could not upgrade pip in .venv: check network access to the package registry")
    if _run(py, "-m", "pip", "install", quiet, "-e", ".[dev]") != 0:
        sys.exit("could not install the project into .venv: see the pip output above")
    STAMP.write_text(wanted)


def test(extra: list[str]) -> int:
    """Lint, type-check and run the whole test suite; non-zero on any failure."""
    setup()
    steps: list[tuple[str | Path, ...]] = [
        (BIN / "ruff", "check", "."),
        (BIN / "ruff", "format", "--check", "."),
        (BIN / "mypy",),
    ]
    for step in steps:
        if (rc := _run(*step)) != 0:
            return rc
    # pytest exits 5 when it collected no test: that is a failure here too.
    rc = _run(BIN / "python", "-m", "pytest", *extra)
    if rc == 5:
        print("pytest collected no tests: treating as a failure", file=sys.stderr)
        return 1
    return rc


def demo(extra: list[str]) -> int:
    """Run the CLI against the built-in simulated gateway."""
    setup()
    return _run(BIN / "enphase", "demo", *extra)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0 if argv else 2
    cmd, extra = argv[0], argv[1:]
    if cmd == "setup":
        setup()
        return 0
    if cmd == "test":
        return test(extra)
    if cmd == "demo":
        return demo(extra)
    print(f"unknown command {cmd!r}; try: python3 dev.py demo | test | setup", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

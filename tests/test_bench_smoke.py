"""The benchmark entry point starts: `python3 bench/run.py --help`.

Benchmarks are never part of the suite's pass/fail; this only checks that the
command parses its arguments with the standard library, without creating
bench/.venv or touching the network.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "bench" / "run.py"


def test_bench_help_starts_without_venv_or_network() -> None:
    venv = ROOT / "bench" / ".venv"
    existed = venv.exists()
    proc = subprocess.run(
        [sys.executable, str(RUN), "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--quick" in proc.stdout
    assert venv.exists() == existed  # --help never creates the bench venv

"""Cold start: import time (``-X importtime``, cumulative for the package) and wall time."""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path
from typing import Any


def _importtime_us(python: Path, module: str) -> int:
    proc = subprocess.run(
        [str(python), "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    return -1


def _wall_s(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=False)
    return time.perf_counter() - start


def measure(python: Path, enphase: Path, runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": runs}
    for label, module in (("ours", "enphase_local"), ("pyenphase", "pyenphase")):
        _wall_s([str(python), "-c", f"import {module}"])  # warm the page cache, not timed
        out[label] = {
            "importtime_ms": statistics.median(
                _importtime_us(python, module) / 1000 for _ in range(runs)
            ),
            "import_wall_ms": 1000
            * statistics.median(
                _wall_s([str(python), "-c", f"import {module}"]) for _ in range(runs)
            ),
        }
    out["ours"]["client_importtime_ms"] = statistics.median(
        _importtime_us(python, "enphase_local.client") / 1000 for _ in range(runs)
    )
    out["python_wall_ms"] = 1000 * statistics.median(
        _wall_s([str(python), "-c", "pass"]) for _ in range(runs)
    )
    _wall_s([str(enphase), "--help"])
    out["enphase_help_ms"] = 1000 * statistics.median(
        _wall_s([str(enphase), "--help"]) for _ in range(runs)
    )
    return out

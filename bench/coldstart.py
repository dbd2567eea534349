"""Cold start: import time (``-X importtime``, cumulative for the package) and wall time.

Every run may read and write bytecode caches (``PYTHONDONTWRITEBYTECODE`` is
dropped from the environment), as in an installed package: pyenphase's
site-packages copy has its ``.pyc`` files from pip, and this editable
checkout gets its own from the warm-up run. Without that, our figure would
include compiling every module from source and pyenphase's would not.

"Home Assistant-like" imports the module in a process that has already
loaded what Home Assistant always has (aiohttp's client and server, PyJWT,
orjson), so only the library's own cost is counted.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
HA_PRELOAD = "import aiohttp, aiohttp.client, aiohttp.web, jwt, orjson"


def _importtime_us(python: Path, module: str, preload: str = "") -> int:
    code = f"{preload}; import {module}" if preload else f"import {module}"
    proc = subprocess.run(
        [str(python), "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env=_ENV,
    )
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    return -1


def _wall_s(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=False, env=_ENV)
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
    # Alternating runs, min and median: the machine is shared, and one slow run
    # should not decide a ratio.
    ha: dict[str, list[float]] = {"ours": [], "pyenphase": []}
    for _ in range(2 * runs + 1):
        for label, module in (("ours", "enphase_local.client"), ("pyenphase", "pyenphase")):
            ha[label].append(_importtime_us(python, module, HA_PRELOAD) / 1000)
    for label, values in ha.items():
        out[label]["ha_importtime_min_ms"] = min(values)
        out[label]["ha_importtime_median_ms"] = statistics.median(values)
    out["ha_runs"] = 2 * runs + 1
    out["python_wall_ms"] = 1000 * statistics.median(
        _wall_s([str(python), "-c", "pass"]) for _ in range(runs)
    )
    _wall_s([str(enphase), "--help"])
    out["enphase_help_ms"] = 1000 * statistics.median(
        _wall_s([str(enphase), "--help"]) for _ in range(runs)
    )
    return out

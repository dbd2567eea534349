"""``python -m enphase_local.simulator``: the same as ``enphase simulate``.

Why: the simulator must be startable from a checkout or a virtual
environment without the console script on PATH (benchmarks, CI).
"""

from __future__ import annotations

import sys

from enphase_local.cli.app import main

if __name__ == "__main__":
    sys.exit(main(["simulate", *sys.argv[1:]]))

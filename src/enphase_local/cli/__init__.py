"""The `enphase` command (the ``cli`` extra: click and rich).

`main` is the installed script's entry point. It imports nothing but the
standard library before the command itself, so that a package installed
without the ``cli`` extra says which extra to install instead of failing
with an ImportError; commands that need another extra (the simulator, mDNS
discovery) say so the same way (`missing_extra`).
"""

from __future__ import annotations

import sys

from .extras import missing_extra

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the `enphase` command; its exit code."""
    try:
        from .app import main as run
    except ImportError as err:
        advice = missing_extra(err)
        if advice is None:
            raise
        print(f"enphase: {advice}", file=sys.stderr)
        return 6
    return run(argv)

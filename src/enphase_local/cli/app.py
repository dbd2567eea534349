"""Entry point of the `enphase` command (filled by the CLI issue)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the `enphase` command."""
    print("enphase: the command line is not built yet", file=sys.stderr)
    return 2

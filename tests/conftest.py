"""Suite-wide set-up: the hypothesis profile (see tests/hypothesis_profile.py), and a
closing ``N passed, M skipped`` line however quiet the run.

``-q`` in the addopts plus ``-q`` on the command line hides pytest's own summary
line, which is what CI logs and people grep for: `pytest_terminal_summary` writes
it then, from pytest's own counts.
"""

from __future__ import annotations

import time

import pytest

from tests import hypothesis_profile

PROFILE = hypothesis_profile.PROFILE
_STARTED = time.monotonic()


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if terminalreporter.verbosity >= -1:
        return  # pytest prints its own summary line
    parts, _ = terminalreporter.build_summary_stats_line()
    counts = ", ".join(text for text, _markup in parts)
    terminalreporter.write_line(f"{counts} in {time.monotonic() - _STARTED:.2f}s")

"""Suite-wide set-up: the hypothesis profile (see tests/hypothesis_profile.py), a check
that no test leaves a process behind, and a closing ``N passed, M skipped`` line however
quiet the run.

``-q`` in the addopts plus ``-q`` on the command line hides pytest's own summary
line, which is what CI logs and people grep for: `pytest_terminal_summary` writes
it then, from pytest's own counts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

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


def _children(pid: int) -> list[str]:
    """This process's child processes still there (running, or ended and never waited for)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # ended meanwhile
        comm_end = text.rfind(")")
        fields = text[comm_end + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(f"{stat.parent.name} {text[text.find('(') : comm_end + 1]} {fields[0]}")
    return found


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """Fails the run (at its last teardown) if a test left a child process: a broker, a
    demo, a hog. Torn down last, after every other session fixture has stopped its own."""
    yield
    if Path("/proc/self/stat").is_file():
        left = _children(os.getpid())
        assert not left, f"tests left these processes behind (pid, name, state): {left}"

"""A really full disk (a small tmpfs mounted for the test): rows are held, then written.

Why a real filesystem: SQLite's WAL behaves differently when the disk is
full (a checkpoint needs room in the main file, the WAL keeps its size until
one succeeds); a fake error would not show that. Mounting needs root: the
test skips with one line without it (and fails under CI=true).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service.helpers import collecting, run_for


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs of this test alone."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        _unavailable("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        _unavailable(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Fill the filesystem of `folder` to the last byte; the filler file."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):
            while os.write(fd, b"\0" * 4096):
                pass
    finally:
        os.close(fd)
    return filler


def free(filler: Path, nbytes: int) -> None:
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - nbytes))


async def test_rows_are_held_while_the_disk_is_full_then_written(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="enphase_local.service.history")
    db = small_disk / "h.db"
    polls = 0
    async with collecting(db, "metered-split") as (collector, sink, _gw, clock):
        for _ in range(10):
            await run_for(collector, clock, 60, 60)
            await sink.flush()
            polls += 1
        filler = fill(small_disk)
        for _ in range(120):  # two hours of reads while nothing can be written
            await run_for(collector, clock, 60, 60)
            await sink.flush()
            polls += 1
        assert sink.last_error is not None and "full" in sink.last_error
        held = sink.held_rows
        assert held > 0 and sink.rows_dropped == 0
        assert sink.stats()["pending_rows"] == held
        free(filler, 512 * 1024)  # a little room, far less than what the WAL grew to
        for _ in range(3):
            await run_for(collector, clock, 60, 60)
            await sink.flush()
            polls += 1
        assert sink.last_error is None, sink.last_error
        assert sink.held_rows == 0 and sink.rows_dropped == 0
    with sqlite3.connect(db) as conn:
        (n,) = conn.execute("SELECT COUNT(*) FROM power_samples WHERE phase = ''").fetchone()
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert n == polls
    errors = [r for r in caplog.records if "full" in r.getMessage()]
    assert len(errors) == 1  # said once, not at every flush
    assert "writing again" in caplog.text


async def test_a_stop_on_a_full_disk_counts_what_is_lost(small_disk: Path) -> None:
    db = small_disk / "h.db"
    async with collecting(db, "metered-split") as (collector, sink, _gw, clock):
        await run_for(collector, clock, 60, 60)
        await sink.flush()
        fill(small_disk)
        await run_for(collector, clock, 600, 60)
        held = sink.held_rows
    assert held > 0 and sink.unwritten == held


def test_the_stop_line_says_how_many_rows_were_not_written(small_disk: Path) -> None:
    """The real command on a disk that fills: no "history flushed" when it was not."""
    import re
    import signal
    import sys
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith("ENPHASE_")}
    db = small_disk / "h.db"
    command = [sys.executable, "-m", "enphase_local.cli.app", "collect", "--demo"]
    proc = subprocess.Popen(
        [*command, "--db", str(db), "--port", "0", "--demo-speed", "3600"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        url = ""
        deadline = time.monotonic() + 30
        while not url and time.monotonic() < deadline:
            found = re.search(r"dashboard: (http://\S+/)", proc.stderr.readline())
            url = found.group(1) if found else ""
        assert _history_until(url, lambda h: h["written_rows"] > 0)  # a first batch written
        fill(small_disk)
        assert _history_until(url, lambda h: h["error"] is not None and h["pending_rows"] > 0)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "history flushed" not in err, err
    match = re.search(r"stopped; (\d+) rows could not be written to .*full", err)
    assert match and int(match.group(1)) > 0, err


def _history_until(url: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """/healthz's history once `check` holds (polled, 30 s at most)."""
    import json
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=5) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as err:  # 503 while degraded, with the same body
            body = json.load(err)
        history: dict[str, Any] = body["history"]
        if check(history):
            return history
        time.sleep(0.2)
    raise AssertionError("the history never got there")

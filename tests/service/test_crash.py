"""``kill -9`` in the middle of a write batch: the file stays whole, committed data stays."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from enphase_local.models.live_frame import LiveFrame
from enphase_local.service.history_sink import HistorySink

from .crash_child import START

ROOT = Path(__file__).resolve().parents[2]


def _committed(db: Path) -> list[float]:
    with sqlite3.connect(db) as conn:
        return [at for (at,) in conn.execute("SELECT at FROM power_samples ORDER BY at")]


async def _restart(db: Path, first: float) -> None:
    sink = HistorySink(db, flush_every_s=3600)
    await sink.start(None)  # type: ignore[arg-type]
    for i in range(10):
        frame = LiveFrame(taken_at=first + i, source="test", solar_watts=1.0)
        await sink.on_live("SERIAL", frame)
    await sink.stop()


def test_kill_9_mid_batch_then_restart(tmp_path: Path) -> None:
    db, marker = tmp_path / "history.db", tmp_path / "frozen"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.service.crash_child", str(db), str(marker)], cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert child.poll() is None, "the writer died on its own"
            assert time.monotonic() < deadline, "the writer never reached its fifth batch"
            time.sleep(0.02)
        frozen_from = float(marker.read_text())
        before = _committed(db)  # what a reader saw committed while the batch was open
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert before, "four batches were committed before the freeze"
    assert max(before) < frozen_from

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    after = _committed(db)
    assert after == before  # every committed sample kept, nothing of the open batch
    assert after == [START + i for i in range(len(after))]  # and no hole

    asyncio.run(_restart(db, frozen_from))  # a restart resumes on the same file
    resumed = _committed(db)
    assert resumed[: len(before)] == before
    assert len(resumed) == len(before) + 10
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

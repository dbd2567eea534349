"""Downsampling and retention keep exactly what they promise; write failures lose nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from enphase_local.models.live_frame import LiveFrame, LivePhase
from enphase_local.service.history_sink import HistorySink

T0 = 1_781_395_200.0  # a whole minute


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def frame(at: float) -> LiveFrame:
    second = (at - T0) % 60
    return LiveFrame(
        taken_at=at,
        source="test",
        solar_watts=second,  # each minute: min 0, mean 29.5, max 59
        house_watts=100.0,
        grid_watts=100.0 - second,
        phases={"L1": LivePhase(solar_watts=second / 2)},
    )


async def feed(sink: HistorySink, clock: Clock, seconds: int) -> None:
    for _ in range(seconds):
        await sink.on_live("S1", frame(clock.now))
        clock.now += 1


async def test_minutes_are_exact_and_old_samples_go(tmp_path: Path) -> None:
    clock = Clock()
    sink = HistorySink(
        tmp_path / "h.db", clock=clock, flush_every_s=3600, keep_live_s=3600, maintain_every_s=0
    )
    await sink.start(None)  # type: ignore[arg-type]
    await feed(sink, clock, 3 * 3600)  # three hours at 1 Hz
    await sink.flush()
    sink.store.db.execute("INSERT INTO gateways VALUES ('S1', 'h', 'fw', ?, ?)", (T0, clock.now))
    for _ in range(3):  # incremental: each call folds at most a day, deletes a bounded chunk
        await sink.maintain(force=True)
    db = sqlite3.connect(sink.path)
    minutes = db.execute(
        "SELECT minute, samples, solar_min, solar_mean, solar_max, grid_mean FROM power_minutes "
        "WHERE phase = '' ORDER BY minute"
    ).fetchall()
    # every complete minute folded (the last one is still open), exactly
    assert [m[0] for m in minutes] == [T0 + 60 * i for i in range(3 * 60 - 1)]
    assert all(m[1:5] == (60, 0.0, 29.5, 59.0) for m in minutes)
    assert all(m[5] == pytest.approx(70.5) for m in minutes)
    per_phase = db.execute("SELECT COUNT(*), MAX(solar_max) FROM power_minutes WHERE phase = 'L1'")
    assert per_phase.fetchone() == (3 * 60 - 1, 29.5)
    # live samples: exactly the last hour is kept
    oldest, count = db.execute(
        "SELECT MIN(at), COUNT(*) FROM power_samples WHERE phase = ''"
    ).fetchone()
    assert oldest == clock.now - 3600
    assert count == 3600
    await sink.stop()


async def test_samples_not_yet_folded_are_never_deleted(tmp_path: Path) -> None:
    clock = Clock()
    sink = HistorySink(tmp_path / "h.db", clock=clock, flush_every_s=3600, keep_live_s=60)
    await sink.start(None)  # type: ignore[arg-type]
    await feed(sink, clock, 600)
    await sink.flush()
    deleted = await sink._run(sink.store.forget, clock.now + 10_000, 60)  # no downsampling yet
    assert deleted == 0
    await sink.stop()


async def test_locked_file_holds_data_then_writes_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    path = tmp_path / "h.db"
    sink = HistorySink(
        path, clock=clock, flush_every_s=3600, busy_timeout_s=0.05, max_held_rows=500
    )
    await sink.start(None)  # type: ignore[arg-type]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the file
    await feed(sink, clock, 100)
    await sink.flush()
    assert sink.last_error is not None and "locked" in sink.last_error
    assert "stop it" in caplog.text  # one clear line saying what to do
    await feed(sink, clock, 100)
    await sink.flush()
    assert sink.held_rows == 400 and sink.rows_dropped == 0  # two rows a frame (site, L1)
    await feed(sink, clock, 100)
    await sink.flush()  # 600 held > 500: the oldest batch goes, counted
    assert sink.rows_dropped == 200 and sink.held_rows == 400
    other.execute("ROLLBACK")
    other.close()
    await sink.flush()
    assert sink.last_error is None and sink.held_rows == 0
    await sink.stop()
    ats = [
        a
        for (a,) in sqlite3.connect(path).execute(
            "SELECT at FROM power_samples WHERE phase = '' ORDER BY at"
        )
    ]
    assert ats == [T0 + i for i in range(100, 300)]


async def test_disk_full_is_explained_and_recovers(tmp_path: Path) -> None:
    clock = Clock()
    sink = HistorySink(tmp_path / "h.db", clock=clock, flush_every_s=3600)
    await sink.start(None)  # type: ignore[arg-type]
    pages = sink.store.db.execute("PRAGMA page_count").fetchone()[0]
    sink.store.db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is now "full"
    await feed(sink, clock, 2000)
    await sink.flush()
    assert sink.last_error is not None and "full" in sink.last_error
    assert sink.held_rows == 4000
    sink.store.db.execute("PRAGMA max_page_count = 1000000")
    await sink.flush()
    assert sink.last_error is None and sink.rows_written == 4000
    await sink.stop()

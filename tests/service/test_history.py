"""The SQLite history against a simulated gateway on an injected clock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from enphase_local.service import history_query as hq
from tests.service.helpers import MIDNIGHT, collecting, run_for

DAY = 86_400.0


async def test_energy_per_day_matches_the_simulator(tmp_path: Path) -> None:
    db_path = tmp_path / "history.db"
    truth: list[dict[str, float]] = []
    async with collecting(db_path, "metered-3phase") as (collector, sink, gw, clock):
        await collector.poll_once()
        backend = gw.backend
        for _day in range(2):
            truth.append(dict(backend.state()["lifetime_wh"]))  # type: ignore[attr-defined]
            await run_for(collector, clock, DAY, 600)  # reads land on midnight exactly
            await sink.flush()
        truth.append(dict(backend.state()["lifetime_wh"]))  # type: ignore[attr-defined]
    db = sqlite3.connect(db_path)
    rows = hq.energy(db, MIDNIGHT, MIDNIGHT + 2 * DAY, "1d", tz="utc")
    by = {(r.bucket, r.flow): r.wh for r in rows}
    for day, name in enumerate(("2026-06-14", "2026-06-15")):
        solar = truth[day + 1]["prod"] - truth[day]["prod"]
        house = truth[day + 1]["load"] - truth[day]["load"]
        assert solar > 1000
        assert abs(by[(name, "solar")] - solar) <= 0.005 * solar, (name, by, solar)
        assert abs(by[(name, "house")] - house) <= 0.005 * house, (name, by, house)
    # buckets add up to the counter's change over the range
    total = sum(r.wh for r in rows if r.flow == "solar")
    hourly = hq.energy(db, MIDNIGHT, MIDNIGHT + 2 * DAY, "1h", tz="utc")
    assert abs(sum(r.wh for r in hourly if r.flow == "solar") - total) < 1e-6
    assert len([r for r in hourly if r.flow == "house"]) == 48  # the house uses power every hour
    # a half-hour zone: its hours straddle UTC hours, and still add up
    india = hq.energy(db, MIDNIGHT, MIDNIGHT + 2 * DAY, "1h", tz="Asia/Kolkata")
    assert abs(sum(r.wh for r in india if r.flow == "solar") - total) < 1e-6
    assert india[0].bucket == "2026-06-14T05:00"
    # the counters at every read are there, per phase too
    phases = {p for (p,) in db.execute("SELECT DISTINCT phase FROM energy_counters")}
    assert phases == {"", "L1", "L2", "L3"}


def test_buckets_follow_the_zone_rules() -> None:
    name = hq.bucket_namer("1h", "Asia/Kolkata")  # UTC+05:30: hours straddle UTC hours
    assert name(MIDNIGHT) == "2026-06-14T05:00"
    assert name(MIDNIGHT + 1800) == "2026-06-14T06:00"
    quarter = hq.bucket_namer("15m", "utc")
    assert (
        quarter(MIDNIGHT + 899) == "2026-06-14T00:00"
        and quarter(MIDNIGHT + 900) == "2026-06-14T00:15"
    )
    # Paris leaves summer time on 2026-10-25: that day has 25 hours, one bucket
    paris = hq.bucket_namer("1d", "Europe/Paris")
    day_start = 1_792_879_200.0  # 2026-10-24T22:00Z = 2026-10-25 00:00 in Paris
    assert paris(day_start) == paris(day_start + 25 * 3600 - 1) == "2026-10-25"
    assert paris(day_start + 25 * 3600) == "2026-10-26"

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
            await run_for(collector, clock, DAY, 300)
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
    # the counters at every read are there, per phase too
    phases = {p for (p,) in db.execute("SELECT DISTINCT phase FROM energy_counters")}
    assert phases == {"", "L1", "L2", "L3"}

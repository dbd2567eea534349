"""The history's growth per gateway per day, SQLite and PostgreSQL, live followed or not.

    .venv/bin/python bench/collector_day.py [--pg postgresql://127.0.0.1/test] [--json FILE]

One battery-backup site (split phase, 2 phases + the site total) read by the
real collector every 60 s for one simulated day (frozen clock, in-process:
sizes do not depend on speed), into the real sinks:

- ``off``: live not followed (the default for a gateway nobody watches):
  one power frame per update, from the snapshot;
- ``on``: live followed all day, 1 Hz frames (synthetic values, the
  collector's `deliver_frame`, so thinning is the sinks' own): the SQLite
  history keeps one mean row per `live_history_step` (10 s), PostgreSQL one
  frame per its `live_interval_s` (5 s);
- ``on, unthinned``: the same with ``live_history_step = 0`` (SQLite only),
  what 0.x kept.

Sizes: SQLite's tables and indexes (``dbstat`` after VACUUM); PostgreSQL's
``pg_total_relation_size`` of each table (indexes and TOAST included) after
VACUUM FULL, in a database of its own made for the run and dropped after
(TimescaleDB off). The 1 Hz samples are kept `keep_live_days` (7) and then only
their 1-minute min/mean/max stay: the "for ever" column is the day without
``power_samples``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from common import NOON, bench_frame  # noqa: E402

DAY = 86_400


def _sqlite_bytes(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        db.execute("VACUUM")
        rows = db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    return {name: int(size) for name, size in rows}


async def _pg_bytes(dsn: str) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("VACUUM FULL")
        rows = await conn.fetch(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = 'public'"
        )
    finally:
        await conn.close()
    return {r[0]: int(r[1]) for r in rows}


async def one_day(live: bool, clock: Any, sinks: list[Any]) -> None:
    """A day of one gateway every 60 s through the collector into `sinks`."""
    from enphase_local import Envoy
    from enphase_local.service.collector import Collector, Target
    from enphase_local.simulator import SimulatedGateway, SiteBackend

    backend = SiteBackend.from_preset("battery-backup", clock=clock, seed=1)
    async with SimulatedGateway(backend, clock=clock) as gw:
        target = Target(
            gw.serial,
            lambda s: Envoy(gw.https_host, token=gw.owner_token(), session=s, clock=clock),
        )
        collector = Collector([target], sinks, clock=clock)
        await collector.start_sinks()
        state = collector.states[gw.serial]
        for minute in range(1440):
            if live:
                state.follows_live = True  # as run() does while it follows live
                for second in range(60):
                    at = NOON + minute * 60 + second
                    await collector.deliver_frame(gw.serial, bench_frame(at, second))
            clock.advance(60)
            await collector.poll_once()
        await collector.close_envoys()
        for sink in sinks:
            flush = getattr(sink, "flush", None)
            if flush is not None:
                await flush()
            maintain = getattr(sink, "maintain", None)
            if maintain is not None:
                await maintain(force=True)
        await collector.stop_sinks()


async def sqlite_case(tmp: Path, live: bool, step: float) -> dict[str, int]:
    from enphase_local.service.history_sink import HistorySink
    from enphase_local.simulator import SimClock

    db = tmp / f"day-{live}-{step:g}.db"
    clock = SimClock(start=NOON, speed=0)
    sink = HistorySink(db, clock=clock, flush_every_s=3600, keep_live_s=7 * DAY, live_step_s=step)
    await one_day(live, clock, [sink])
    return _sqlite_bytes(db)


async def pg_case(base_dsn: str, live: bool) -> dict[str, int]:
    import asyncpg

    from enphase_local.service.postgres import PostgresSink
    from enphase_local.simulator import SimClock

    name = f"enphase_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(base_dsn)
    await admin.execute(f"CREATE DATABASE {name}")
    dsn = base_dsn.rsplit("/", 1)[0] + "/" + name
    try:
        sink = PostgresSink(dsn=dsn, timescale=False, flush_interval_s=3600)
        await one_day(live, SimClock(start=NOON, speed=0), [sink])
        return await _pg_bytes(dsn)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


def _summary(tables: dict[str, int]) -> dict[str, Any]:
    total = sum(tables.values())
    samples = sum(v for k, v in tables.items() if k.startswith("power_samples"))
    return {"total": total, "without_samples": total - samples, "tables": tables}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="enphase-bench-day-"))
    out: dict[str, Any] = {
        "sqlite off": _summary(await sqlite_case(tmp, False, 10)),
        "sqlite on": _summary(await sqlite_case(tmp, True, 10)),
        "sqlite on, unthinned": _summary(await sqlite_case(tmp, True, 0)),
    }
    if args.pg:
        try:
            out["postgres off"] = _summary(await pg_case(args.pg, False))
            out["postgres on"] = _summary(await pg_case(args.pg, True))
        except (OSError, ConnectionError) as err:  # no server here: SQLite's figures stand
            print(f"PostgreSQL not measured: {err}", file=sys.stderr)
    return out


def render(out: dict[str, Any]) -> list[str]:
    lines = [
        "History per gateway per simulated day (one battery-backup site, split phase, 60 s "
        "updates through the real collector and sinks; `bench/collector_day.py`):",
        "",
        "| store, live | per day | of which live-rate power (kept 7 days) | kept for ever |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, s in out.items():
        samples = s["total"] - s["without_samples"]
        lines.append(
            f"| {name} | {s['total'] / 1e3:.0f} KB | {samples / 1e3:.0f} KB "
            f"| {s['without_samples'] / 1e3:.0f} KB |"
        )
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pg", help="a PostgreSQL DSN whose user may create databases")
    parser.add_argument("--json", type=Path, help="write the figures there")
    parsed = parser.parse_args()
    result = asyncio.run(main(parsed))
    if parsed.json:
        parsed.json.write_text(json.dumps(result, indent=1))
    print("\n".join(render(result)))

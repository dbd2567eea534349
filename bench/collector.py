"""Benchmark `enphase collect`: CPU and memory per fleet size, SQLite size, history queries.

    .venv/bin/python bench/collector.py            full run (about 10 min on 2 cores)
    .venv/bin/python bench/collector.py --quick    smaller fleets and fewer rounds
    ... --write                                    also put the section into bench/RESULTS.md

Method, and why:

- **Fleet CPU and memory.** The simulated gateways run in a separate process
  (`simserver.py`, a `SimulatedFleet` on one frozen clock) so that the
  collector's CPU (`time.process_time`) and RSS count the collector only.
  The collector (with its SQLite history) reads all N gateways once per
  round; between rounds the shared clock moves on by the update interval
  (60 s, or 1 s for the 1 Hz runs) and the rounds run back to back. The
  CPU share at real cadence is CPU per round / interval: a 1,000-gateway
  round costing 6 CPU-seconds means 10 % of one core at 60 s updates.
  Live data comes from snapshots (`Envoy.live()` does not exist yet), so
  "1 Hz live" is an update every simulated second.
- **SQLite size.** One simulated day of a battery site read every 60 s by the
  real collector gives bytes per table per day (`dbstat`); 1 Hz live samples
  of a day are written through the real sink. A year is then a synthetic
  year of the same rows (same shape and rhythm), written with the store.
- **Query time.** `enphase history`'s queries over that year, median of 3.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from common import NOON, Sim, bench_frame, rss_mb  # noqa: E402

DAY = 86_400


async def fleet_run(
    n: int, interval: float, rounds: int, db: Path, connecting: int = 8
) -> dict[str, Any]:
    from enphase_local.service.collector import Collector, Target
    from enphase_local.service.history_sink import HistorySink

    with Sim("battery-backup", fleet=n) as sim:
        now = [NOON]

        def clock() -> float:
            return now[0]

        targets = [
            Target(g.serial, lambda s, g=g: g.ours(clock=clock, session=s)) for g in sim.gateways
        ]
        sink = HistorySink(db, clock=clock, flush_every_s=2.0)
        collector = Collector(
            targets, [sink], clock=clock, interval_s=interval, max_connecting=connecting
        )
        await collector.start_sinks()
        c0, w0 = time.process_time(), time.perf_counter()
        await collector.poll_once()  # connect and probe: not the steady state
        connect_cpu, connect_wall = time.process_time() - c0, time.perf_counter() - w0
        rss_before = rss_mb()
        cpu0, wall0, sim0 = time.process_time(), time.perf_counter(), sim.cpu_seconds()
        for _ in range(rounds):
            now[0] += interval
            sim.gateway.set_time(now[0])
            await collector.poll_once()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        sim_cpu = sim.cpu_seconds() - sim0
        await collector.close_envoys()
        await collector.stop_sinks()
        ok = sum(1 for s in collector.states.values() if s.state == "connected")
    per_round = cpu / rounds
    return {
        "gateways": n,
        "interval_s": interval,
        "rounds": rounds,
        "connected": ok,
        "max_connecting": connecting,
        "cpu_s_per_round": per_round,
        "wall_s_per_round": wall / rounds,
        "cpu_share_at_cadence": per_round / interval,
        "sim_cpu_s_per_round": sim_cpu / rounds,
        "rss_mb": rss_mb(),
        "rss_mb_after_connect": rss_before,
        "connect_cpu_s": connect_cpu,
        "connect_wall_s": connect_wall,
    }


def table_bytes(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        db.execute("VACUUM")
        rows = db.execute(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
        ).fetchall()
    return {name: int(size) for name, size in rows}


async def day_sizes(tmp: Path) -> dict[str, Any]:
    """One simulated day at 60 s updates through the real collector, in-process."""
    from enphase_local.service.collector import Collector, Target
    from enphase_local.service.history_sink import HistorySink
    from enphase_local.simulator import SimClock, SimulatedGateway, SiteBackend

    clock = SimClock(start=NOON, speed=0)
    backend = SiteBackend.from_preset("battery-backup", clock=clock, seed=1)
    db = tmp / "day.db"
    async with SimulatedGateway(backend, clock=clock) as gw:
        from enphase_local import Envoy

        target = Target(
            gw.serial,
            lambda s: Envoy(gw.https_host, token=gw.owner_token(), session=s, clock=clock),
        )
        sink = HistorySink(db, clock=clock, flush_every_s=3600, keep_live_s=7 * DAY)
        collector = Collector([target], [sink], clock=clock)
        await collector.start_sinks()
        for _ in range(1440):
            clock.advance(60)
            await collector.poll_once()
        await sink.flush()
        await sink.maintain(force=True)
        await collector.close_envoys()
        await collector.stop_sinks()
    at_60s = table_bytes(db)
    # a day of 1 Hz live frames (site + 2 phases), through the sink
    live_db = tmp / "live.db"
    sink = HistorySink(live_db, flush_every_s=3600)
    await sink.start(None)  # type: ignore[arg-type]
    for i in range(DAY):
        frame = bench_frame(NOON + i, i)
        await sink.on_live("BENCH", frame)
        if i % 20_000 == 0:
            await sink.flush()
    await sink.stop()
    live = table_bytes(live_db)
    return {"day_60s": at_60s, "day_1hz_live": live}


def synthetic_year(path: Path, inverters: int) -> dict[str, Any]:
    """A year of one battery site's rows, in the collector's rhythm, written by the store."""
    from enphase_local.service.sqlite_store import HistoryStore

    store = HistoryStore(path)
    store.open()
    start = NOON - 365 * DAY
    lifetime = {"production": 5e6, "consumption": 3e6, "net_consumption": 1e6}
    t0 = time.perf_counter()
    store.write({"gateways": [("BENCH", "h", "8.2", start, start + 365 * DAY)]})
    for day in range(365):
        batch: dict[str, list[tuple[Any, ...]]] = {
            "energy_counters": [],
            "power_minutes": [],
            "inverter_reports": [],
            "battery_samples": [],
        }
        for minute in range(1440):
            at = start + day * DAY + minute * 60
            sun = max(0.0, math.sin(math.pi * (minute - 360) / 720))
            solar, house = 6000 * sun, 700 + 300 * math.sin(minute / 90)
            lifetime["production"] += solar / 60
            lifetime["consumption"] += house / 60
            lifetime["net_consumption"] += (house - solar) / 60
            for flow, value in lifetime.items():
                for phase, share in (("", 1.0), ("L1", 0.5), ("L2", 0.5)):
                    batch["energy_counters"].append(
                        (
                            "BENCH",
                            flow,
                            phase,
                            at,
                            value * share,
                            value * share % 30_000,
                        )
                    )
            for phase in ("", "L1", "L2"):
                s, h = (solar, house) if phase == "" else (solar / 2, house / 2)
                stats = [s * 0.9, s, s * 1.1, h * 0.9, h, h * 1.1, h - s, h - s, h - s]
                batch["power_minutes"].append(
                    ("BENCH", phase, at, 1, *stats, 0.0, 0.0, 0.0, None, None, None)
                )
            if minute % 5 == 0:
                if solar > 0:
                    for inv in range(inverters):
                        batch["inverter_reports"].append(
                            ("BENCH", f"12210{inv:07d}", int(at), solar / inverters, 384.0, None)
                        )
                batch["battery_samples"].append(("BENCH", "", at, 50.0, 0.0, 5000.0, 10000.0, None))
        store.write(batch)
    written = time.perf_counter() - t0
    store.close()
    return {"write_s": written, "tables": table_bytes(path)}


def query_times(path: Path) -> dict[str, list[float]]:
    """[wall, CPU] seconds of each query, medians of 3 (CPU: this process, SQLite included)."""
    from enphase_local.service import history_query as hq

    end = NOON
    start = NOON - 365 * DAY
    out: dict[str, list[float]] = {}
    for name, fn, every in (
        ("energy 1d over a year", hq.energy, "1d"),
        ("energy 1mo over a year", hq.energy, "1mo"),
        ("energy 1h over a year", hq.energy, "1h"),
        ("power 1d over a year", hq.power, "1d"),
        ("inverters 1mo over a year", hq.inverters, "1mo"),
    ):
        walls, cpus = [], []
        for _ in range(3):
            db = sqlite3.connect(path)
            t0, c0 = time.perf_counter(), time.process_time()
            fn(db, start, end, every)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            db.close()
        out[name] = [statistics.median(walls), statistics.median(cpus)]
    return out


def render(results: dict[str, Any]) -> str:
    mb = 1024 * 1024
    lines = [
        "<!-- collector -->",
        "## `enphase collect`: collector cost, history size, query time",
        "",
        f"Run by `bench/collector.py`{' --quick' if results['quick'] else ''} on "
        f"{results['when']} (2 shared cores). Method in the script's docstring.",
        "",
        "| gateways | update every | collector CPU per round | CPU share at that cadence "
        "| wall per round | RSS | connected |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results["fleet"]:
        lines.append(
            f"| {r['gateways']} | {r['interval_s']:g} s | {r['cpu_s_per_round'] * 1000:.0f} ms "
            f"| {r['cpu_share_at_cadence'] * 100:.2f} % | {r['wall_s_per_round'] * 1000:.0f} ms "
            f"| {r['rss_mb']:.0f} MB | {r['connected']}/{r['gateways']} |"
        )
    day = results["sizes"]["day_60s"]
    live = results["sizes"]["day_1hz_live"]
    year = results["year"]["tables"]
    day_total = sum(day.values())
    live_total = live.get("power_samples", 0)
    year_total = sum(year.values())
    lines += [
        "",
        "SQLite size for one battery site (split phase, 2 phases + site total):",
        "",
        f"- one day at 60 s updates: {day_total / 1024:.0f} KiB "
        f"({', '.join(f'{k} {v / 1024:.0f} KiB' for k, v in day.items() if v > 8192)})",
        f"- one day of 1 Hz live samples: {live_total / mb:.1f} MiB "
        f"(kept 7 days by default: {7 * live_total / mb:.0f} MiB at most)",
        f"- one year at 60 s updates (synthetic, same rows and rhythm, "
        f"{results['year']['inverters']} microinverters): {year_total / mb:.0f} MiB "
        f"({', '.join(f'{k} {v / mb:.0f} MiB' for k, v in year.items() if v > mb)})",
        "",
        "`enphase history` query time over that year (median of 3; wall time, then CPU time,"
        " which the machine's other load does not inflate):",
        "",
    ]
    lines += [
        f"- {name}: {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU"
        for name, (wall, cpu) in results["queries"].items()
    ]
    lines.append("<!-- /collector -->")
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    path = BENCH / "RESULTS.md"
    current = path.read_text() if path.exists() else ""
    if "<!-- collector -->" in current:
        head, rest = current.split("<!-- collector -->", 1)
        _, _, tail = rest.partition("<!-- /collector -->")
        tail = tail.lstrip("\n")
        current = head + text + ("\n" + tail if tail else "")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    path.write_text(current)


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="enphase-bench-collector-"))
    plan = [(1, 60.0), (100, 60.0), (1000, 60.0), (1, 1.0), (100, 1.0)]
    if args.quick:
        plan = [(1, 60.0), (100, 60.0), (1, 1.0)]
    results: dict[str, Any] = {"quick": args.quick, "when": time.strftime("%Y-%m-%d"), "fleet": []}
    for n, interval in plan:
        rounds = 10 if n >= 1000 else 30 if interval >= 60 else 60
        if args.quick:
            rounds = max(5, rounds // 3)
        db = tmp / f"fleet-{n}-{interval:g}.db"
        # one process per fleet run: its RSS is that run's alone
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--one",
            f"{n},{interval},{rounds},{db}",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
        result = json.loads(out.decode().strip().splitlines()[-1])
        print(json.dumps(result), file=sys.stderr, flush=True)
        results["fleet"].append(result)
    results["sizes"] = await day_sizes(tmp)
    inverters = 30
    results["year"] = synthetic_year(tmp / "year.db", inverters)
    results["year"]["inverters"] = inverters
    results["queries"] = query_times(tmp / "year.db")
    text = render(results)
    print(text)
    (tmp / "results.json").write_text(json.dumps(results, indent=1, default=str))
    if args.write:
        write_section(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smaller fleets, fewer rounds")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # N,INTERVAL,ROUNDS,DB: one fleet run
    parser.add_argument(
        "--connecting", type=int, default=8, help="with --one: gateways connecting at once"
    )
    parser.add_argument(
        "--requery", metavar="DIR", help="re-time the queries of an earlier run's folder only"
    )
    parsed = parser.parse_args()
    if parsed.requery:
        folder = Path(parsed.requery)
        earlier = json.loads((folder / "results.json").read_text())
        earlier["queries"] = query_times(folder / "year.db")
        (folder / "results.json").write_text(json.dumps(earlier, indent=1, default=str))
        section = render(earlier)
        print(section)
        if parsed.write:
            write_section(section)
    elif parsed.one:
        n, interval, rounds, db = parsed.one.split(",", 3)
        one = asyncio.run(
            fleet_run(int(n), float(interval), int(rounds), Path(db), parsed.connecting)
        )
        print(json.dumps(one))
    else:
        asyncio.run(main(parsed))

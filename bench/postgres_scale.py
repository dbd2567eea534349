"""Many sites into one PostgreSQL: collectors x gateways at 60 s updates, checked by query.

    python bench/postgres_scale.py [--collectors 3] [--per-collector 300] [--ticks 10]
                                   [--accel 6] [--dsn postgresql://...] [--no-write]

One simulator process serves every gateway (battery-backup preset: 35
microinverters, 3 batteries, metered) on one shared simulated clock. Each
collector is its own process: it connects to its share of the gateways,
updates each once per simulated minute (spread over the minute, as a
collector does) and hands every snapshot to a `PostgresSink`. The schedule is
accelerated `--accel` times; the figures per simulated minute are
projected from it.

Measured: rows per second into the database, CPU and peak RSS per collector
process, end-to-end lag (snapshot handed to the sink -> its transaction
committed), and, by query afterwards, that every snapshot a collector handed
over is in ``power_samples`` exactly once (none missing, none duplicated,
none foreign). Without ``--dsn`` a throwaway cluster is started (initdb +
pg_ctl). Results go to bench/RESULTS.md ("PostgreSQL, many sites") unless
``--no-write``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import NOON, Sim, replace_section, rss_mb

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SECTION = "## PostgreSQL, many sites"


# -- one collector process ------------------------------------------------------------------


async def collector(spec: dict[str, Any]) -> list[tuple[str, float]]:
    import aiohttp

    from enphase_local.client import Envoy
    from enphase_local.service.postgres import PostgresSink

    entries, tick_real, ticks = spec["entries"], spec["tick_real"], spec["ticks"]
    now = [NOON]

    class TimedSink(PostgresSink):
        """Records when each snapshot came in and when its transaction committed."""

        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.waiting: list[float] = []
            self.lags: list[float] = []

        async def on_snapshot(self, serial: str, snapshot: Any) -> None:
            self.waiting.append(time.perf_counter())
            await super().on_snapshot(serial, snapshot)

        async def flush(self) -> int:
            batch, self.waiting = self.waiting, []
            try:
                sent = await super().flush()
            except BaseException:
                self.waiting = batch + self.waiting
                raise
            done = time.perf_counter()
            self.lags += [done - t for t in batch]
            return sent

    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=False, limit=0, keepalive_timeout=15.0 / spec["accel"])
    )
    envs = [Envoy(e["https_host"], token=e["token"], session=session, clock=lambda: now[0])
            for e in entries]  # fmt: skip
    gate = asyncio.Semaphore(50)

    async def connect(env: Envoy) -> None:
        async with gate:
            await env.connect()

    await asyncio.gather(*(connect(e) for e in envs))
    rss_connected = rss_mb()
    sink = TimedSink(dsn=spec["dsn"], collector=spec["name"], flush_interval_s=spec["flush_s"])
    await sink.start(_NoHub())
    print("connected", flush=True)
    t0 = float(await asyncio.to_thread(sys.stdin.readline))
    await asyncio.sleep(max(0.0, t0 - time.time()))
    handed: list[tuple[str, float]] = []
    errors = 0
    late = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for tick in range(ticks):
        now[0] = NOON + 60.0 * (tick + 1)
        tick_start = time.perf_counter()

        async def one(i: int, env: Envoy, start: float = tick_start) -> None:
            nonlocal errors
            await asyncio.sleep(max(0.0, start + i * tick_real / len(envs) - time.perf_counter()))
            try:
                snap = await env.update()
            except Exception:
                errors += 1
                return
            handed.append((snap.gateway.serial, snap.taken_at))
            if not spec["no_sink"]:
                await sink.on_snapshot(snap.gateway.serial, snap)

        await asyncio.gather(*(one(i, e) for i, e in enumerate(envs)))
        spent = time.perf_counter() - tick_start
        if spent > tick_real:
            late += 1
        else:
            await asyncio.sleep(tick_real - spent)
    rss_end = rss_mb()
    await sink.stop()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await asyncio.gather(*(e.close() for e in envs))
    await session.close()
    lags = sorted(sink.lags)
    print(json.dumps({
        "name": spec["name"], "gateways": len(envs), "updates": len(handed), "errors": errors,
        "late_ticks": late, "cpu_s": cpu, "wall_s": wall, "rows_written": sink.written,
        "rows_dropped": sink.dropped, "write_failures": sink.failures,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_connected_mb": rss_connected, "rss_end_mb": rss_end,
        "lag_p50_s": statistics.median(lags) if lags else None,
        "lag_p95_s": lags[int(0.95 * (len(lags) - 1))] if lags else None,
        "lag_max_s": lags[-1] if lags else None,
    }), flush=True)  # fmt: skip
    return handed


class _NoHub:
    def serials(self) -> tuple[str, ...]:
        return ()

    def envoy(self, serial: str) -> Any:
        raise KeyError(serial)


# -- the driver -----------------------------------------------------------------------------


def _database(dsn: str | None) -> tuple[str, Any]:
    """A fresh database for the run, on --dsn's server or a throwaway cluster."""
    sys.path.insert(0, str(ROOT))
    cluster = None
    if dsn is None:
        from tests.service_sinks.services import PgCluster, find_pg_bin

        bin_dir = find_pg_bin()
        if bin_dir is None:
            sys.exit("no PostgreSQL binaries: install postgresql or give --dsn")
        cluster = PgCluster(bin_dir)
        cluster.start()
        dsn = cluster.dsn

    async def create() -> str:
        import asyncpg

        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("DROP DATABASE IF EXISTS enphase_bench WITH (FORCE)")
            await conn.execute("CREATE DATABASE enphase_bench")
        finally:
            await conn.close()
        return dsn.rsplit("/", 1)[0] + "/enphase_bench"

    return asyncio.run(create()), cluster


async def _check(dsn: str, handed: list[tuple[str, float]]) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TEMP TABLE handed (serial text, at float8)")
        await conn.copy_records_to_table("handed", records=handed)
        q = {
            "missing": "SELECT count(*) FROM (SELECT serial, at FROM handed EXCEPT "
            "SELECT serial, extract(epoch FROM at)::float8 FROM power_samples WHERE phase = '') m",
            "foreign": "SELECT count(*) FROM (SELECT serial, extract(epoch FROM at)::float8 "
            "FROM power_samples WHERE phase = '' EXCEPT SELECT serial, at FROM handed) f",
            "duplicated": "SELECT count(*) FROM (SELECT serial, at, phase FROM power_samples "
            "GROUP BY 1, 2, 3 HAVING count(*) > 1) d",
            "handed_twice": "SELECT count(*) FROM (SELECT serial, at FROM handed "
            "GROUP BY 1, 2 HAVING count(*) > 1) d",
            "gateways": "SELECT count(*) FROM gateways",
            "collectors": "SELECT count(DISTINCT collector) FROM gateways",
        }
        out = {k: await conn.fetchval(v) for k, v in q.items()}
        for table in ("power_samples", "energy_counters", "inverter_reports", "battery_samples"):
            out[f"rows_{table}"] = await conn.fetchval(f"SELECT count(*) FROM {table}")
        out["db_size_mb"] = await conn.fetchval("SELECT pg_database_size(current_database())")
        out["db_size_mb"] /= 1024 * 1024
    finally:
        await conn.close()
    return out


def _pg_cpu_s(cluster: Any) -> float | None:
    """CPU of our throwaway cluster: the postmaster, its reaped children, its live ones."""
    if cluster is None:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    master = (cluster.data / "postmaster.pid").read_text().split()[0]

    def fields(pid: str) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    own = fields(master)
    total = sum(int(own[i]) for i in (11, 12, 13, 14)) / tick
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            f = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if f[1] == master:
            total += (int(f[11]) + int(f[12])) / tick
    return total


def drive(args: argparse.Namespace) -> dict[str, Any]:
    dsn, cluster = _database(args.dsn)
    n = args.collectors * args.per_collector
    tick_real = 60.0 / args.accel
    tmp = Path(tempfile.mkdtemp(prefix="enphase-pgscale-"))
    try:
        with Sim("battery-backup", fleet=n) as sim:
            lead = sim.gateways[0]
            lead.set_time(NOON)
            procs = []
            for c in range(args.collectors):
                share = sim.gateways[c * args.per_collector : (c + 1) * args.per_collector]
                spec = {
                    "name": f"collector-{c + 1}", "dsn": dsn, "tick_real": tick_real,
                    "ticks": args.ticks, "accel": args.accel, "flush_s": args.flush_s,
                    "no_sink": args.no_sink,
                    "entries": [{"https_host": g.entry["https_host"], "token": g.token()}
                                for g in share],
                }  # fmt: skip
                (tmp / f"spec{c}.json").write_text(json.dumps(spec))
                procs.append(subprocess.Popen(
                    [sys.executable, __file__, "collector", "--spec", str(tmp / f"spec{c}.json"),
                     "--out", str(tmp / f"handed{c}.json")],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                    env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{BENCH}"},
                ))  # fmt: skip
            for p in procs:
                assert p.stdout is not None
                line = p.stdout.readline().strip()
                if line != "connected":
                    raise RuntimeError(f"a collector did not connect: {line!r}")
            sim_cpu0, pg_cpu0 = sim.cpu_seconds(), _pg_cpu_s(cluster)
            t0 = time.time() + 1.0
            for p in procs:
                assert p.stdin is not None
                p.stdin.write(f"{t0}\n")
                p.stdin.flush()
            for tick in range(args.ticks):  # the shared simulated clock, just ahead of each tick
                time.sleep(max(0.0, t0 + tick * tick_real - 0.3 - time.time()))
                lead.set_time(NOON + 60.0 * (tick + 1))
            results = []
            for p in procs:
                out, _ = p.communicate(timeout=600)
                results.append(json.loads(out.strip().splitlines()[-1]))
            wall = time.time() - t0
            sim_cpu = sim.cpu_seconds() - sim_cpu0
            pg_cpu1 = _pg_cpu_s(cluster)
        handed = [tuple(x) for c in range(args.collectors)
                  for x in json.loads((tmp / f"handed{c}.json").read_text())]  # fmt: skip
        checks = asyncio.run(_check(dsn, handed))  # type: ignore[arg-type]
    finally:
        if cluster is not None:
            cluster.close()
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    rows = sum(r["rows_written"] for r in results)
    return {
        "collectors": results, "checks": checks, "wall_s": wall, "rows_written": rows,
        "rows_per_s": rows / wall, "simulated_s": args.ticks * 60.0, "accel": args.accel,
        "gateways": n, "sim_cpu_pct": 100 * sim_cpu / wall,
        "pg_cpu_pct": None if pg_cpu0 is None or pg_cpu1 is None
        else 100 * (pg_cpu1 - pg_cpu0) / wall,
    }  # fmt: skip


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def report(r: dict[str, Any]) -> str:
    c, sim_s = r["checks"], r["simulated_s"]
    lines = [
        SECTION,
        "",
        f"`python bench/postgres_scale.py`: {len(r['collectors'])} collector processes x "
        f"{r['collectors'][0]['gateways']} simulated gateways (battery-backup: 35 inverters, "
        f"3 batteries) into one PostgreSQL, 60 s updates for {sim_s / 60:.0f} simulated minutes, "
        f"run {r['accel']}x accelerated ({r['wall_s']:.0f} s of wall time) on this 2-core machine "
        "shared with the simulator and the database.",
        "",
        "| collector | updates | errors | late ticks | CPU s | CPU % of a core at 60 s updates "
        "| RSS MB connected / end / peak | lag p50 / p95 / max s | rows |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for x in r["collectors"]:
        lines.append(
            f"| {x['name']} | {x['updates']} | {x['errors']} | {x['late_ticks']} | "
            f"{x['cpu_s']:.1f} | {100 * x['cpu_s'] / sim_s:.1f} | "
            f"{x['rss_connected_mb']:.0f} / {x['rss_end_mb']:.0f} / {x['peak_rss_mb']:.0f} | "
            f"{_s(x['lag_p50_s'])} / {_s(x['lag_p95_s'])} / {_s(x['lag_max_s'])} | "
            f"{x['rows_written']} |"
        )
    pg = "n/a" if r["pg_cpu_pct"] is None else f"{r['pg_cpu_pct']:.0f} %"
    lines += [
        "",
        f"- Rows into the database: {r['rows_written']} in {r['wall_s']:.0f} s, "
        f"**{r['rows_per_s']:.0f} rows/s** accelerated ({r['rows_per_s'] / r['accel']:.0f} rows/s "
        "at the real 60 s rhythm). Tables: "
        f"power_samples {c['rows_power_samples']}, energy_counters {c['rows_energy_counters']}, "
        f"inverter_reports {c['rows_inverter_reports']}, battery_samples "
        f"{c['rows_battery_samples']}; database {c['db_size_mb']:.0f} MB.",
        f"- Checked by query: {c['gateways']} gateways owned by {c['collectors']} collectors; "
        f"of the snapshots handed to the sinks, **{c['missing']} missing**, "
        f"**{c['duplicated']} duplicated**, {c['foreign']} rows not handed by any collector.",
        f"- CPU while accelerated: simulator {r['sim_cpu_pct']:.0f} % of a core, "
        f"PostgreSQL {pg}. Lag = snapshot handed to the sink -> its transaction committed "
        "(the sink flushes every "
        f"{r.get('flush_s', 2.0)} s, one transaction for all its rows).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd")
    child = sub.add_parser("collector")
    child.add_argument("--spec", required=True)
    child.add_argument("--out", required=True)
    parser.add_argument("--collectors", type=int, default=3)
    parser.add_argument("--per-collector", type=int, default=300)
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--accel", type=float, default=6.0)
    parser.add_argument("--flush-s", type=float, default=2.0)
    parser.add_argument("--dsn")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--no-sink", action="store_true", help="control run: read, hand nothing to the sink"
    )
    args = parser.parse_args()
    if args.cmd == "collector":
        handed = asyncio.run(collector(json.loads(Path(args.spec).read_text())))
        Path(args.out).write_text(json.dumps(handed))
        return
    result = drive(args)
    result["flush_s"] = args.flush_s
    text = report(result)
    print(text)
    print(json.dumps(result, default=str))
    if not args.no_write:
        replace_section(SECTION, text)


if __name__ == "__main__":
    main()

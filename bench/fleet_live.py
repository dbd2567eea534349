"""N gateways live at 1 Hz from one process (issue 31 item 5), the simulators in other processes.

    .venv/bin/python bench/fleet_live.py --n 1000 [--runs 3] [--warmup 10] [--seconds 60]
        [--procs 4] [--profile out.prof]

Each `Envoy` (battery-backup sites: livedata) runs ``live(interval=1)`` on
one shared `gateway_session()`; the listeners start spread over one interval,
as a fleet started over time would be. After `--warmup` seconds (connects
and the first polls settle) every frame is counted for `--seconds` of real
time: frames per gateway per second (the fewest of any gateway is the
figure: "every gateway at least 0.98"), stale frames, client CPU share of
one core, RSS, and each simulator process's CPU. The simulated fleet is
spread over several processes (`fleet_sim.SimFleet`) whose clocks run in
real time (`--speed 1`, from a simulated noon), so livedata changes every
second as on a real site.

pyenphase has no live reader (no equivalent of ``live()``), so there is no
ratio for this figure. Prints one JSON document per run, then a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import rss_mb
from bench.fleet_scale import load_average
from bench.fleet_sim import SimFleet, connect_all
from enphase_local import gateway_session
from enphase_local.client import Envoy


class _Bare:
    stale = False


async def bare_frames(
    session: aiohttp.ClientSession, entry: dict[str, Any], interval: float
) -> AsyncIterator[_Bare]:
    """The floor: a plain aiohttp GET of livedata and `orjson.loads`, on the same grid of ticks.

    No library: no authentication object, stats, budget, parsing into models
    or balance; the same shared session and kept TLS connection. What this
    costs per frame is what any aiohttp-based reader pays at least.
    """
    url = f"https://{entry['https_host']}/ivp/livedata/status"
    headers = {"Authorization": f"Bearer {entry['token']}"}
    frame = _Bare()
    due = time.monotonic()
    while True:
        async with session.get(url, headers=headers) as response:
            orjson.loads(await response.read())
        yield frame
        due += interval
        await asyncio.sleep(max(due - time.monotonic(), interval / 4))


async def run_once(args: argparse.Namespace) -> dict[str, Any]:
    n = args.n
    with SimFleet(n, procs=args.procs, speed=args.speed) as sim:
        rss0 = rss_mb()
        session = gateway_session()
        envs = [
            Envoy(e["https_host"], token=e["token"], session=session, clock=time.time)
            for e in sim.entries
        ]
        connect_s = await connect_all(envs, 8)
        counts = [0] * n
        stale = [0] * n
        measuring = False
        errors: list[str] = []

        async def listen(i: int, env: Envoy) -> None:
            await asyncio.sleep(i * args.interval / n)  # spread the fleet over one interval
            try:
                if args.bare:
                    frames = bare_frames(session, sim.entries[i], args.interval)
                else:
                    frames = env.live(interval=args.interval)
                async with contextlib.aclosing(frames) as live:
                    async for frame in live:
                        if measuring:
                            counts[i] += 1
                            stale[i] += frame.stale
            except Exception as err:  # a bench reports, never dies
                errors.append(f"{type(err).__name__}: {err}")

        tasks = [asyncio.create_task(listen(i, e)) for i, e in enumerate(envs)]
        await asyncio.sleep(args.warmup)
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        sim_cpu0 = sim.cpu_seconds()
        measuring = True
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        await asyncio.sleep(args.seconds)
        measuring = False
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        sim_cpu = [b - a for a, b in zip(sim_cpu0, sim.cpu_seconds(), strict=True)]
        rss = rss_mb()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(e.close() for e in envs))
        await session.close()
    per_s = sorted(c / wall for c in counts)
    return {
        "gateways": n,
        "sim_procs": sim.procs,
        "connect_s": round(connect_s, 1),
        "seconds": round(wall, 2),
        "frames": sum(counts),
        "frames_per_gw_per_s_median": round(statistics.median(per_s), 4),
        "frames_per_gw_per_s_min": round(per_s[0], 4),
        "fewest_frames": min(counts),
        "gateways_under_0_98": sum(1 for f in per_s if f < 0.98),
        "stale_frames": sum(stale),
        "client_cpu_pct": round(100 * cpu / wall, 1),
        "cpu_ms_per_frame": round(1000 * cpu / max(sum(counts), 1), 3),
        "sim_cpu_pct": [round(100 * c / wall, 1) for c in sim_cpu],
        "rss_mb": round(rss, 1),
        "rss_per_gw_kb": round(1024 * (rss - rss0) / n),
        "errors": len(errors),
        "error_sample": errors[:3],
        "load": load_average(),
    }


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def mmm(key: str) -> list[float]:
        values = sorted(float(r[key]) for r in runs)
        return [values[0], statistics.median(values), values[-1]]

    keys = ("frames_per_gw_per_s_min", "frames_per_gw_per_s_median", "client_cpu_pct")
    keys += ("cpu_ms_per_frame", "rss_mb", "connect_s")
    return {"runs": len(runs), **{k: mmm(k) for k in keys}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--speed", type=float, default=1.0, help="simulator clock speed")
    parser.add_argument("--procs", type=int, default=None, help="simulator processes")
    parser.add_argument("--profile", help="cProfile the measured window into this file")
    parser.add_argument("--bare", action="store_true", help="plain aiohttp polls: the floor")
    parser.add_argument("--fresh", action="store_true", help="each run in a new process")
    args = parser.parse_args()
    runs = []
    for _ in range(args.runs):
        if args.fresh:
            argv = [a for a in sys.argv[1:] if a != "--fresh"]
            argv = [*argv, "--runs", "1"]
            out = subprocess.run(
                [sys.executable, __file__, *argv], capture_output=True, text=True, check=True
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[0]))
        else:
            runs.append(asyncio.run(run_once(args)))
        print(json.dumps(runs[-1]), flush=True)
    print(json.dumps({"summary": summary(runs)}), flush=True)


if __name__ == "__main__":
    main()

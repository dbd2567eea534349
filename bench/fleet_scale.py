"""10,000 gateways in one process at one update a minute, on time (issue 31 item 7).

    .venv/bin/python bench/fleet_scale.py --n 10000 [--minutes 3] [--warmup 1] [--procs 4]
        [--profile out.prof] [--client ours|pyenphase]

Real time, no acceleration: what is measured is what a collector of N
gateways at a 60 s interval would spend. The simulated fleet is spread over
several simulator processes (`fleet_sim.SimFleet`, one per 2,500 gateways)
whose clocks run in real time from a simulated noon; our clients get the
same clock (`clock=`).

One scheduler for the whole fleet (`Wheel`), not a timer per gateway:
gateway ``i`` is due at ``start + i * 60 / n + k * 60``; the wheel sleeps to
the next due time and starts every update that is due. Each update's
lateness is measured against its own due time, when it starts (the
scheduler's lag) and when its snapshot is back (what a consumer sees): p50,
p99 and the worst, over every update of the measured minutes; an update
still running at its gateway's next due time is counted as an overrun, not
started twice. Client CPU share of one core and RSS (peak and at the end)
over the measured minutes, after `--warmup` minutes past connecting.

pyenphase at this size: `--client pyenphase` runs the same wheel with
pyenphase's `update()`; see bench/RESULTS.md for whether it could.
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import heapq
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import rss_mb
from bench.fleet_sim import SimFleet, connect_all

NOON = 1_781_546_400.0
INTERVAL_S = 60.0


def load_average() -> list[str]:
    """The machine's 1, 5 and 15 minute load (it is shared with other work), as `uptime`."""
    return Path("/proc/loadavg").read_text().split()[:3]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Wheel:
    """Every gateway's update on one timer: a heap of (due, index), one sleep to the next due.

    Why one: 10,000 sleeping tasks (a timer each) cost the event loop a heap
    of 10,000 handles and a task switch per gateway per minute whether or not
    anything is due; here one task wakes when the next update is due and
    starts all that are.
    """

    def __init__(
        self, updates: list[Callable[[], Awaitable[Any]]], interval: float, start: float
    ) -> None:
        n = len(updates)
        self.updates = updates
        self.interval = interval
        self.heap = [(start + i * interval / n, i) for i in range(n)]
        heapq.heapify(self.heap)
        self.running: list[asyncio.Task[Any] | None] = [None] * n
        self.start_late: list[float] = []
        self.done_late: list[float] = []
        self.overruns = 0
        self.errors = 0
        self.error_sample: list[str] = []
        self.recording = False

    async def _one(self, i: int, due: float) -> None:
        started = time.monotonic()
        try:
            await self.updates[i]()
        except Exception as err:  # a bench reports, never dies
            self.errors += 1
            if len(self.error_sample) < 3:
                self.error_sample.append(f"{type(err).__name__}: {err}"[:200])
            return
        if self.recording:
            self.start_late.append(started - due)
            self.done_late.append(time.monotonic() - due)

    async def run(self, until: float) -> None:
        heap = self.heap
        while heap and heap[0][0] < until:
            due, i = heap[0]
            now = time.monotonic()
            if due > now:
                await asyncio.sleep(due - now)
                continue
            heapq.heapreplace(heap, (due + self.interval, i))
            task = self.running[i]
            if task is not None and not task.done():
                self.overruns += self.recording
                continue
            self.running[i] = asyncio.create_task(self._one(i, due))

    async def drain(self) -> None:
        await asyncio.gather(*(t for t in self.running if t is not None), return_exceptions=True)


async def _clients(args: argparse.Namespace, sim: SimFleet, clock: Callable[[], float]) -> Any:
    if args.client == "pyenphase":
        from pyenphase import Envoy as PyEnvoy

        envs = [PyEnvoy(e["https_host"]) for e in sim.entries]
        gate = asyncio.Semaphore(8)

        async def setup(env: Any, token: str) -> None:
            async with gate:
                await env.setup()
                await env.authenticate(token=token)
                await env.update()

        t0 = time.perf_counter()
        pairs = zip(envs, sim.entries, strict=True)
        await asyncio.gather(*(setup(v, e["token"]) for v, e in pairs))
        return envs, None, time.perf_counter() - t0
    from enphase_local import gateway_session
    from enphase_local.client import Envoy

    session = gateway_session()
    envs = [
        Envoy(e["https_host"], token=e["token"], session=session, clock=clock) for e in sim.entries
    ]
    return envs, session, await connect_all(envs, args.connect_at_once)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    n = args.n
    rss0 = rss_mb()
    with SimFleet(n, procs=args.procs, speed=1.0) as sim:
        t_sim = time.time()  # the simulators' clocks started at NOON about now
        clock: Callable[[], float] = lambda: NOON + (time.time() - t_sim)  # noqa: E731
        envs, session, connect_s = await _clients(args, sim, clock)
        rss_connected = rss_mb()
        wheel = Wheel([e.update for e in envs], INTERVAL_S, time.monotonic())
        measure_from = time.monotonic() + args.warmup * INTERVAL_S
        await wheel.run(measure_from)
        gc.collect()
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        wheel.recording = True
        sim_cpu0 = sim.cpu_seconds()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        peak = rss_mb()
        if profiler:
            profiler.enable()
        end = measure_from + args.minutes * INTERVAL_S
        sampler = asyncio.create_task(wheel.run(end))
        while not sampler.done():
            await asyncio.wait([sampler], timeout=5.0)
            peak = max(peak, rss_mb())
        await wheel.drain()  # the last updates started finish inside the window
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        sim_cpu = [b - a for a, b in zip(sim_cpu0, sim.cpu_seconds(), strict=True)]
        rss_end = rss_mb()
        await asyncio.gather(*(e.close() for e in envs), return_exceptions=True)
        if session is not None:
            await session.close()
    done = wheel.done_late
    return {
        "client": args.client, "gateways": n, "sim_procs": sim.procs,
        "minutes": args.minutes, "updates": len(done), "expected": n * args.minutes,
        "errors": wheel.errors, "error_sample": wheel.error_sample, "overruns": wheel.overruns,
        "connect_s": round(connect_s, 1), "wall_s": round(wall, 1),
        "client_cpu_pct": round(100 * cpu / wall, 1),
        "cpu_ms_per_update": round(1000 * cpu / max(len(done), 1), 2),
        "sim_cpu_pct": [round(100 * c / wall, 1) for c in sim_cpu],
        "start_late_ms_p50": round(1000 * percentile(wheel.start_late, 0.5), 1),
        "start_late_ms_p99": round(1000 * percentile(wheel.start_late, 0.99), 1),
        "done_late_ms_p50": round(1000 * percentile(done, 0.5), 1),
        "done_late_ms_p99": round(1000 * percentile(done, 0.99), 1),
        "done_late_ms_max": round(1000 * max(done, default=float("nan")), 1),
        "rss_base_mb": round(rss0, 1), "rss_connected_mb": round(rss_connected, 1),
        "rss_peak_mb": round(peak, 1), "rss_end_mb": round(rss_end, 1),
        "rss_per_gw_kb": round(1024 * (rss_end - rss0) / n),
        "load": load_average(),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--minutes", type=float, default=3.0, help="measured minutes")
    parser.add_argument("--warmup", type=float, default=1.0, help="minutes before measuring")
    parser.add_argument("--procs", type=int, default=None, help="simulator processes")
    parser.add_argument("--connect-at-once", type=int, default=8)
    parser.add_argument("--client", choices=["ours", "pyenphase"], default="ours")
    parser.add_argument("--profile", help="cProfile the measured minutes into this file")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()

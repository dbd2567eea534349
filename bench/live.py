"""Live power at 1 Hz: request budget, CPU per frame, and 100 gateways live from one process.

    .venv/bin/python bench/live.py [--quick]

(1) Requests per simulated hour, one gateway, `Envoy.live(interval=1)` plus
    `update()` every 60 s, on the simulator's clock (in-process simulator: only
    the request log matters here, so the injected sleep advances the clock and
    an hour takes seconds). Per preset, so each live source shows.
(2) Client CPU per frame, real time, simulator in its own process (no latency):
    `time.process_time()` of this process over N frames.
(2b) CPU of turning one ``/stream/meter`` event into a balanced frame (parse +
    balance), the work the stream reader does per event.
(3) N gateways live at once from one process (simulator process with
    ``--fleet N``): each `Envoy` runs `live(interval=1)` for a real minute;
    client CPU share of one core, RSS, frames received, and simulator CPU.

Prints a markdown section for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Sim, rss_mb
from enphase_local.client import Envoy
from enphase_local.engine.balance import Known, from_meter_frame
from enphase_local.live.sse import EventSplitter, parse_meter_event
from tests.simkit import envoy_for, gateway

UPDATE_EVERY_S = 60.0


async def requests_per_hour(preset: str, hours: float = 1.0) -> dict[str, Any]:
    """Live at 1 Hz plus an update every minute, for `hours` simulated hours."""
    async with gateway(preset) as (gw, clock):

        async def sleep(seconds: float) -> None:
            clock.advance(seconds)
            await asyncio.sleep(0)

        async with envoy_for(gw, clock, sleep=sleep) as envoy:
            await envoy.update()
            gw.log.reset()
            start = clock.now()
            next_update = start + UPDATE_EVERY_S
            frames = stale = 0
            sources: Counter[str] = Counter()
            update_counts: Counter[str] = Counter()
            async with contextlib.aclosing(envoy.live(interval=1.0)) as live:
                async for frame in live:
                    frames += 1
                    stale += frame.stale
                    sources[frame.source] += 1
                    if clock.now() >= next_update:
                        before = Counter(gw.log.counts)
                        await envoy.update()
                        update_counts.update(Counter(gw.log.counts) - before)
                        next_update += UPDATE_EVERY_S
                    if clock.now() - start >= hours * 3600:
                        break
            counts = Counter(gw.log.counts)
    total = sum(counts.values())
    by_update = sum(update_counts.values())
    return {
        "preset": preset,
        "source": sources.most_common(1)[0][0],
        "frames": frames,
        "stale": stale,
        "total_per_h": total / hours,
        "update_per_h": by_update / hours,
        "live_per_h": (total - by_update) / hours,
        "per_s": total / (hours * 3600),
        "max_in_flight": gw.log.max_in_flight,
        "top": counts.most_common(4),
    }


async def cpu_per_frame(preset: str, frames: int) -> dict[str, Any]:
    with Sim(preset=preset) as sim:
        g = sim.gateway
        envoy = g.ours(clock=time.time)
        async with envoy:
            await envoy.update()
            opts: dict[str, Any] = {"interval": 0.005, "stale_after": 1e9}
            count = 0
            source = ""
            async with contextlib.aclosing(envoy.live(**opts)) as live:
                cpu0, wall0 = time.process_time(), time.perf_counter()
                async for frame in live:
                    count += 1
                    source = frame.source
                    if count == frames:
                        break
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "preset": preset,
        "source": source,
        "frames": count,
        "cpu_ms_per_frame": 1000 * cpu / count,
        "wall_ms_per_frame": 1000 * wall / count,
    }


def stream_event_cpu(events: int = 20000) -> float:
    """Microseconds of CPU to split, parse and balance one /stream/meter event."""
    phase = {"p": 1234.5, "q": 10.0, "s": 1240.0, "v": 240.1, "i": 5.1, "pf": 0.99, "f": 50.0}
    doc = {
        k: {ph: dict(phase) for ph in ("ph-a", "ph-b", "ph-c")}
        for k in ("production", "net-consumption", "total-consumption")
    }
    line = b"data: " + orjson.dumps(doc) + b"\n"
    splitter = EventSplitter()
    battery = Known(-500.0, 0.0)
    start = time.process_time()
    for i in range(events):
        splitter.feed(line)
        event = splitter.feed(b"\n")
        assert event is not None
        from_meter_frame(parse_meter_event(event), float(i), battery=battery)
    return 1e6 * (time.process_time() - start) / events


def _sim_cpu(sim: Sim) -> float:
    return sim.cpu_seconds()


async def fleet_live(n: int, seconds: float) -> dict[str, Any]:
    with Sim(preset="battery-backup", fleet=n) as sim:
        rss0 = rss_mb()
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
            envoys = [g.ours(clock=time.time, session=session) for g in sim.gateways]
            sem = asyncio.Semaphore(50)

            async def connect(env: Envoy) -> None:
                async with sem:
                    await env.connect()

            t0 = time.perf_counter()
            await asyncio.gather(*(connect(e) for e in envoys))
            connect_s = time.perf_counter() - t0
            counts = [0] * n
            stale = [0] * n
            errors: list[str] = []

            async def listen(i: int, env: Envoy) -> None:
                try:
                    async with contextlib.aclosing(env.live(interval=1.0)) as live:
                        async for frame in live:
                            counts[i] += 1
                            stale[i] += frame.stale
                except Exception as err:  # a bench reports, never dies
                    errors.append(f"{type(err).__name__}: {err}")

            sim_cpu0 = _sim_cpu(sim)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            tasks = [asyncio.create_task(listen(i, e)) for i, e in enumerate(envoys)]
            await asyncio.sleep(seconds)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            sim_cpu = _sim_cpu(sim) - sim_cpu0
            rss = rss_mb()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for env in envoys:
                await env.close()
    frames = sum(counts)
    return {
        "gateways": n,
        "connect_s": connect_s,
        "seconds": wall,
        "frames": frames,
        "frames_per_gw_per_s": frames / n / wall,
        "min_frames": min(counts),
        "client_cpu_pct": 100 * cpu / wall,
        "cpu_ms_per_frame": 1000 * cpu / max(frames, 1),
        "sim_cpu_pct": 100 * sim_cpu / wall,
        "rss_mb": rss,
        "rss_per_gw_kb": 1024 * (rss - rss0) / n,
        "errors": errors[:3],
        "error_count": len(errors),
    }


def _table(rows: list[dict[str, Any]], cols: list[tuple[str, str, str]]) -> str:
    head = "| " + " | ".join(c[1] for c in cols) + " |"
    sep = "|" + "---|" * len(cols)
    body = [
        "| " + " | ".join(format(r[c[0]], c[2]) if c[2] else str(r[c[0]]) for c in cols) + " |"
        for r in rows
    ]
    return "\n".join([head, sep, *body])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    args = parser.parse_args()
    hours = 0.05 if args.quick else 1.0
    frames = 50 if args.quick else 1000
    # CPU and memory first: (7a) runs simulators in this process, whose state would
    # weigh on this process's memory and garbage collector afterwards
    cpu = [await cpu_per_frame(p, frames) for p in ("battery-backup", "metered-split")]
    event_us = stream_event_cpu(2000 if args.quick else 20000)
    fleets = [await fleet_live(n, 5 if args.quick else 60) for n in (10, 100)]
    per_hour = [
        await requests_per_hour(p, hours) for p in ("battery-backup", "acb", "metered-split")
    ]
    rss_after = rss_mb()
    print("## (7) Live power at 1 Hz (`Envoy.live`)\n")
    print(
        f"Made with `bench/live.py`{' --quick' if args.quick else ''}. (7a) one gateway, "
        f"`live(interval=1)` plus `update()` every {UPDATE_EVERY_S:.0f} s for "
        f"{hours:g} simulated hour(s), requests from the simulator's log.\n"
    )
    print(
        _table(
            per_hour,
            [
                ("preset", "preset", ""),
                ("source", "live source", ""),
                ("live_per_h", "live requests/h", ".0f"),
                ("update_per_h", "update() requests/h", ".0f"),
                ("total_per_h", "total/h", ".0f"),
                ("per_s", "requests/s", ".2f"),
                ("max_in_flight", "max in flight", ""),
            ],
        )
    )
    print(
        "\n(7b) client CPU per frame, real time, simulator in its own process, no latency, "
        f"{frames} frames as fast as the gateway answers.\n"
    )
    print(
        _table(
            cpu,
            [
                ("preset", "preset", ""),
                ("source", "source", ""),
                ("cpu_ms_per_frame", "CPU ms/frame", ".2f"),
                ("wall_ms_per_frame", "wall ms/frame", ".2f"),
            ],
        )
    )
    print(f"\n/stream/meter: split + parse + balance one event: {event_us:.1f} µs CPU.\n")
    print(
        "(7c) N gateways live at once from one process (battery-backup sites, livedata, "
        f"interval 1 s, {fleets[0]['seconds']:.0f} s real time; one shared aiohttp session).\n"
    )
    print(
        _table(
            fleets,
            [
                ("gateways", "gateways", ""),
                ("connect_s", "connect all (s)", ".1f"),
                ("frames_per_gw_per_s", "frames/gateway/s", ".2f"),
                ("min_frames", "fewest frames", ""),
                ("client_cpu_pct", "client CPU % of a core", ".1f"),
                ("cpu_ms_per_frame", "CPU ms/frame", ".2f"),
                ("sim_cpu_pct", "simulator CPU %", ".1f"),
                ("rss_mb", "RSS (MB)", ".1f"),
                ("rss_per_gw_kb", "RSS/gateway (KB)", ".0f"),
                ("error_count", "errors", ""),
            ],
        )
    )
    print(f"\nRSS of this process after (7a), whose simulators ran in-process: {rss_after:.0f} MB.")
    for f in fleets:
        if f["errors"]:
            print(f"\nerrors with {f['gateways']}: {f['errors']}")


if __name__ == "__main__":
    asyncio.run(main())

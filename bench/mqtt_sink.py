"""The MQTT sink's CPU per snapshot and per live frame, with no broker (issue 31).

Run by hand from the checkout: ``.venv/bin/python bench/mqtt_sink.py [--profile]``.
With ``PYTHONPATH=<other checkout>/src`` it measures another checkout (before/after).

Why no broker: publishes are then dropped (counted), so what is measured is
the sink's own work (placing, evaluating, building and comparing documents and
discovery configs, serialising), not the network or Mosquitto. The snapshots
are the simulator's (``battery-backup`` by default), read over loopback, the
simulated clock stepped 60 s between them so values change as on a real site.
Prints one JSON line: microseconds per snapshot and per frame, min/median/max
of `--runs` runs, and the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import json
import os
import pstats
import statistics
import time
from typing import Any

from enphase_local.client import Envoy
from enphase_local.firmware import Firmware
from enphase_local.models.live_frame import LiveFrame
from enphase_local.service.mqtt import MqttSink
from enphase_local.simulator import SimClock, SimulatedGateway, SiteBackend

NOON = 1_781_546_400.0  # 2026-06-15 18:00 UTC, daylight at the presets' sites


async def read_snapshots(preset: str, count: int) -> list[Any]:
    """`count` snapshots of one simulated gateway, a simulated minute apart."""
    clock = SimClock(start=NOON, speed=0)
    backend = SiteBackend.from_preset(preset, clock=clock, seed=1)
    out = []
    async with SimulatedGateway(backend, clock=clock) as gw:
        if Firmware.parse(gw.firmware).uses_tokens:
            envoy = Envoy(gw.https_host, clock=clock, token=gw.owner_token())
        else:
            envoy = Envoy(gw.http_host, clock=clock)
        async with envoy:
            for i in range(count):
                out.append(await envoy.update(full=i == 0))
                clock.advance(60.0)
    return out


def frames(snapshot: Any, count: int) -> list[LiveFrame]:
    flow = snapshot.power_flow
    return [
        dataclasses.replace(flow, taken_at=snapshot.taken_at + i, solar_watts=4000.0 + i)
        for i in range(count)
    ]


async def _per_snapshot(snaps: list[Any], rounds: int) -> float:
    sink = MqttSink(state_interval_s=0)
    serial = snaps[0].gateway.serial
    await sink.on_snapshot(serial, snaps[0])  # the first one builds everything: not counted
    started = time.process_time()
    for _ in range(rounds):
        for snap in snaps:
            await sink.on_snapshot(serial, snap)
    return (time.process_time() - started) / (rounds * len(snaps))


async def _per_frame(snaps: list[Any], count: int) -> float:
    sink = MqttSink(state_interval_s=0)
    serial = snaps[0].gateway.serial
    await sink.on_snapshot(serial, snaps[0])
    live = frames(snaps[0], count)
    started = time.process_time()
    for frame in live:
        await sink.on_live(serial, frame)
    return (time.process_time() - started) / count


def _spread(values: list[float]) -> dict[str, float]:
    us = [v * 1e6 for v in values]
    return {
        "min": round(min(us), 1),
        "median": round(statistics.median(us), 1),
        "max": round(max(us), 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="battery-backup")
    parser.add_argument("--snapshots", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile one run, top 25")
    args = parser.parse_args()
    snaps = await read_snapshots(args.preset, args.snapshots)
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        await _per_snapshot(snaps, args.rounds)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        return
    load_before = os.getloadavg()
    snap_runs = [await _per_snapshot(snaps, args.rounds) for _ in range(args.runs)]
    frame_runs = [await _per_frame(snaps, args.frames) for _ in range(args.runs)]
    print(
        json.dumps(
            {
                "preset": args.preset,
                "per_snapshot_us": _spread(snap_runs),
                "per_frame_us": _spread(frame_runs),
                "load": [round(x, 2) for x in load_before]
                + ["->"]
                + [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())

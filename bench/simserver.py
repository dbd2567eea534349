"""The bench's simulator process: N simulated gateways, served until SIGTERM.

Why a separate process: client CPU (time.process_time) and RSS must count the
client only. Why this script rather than `enphase simulate`: it is the same
machinery (`SimulatedFleet`, shared clock, `/__sim__/` control endpoint, one
manifest), plus one knob the command lacks, a path that hangs for a chosen
time (the "endpoint that times out" fault), which needs a custom latency rule.

    python bench/simserver.py --preset battery-backup --manifest m.json [--fleet N]
        [--fixtures DIR] [--latency realistic|fixed|none] [--hang PATH=SECONDS]
        [--first K] [--speed S] [--tokens]

A fleet larger than one process serves well is split over several of these
(`bench/fleet_sim.py`): `--first` numbers this process's serials from K so
the serials stay unique across processes, and `--tokens` writes an owner
token per gateway into the manifest (10,000 control calls would take longer
than the run).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import re
import signal
from pathlib import Path

from enphase_local.simulator import (
    NO_LATENCY,
    PRESETS,
    REALISTIC_LATENCY,
    LatencyProfile,
    ReplayBackend,
    SimClock,
    SimulatedFleet,
    SiteBackend,
)

NOON = 1_781_546_400.0  # 2026-06-15 18:00 UTC, daylight in the presets' zones (as tests use)


def _backends(args: argparse.Namespace, clock: SimClock) -> list:
    if args.fixtures:
        first = ReplayBackend(Path(args.fixtures))
        if args.fleet == 1:
            return [first]
        return [
            ReplayBackend(Path(args.fixtures), serial=f"{first.serial[:6]}{i + 1:06d}")
            for i in range(args.first, args.first + args.fleet)
        ]
    config = PRESETS[args.preset]
    if args.fleet == 1:
        return [SiteBackend(config, clock, seed=1)]
    return [
        SiteBackend(
            dataclasses.replace(config, serial=f"{config.serial[:6]}{i + 1:06d}"), clock, seed=i
        )
        for i in range(args.first, args.first + args.fleet)
    ]


class HangLatency:
    """The base profile, plus one path that hangs while ``scale`` > 0.

    Toggled over the control endpoint with the ``latency-scale=1`` / ``=0``
    fault specs (Faults calls `scaled`), so a bench can make the endpoint
    time out mid-run and then heal it.
    """

    def __init__(self, base: LatencyProfile, pattern: str, seconds: float, scale: float) -> None:
        self.base, self.pattern, self.seconds, self.scale = base, pattern, seconds, scale
        self.name = f"{base.name}+hang"

    def delay(self, path: str, rng: random.Random) -> float:
        if self.scale > 0 and re.search(self.pattern, path):
            return self.seconds
        return self.base.delay(path, rng)

    def scaled(self, scale: float) -> HangLatency:
        return HangLatency(self.base, self.pattern, self.seconds, scale)


def _fixed(profile: LatencyProfile) -> LatencyProfile:
    """`profile` at the middle of each range: the same delay every time, no random draws."""
    rules = tuple((pattern, (lo + hi) / 2, (lo + hi) / 2) for pattern, lo, hi in profile.rules)
    mid = sum(profile.default) / 2
    return LatencyProfile("fixed-mid", rules, (mid, mid))


def _latency(args: argparse.Namespace) -> LatencyProfile | HangLatency:
    profiles = {"realistic": REALISTIC_LATENCY, "fixed": _fixed(REALISTIC_LATENCY)}
    base = profiles.get(args.latency, NO_LATENCY)
    if not args.hang:
        return base
    path, _, seconds = args.hang.partition("=")
    return HangLatency(base, f"^{re.escape(path)}$", float(seconds), 0.0)  # off until asked


def _write(path: Path, text: str) -> None:
    """Atomically: the bench waits for the file to exist."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.rename(path)


async def serve(args: argparse.Namespace) -> None:
    clock = SimClock(start=args.start, speed=args.speed)
    fleet = SimulatedFleet(_backends(args, clock), clock=clock, latency=_latency(args), seed=1)  # type: ignore[arg-type]
    await fleet.start()
    try:
        manifest = [
            {
                "serial": g.serial,
                "firmware": g.firmware,
                "http_url": g.http_url,
                "https_url": g.https_url,
                "https_host": g.https_host,
                "http_host": g.http_url.removeprefix("http://"),
                "token_scheme": g.core.personality.scheme,
                "timezone": str(g.core.timezone),
                "passwords": dict(g.passwords),
                **(
                    {"token": g.core.token("owner")}
                    if args.tokens and g.core.personality.scheme == "token"
                    else {}
                ),
            }
            for g in fleet
        ]
        await asyncio.to_thread(_write, Path(args.manifest), json.dumps(manifest))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await fleet.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="battery-backup")
    parser.add_argument("--fixtures")
    parser.add_argument("--fleet", type=int, default=1)
    parser.add_argument("--latency", choices=["realistic", "fixed", "none"], default="none")
    parser.add_argument("--hang")
    parser.add_argument("--start", type=float, default=NOON)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--first", type=int, default=0, help="number serials from this index")
    parser.add_argument("--speed", type=float, default=0.0, help="simulated s per real s")
    parser.add_argument("--tokens", action="store_true", help="an owner token per gateway")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()

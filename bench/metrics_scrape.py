"""CPU of one Prometheus /metrics scrape at 100 and 1,000 gateways (RESULTS.md "Prometheus scrape").

One simulated battery-backup gateway (over loopback, as the collector reads it) gives
a real `GatewayState`; N copies with their own serials and snapshot objects stand for
N gateways. Timed: the /metrics body, rendered in-process (no HTTP), 3 runs each,
min/median/max of the per-run median over `--scrapes` scrapes. Cases:

- ``reference``: the table walked every scrape, prometheus_client's text (what
  ``exposition(cached=False)`` keeps; what promtable shipped);
- ``unchanged``: cached lines, no gateway has a new snapshot since the last scrape
  (a 15 s scrape against minute polls: most scrapes);
- ``all new``: cached path, every gateway with a new snapshot object before each
  scrape (the worst case: every line built again).

``PYTHONPATH=<other checkout>/src`` measures another checkout (its `exposition`
without ``cached`` runs as ``reference`` only). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
import inspect
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from enphase_local.client import Envoy
from enphase_local.firmware import Firmware
from enphase_local.service import metrics
from enphase_local.service.collector import Collector, GatewayState, Target
from enphase_local.simulator import SimClock, SimulatedGateway, SiteBackend

NOON = 1_781_546_400.0


async def _one_state(preset: str) -> GatewayState:
    """A collector's state of one simulated gateway after a few polls."""
    clock = SimClock(start=NOON, speed=0)
    backend = SiteBackend.from_preset(preset, clock=clock, seed=1)
    async with SimulatedGateway(backend, clock=clock) as gw:

        def make(session: Any) -> Envoy:
            if Firmware.parse(gw.firmware).uses_tokens:
                host, token = gw.https_host, gw.owner_token()
                return Envoy(host, clock=clock, token=token, session=session)
            return Envoy(gw.http_host, clock=clock, session=session)

        collector = Collector([Target(gw.serial, make)], [], clock=clock)
        try:
            for _ in range(5):
                clock.advance(60)
                await collector.poll_once()
        finally:
            await collector.close_envoys()
        return collector.states[gw.serial]


def _fleet(state: GatewayState, n: int) -> dict[str, GatewayState]:
    return {
        f"gw{i}": dataclasses.replace(
            state, name=f"gw{i}", serial=f"{i:012d}", snapshot=copy.copy(state.snapshot)
        )
        for i in range(n)
    }


def _timed(render: Callable[[], bytes], before: Callable[[], None], scrapes: int) -> float:
    times = []
    for _ in range(scrapes):
        before()
        t0 = time.perf_counter()
        render()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _case(states: dict[str, GatewayState], case: str, scrapes: int) -> tuple[float, int]:
    clock = lambda: NOON + 400  # noqa: E731 - one moment: the bench measures rendering
    cached = "cached" in inspect.signature(metrics.exposition).parameters
    if case == "reference":
        render = metrics.exposition(lambda: states, clock, **({"cached": False} if cached else {}))
    else:
        render = metrics.exposition(lambda: states, clock)
    lines = render().count(b"\n")  # the first scrape fills the cache

    def renew() -> None:
        if case == "all new":
            for s in states.values():
                s.snapshot = copy.copy(s.snapshot)

    return _timed(render, renew, scrapes), lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,1000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scrapes", type=int, default=5)
    args = ap.parse_args()
    os.chdir(tempfile.mkdtemp())
    state = asyncio.run(_one_state("battery-backup"))
    has_cache = "cached" in inspect.signature(metrics.exposition).parameters
    cases = ["reference", "unchanged", "all new"] if has_cache else ["reference"]
    out: dict[str, Any] = {"load_before": os.getloadavg()[0], "src": str(Path(metrics.__file__))}
    for n in (int(x) for x in args.sizes.split(",")):
        for case in cases:
            runs, lines = [], 0
            for _ in range(args.runs):
                seconds, lines = _case(_fleet(state, n), case, args.scrapes)
                runs.append(seconds * 1000)
            runs.sort()
            out[f"{n} {case}"] = {
                "ms": [round(runs[0], 1), round(statistics.median(runs), 1), round(runs[-1], 1)],
                "lines": lines,
                "us_per_line": round(statistics.median(runs) * 1000 / lines, 2),
            }
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Issue 31 items 2-4: a steady update, first connect and first snapshot, against pyenphase.

    python bench/steady.py update  --target battery-backup --rounds 3 --updates 60
    python bench/steady.py connect --gateways 12 --rounds 3
    python bench/steady.py first   --target battery-backup --runs 5
    python bench/steady.py all [--quick]   # the three, and the section of RESULTS.md

Run with bench/.venv's Python (pyenphase installed); `run.py --only steady`
drives all three and writes the "Steady update, first connect, first
snapshot" section of RESULTS.md (`steady_report.py`).

Why these figures and not `worker.py cpu`: the machine is shared (up to
eight sessions on two cores), so every CPU figure is process CPU
(`time.process_time`), never wall time, and each comes with a
deterministic count that load cannot move: Python and C function calls per
update counted with `sys.setprofile` (``perf stat -e instructions`` is not
supported on this virtual machine, and callgrind takes about 50 s to start
a Python process here). Ratios are ours / pyenphase in the same process and
run, rounds alternate who goes first.

- update: ours with the connection kept (`Envoy` owns its session); ours
  with an aiohttp `ClientSession` passed in as Home Assistant does
  (`async_get_clientsession`: aiohttp's 15 s keep-alive, so at a real 60 s
  interval a new connection per update: its idle connections are dropped
  before each update); pyenphase with a new connection per update likewise.
- connect: `--gateways` simulated gateways in one process, each connected
  from nothing to its first snapshot in turn (TLS, /info, auth, probe,
  first data), CPU per gateway; ours cold (no probe cache) and warm (a
  probe cache that already holds every gateway), pyenphase (no cache).
- first: a fresh process per run (imports count) against a simulator with
  fixed latency (the middle of each `REALISTIC_LATENCY` range, no random
  draws): wall time from the start of connecting to the first snapshot, and
  the process's whole CPU at that moment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from common import NOON, Gateway, Sim, emit, replace_section

HERE = Path(__file__).resolve().parent


def load() -> str:
    """``uptime``'s load averages: the conditions a CPU figure was taken in."""
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def _drop_idle(session: Any) -> None:
    """Close a session's idle connections, as a 15 s keep-alive does at a 60 s interval."""
    connector = session.connector
    for entries in connector._conns.values():
        for proto, _ in entries:
            proto.close()
    connector._conns.clear()


class CallCounter:
    """Python and C function calls while active (`sys.setprofile`): a count load cannot move."""

    def __init__(self) -> None:
        self.calls = 0

    def _hook(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call" or event == "c_call":
            self.calls += 1

    def __enter__(self) -> CallCounter:
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)


# -- steady update ---------------------------------------------------------------------------


async def _client(
    g: Gateway, kind: str
) -> tuple[Any, Callable[[], None], Callable[[], Awaitable[None]]]:
    """A connected client, what to do before each update, and how to close it."""
    if kind == "pyenphase":
        env = await g.pyenphase()
        await env.update()
        return env, lambda: _drop_idle(env._client), env.close
    if kind == "ours-session":
        import aiohttp

        session = aiohttp.ClientSession()  # what HA injects: aiohttp's defaults

        async def close() -> None:
            await env.close()
            await session.close()

        env = g.ours(session=session)
        await env.update()
        return env, lambda: _drop_idle(session), close
    env = g.ours()
    await env.update()
    return env, lambda: None, env.close


async def _steady(g: Gateway, kind: str, updates: int, count: int) -> dict[str, Any]:
    env, before, close = await _client(g, kind)
    try:
        for _ in range(5):  # past the deferred reads and the first minutes' extras
            g.advance(60)
            before()
            await env.update()
        cpu = []
        for _ in range(updates):
            g.advance(60)
            before()
            c0 = time.process_time()
            await env.update()
            cpu.append(time.process_time() - c0)
        calls = []
        for _ in range(count):
            g.advance(60)
            before()
            with CallCounter() as counter:
                await env.update()
            calls.append(counter.calls)
    finally:
        await close()
    return {"cpu_ms": 1000 * statistics.median(cpu), "calls": statistics.median(calls)}


async def update(args: argparse.Namespace) -> dict[str, Any]:
    kinds = ["ours-keep", "ours-session", "pyenphase"]
    out: dict[str, Any] = {"target": args.target, "updates": args.updates, "load_start": load()}
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    with Sim(args.target) as sim:
        g = sim.gateway
        g.set_time(NOON)
        for r in range(args.rounds):
            for kind in kinds if r % 2 == 0 else kinds[::-1]:
                g.advance(600)
                runs[kind].append(await _steady(g, kind, args.updates, args.count))
    out["load_end"] = load()
    for kind, got in runs.items():
        out[kind] = {"cpu_ms": spread([x["cpu_ms"] for x in got]),
                     "calls": spread([x["calls"] for x in got])}  # fmt: skip
    py_cpu = [x["cpu_ms"] for x in runs["pyenphase"]]
    py_calls = [x["calls"] for x in runs["pyenphase"]]
    for kind in kinds[:2]:  # per round: ratio against pyenphase of the same round
        cpu = [x["cpu_ms"] / p for x, p in zip(runs[kind], py_cpu, strict=True)]
        calls = [x["calls"] / p for x, p in zip(runs[kind], py_calls, strict=True)]
        out[kind]["cpu_ratio"], out[kind]["calls_ratio"] = spread(cpu), spread(calls)
    return out


# -- first connect, per gateway ----------------------------------------------------------------


async def connect(args: argparse.Namespace) -> dict[str, Any]:
    from enphase_local.net.probe_cache import ProbeCache

    kinds = ["ours-cold", "ours-warm", "pyenphase"]
    out: dict[str, Any] = {"gateways": args.gateways, "load_start": load()}
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    with Sim(args.target, fleet=args.gateways) as sim, tempfile.TemporaryDirectory() as tmp:
        for g in sim.gateways:
            g.set_time(NOON)
        for g in sim.gateways:  # asked once: a control call must not count as client CPU
            token = g.token()
            g.token = lambda token=token: token  # type: ignore[method-assign]
        warm = ProbeCache(Path(tmp) / "probes.json")
        for g in sim.gateways:  # fill the cache once
            env = g.ours(probe_cache=warm)
            await env.update()
            await env.close()
        for r in range(args.rounds):
            for kind in kinds if r % 2 == 0 else kinds[::-1]:
                cpu = 0.0
                calls = 0
                for g in sim.gateways:
                    c0 = time.process_time()
                    with CallCounter() if args.count else _Null() as counter:
                        if kind == "pyenphase":
                            env = await g.pyenphase()
                            await env.update()
                        else:
                            env = g.ours(probe_cache=warm if kind == "ours-warm" else None)
                            await env.update()
                    cpu += time.process_time() - c0
                    calls += getattr(counter, "calls", 0)
                    await env.close()
                runs[kind].append({"cpu_ms": 1000 * cpu / len(sim.gateways),
                                   "calls": calls / len(sim.gateways)})  # fmt: skip
    out["load_end"] = load()
    py = runs["pyenphase"]
    for kind, got in runs.items():
        out[kind] = {"cpu_ms": spread([x["cpu_ms"] for x in got]),
                     "calls": spread([x["calls"] for x in got])}  # fmt: skip
        out[kind]["cpu_ratio"] = spread(
            [x["cpu_ms"] / p["cpu_ms"] for x, p in zip(got, py, strict=True)]
        )
    return out


class _Null:
    def __enter__(self) -> _Null:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


# -- first snapshot from a fresh process -------------------------------------------------------


def first(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"target": args.target, "runs": args.runs, "latency": "fixed-mid",
                           "load_start": load()}  # fmt: skip
    got: dict[str, list[dict[str, float]]] = {"ours": [], "pyenphase": []}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with Sim(args.target, latency="fixed") as sim:
        g = sim.gateway
        g.set_time(NOON)
        entry = dict(g.entry, token=g.token() if g.tokens else None, now=g.now)
        for client in ("ours", "pyenphase"):  # warm the page cache and bytecode, not counted
            _child(entry, client, env)
        for r in range(args.runs):
            for client in ("ours", "pyenphase") if r % 2 == 0 else ("pyenphase", "ours"):
                g.advance(600)
                entry["now"] = g.now
                got[client].append(_child(entry, client, env))
    out["load_end"] = load()
    for client, values in got.items():
        out[client] = {k: spread([v[k] for v in values]) for k in values[0]}
    for k in ("wall_ms", "process_cpu_ms"):
        ratios = [o[k] / p[k] for o, p in zip(got["ours"], got["pyenphase"], strict=True)]
        out["ours"][k + "_ratio"] = spread(ratios)
    return out


def _child(entry: dict[str, Any], client: str, env: dict[str, str]) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, str(HERE / "steady.py"), "first-one", "--client", client,
         "--entry", json.dumps(entry)],
        capture_output=True, text=True, env=env, check=False, cwd=HERE,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-1500:])
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def first_one(args: argparse.Namespace) -> None:
    """In a fresh process: import the client, connect, first snapshot; wall and process CPU."""
    entry = json.loads(args.entry)
    now = float(entry["now"])
    if args.client == "ours":
        from enphase_local.client import Envoy

        async def go() -> float:
            host = entry["https_host"] if entry["token"] else entry["http_host"]
            w0 = time.perf_counter()
            async with Envoy(host, token=entry["token"], clock=lambda: now) as env:
                await env.update()
            return time.perf_counter() - w0
    else:
        from pyenphase import Envoy as PyEnvoy

        async def go() -> float:
            w0 = time.perf_counter()
            env = PyEnvoy(entry["https_host"] if entry["token"] else entry["http_host"])
            await env.setup()
            if entry["token"]:
                await env.authenticate(token=entry["token"])
            else:
                await env.authenticate(username="envoy", password=entry["passwords"]["envoy"])
            await env.update()
            wall = time.perf_counter() - w0
            await env.close()
            return wall

    wall = asyncio.run(go())
    emit({"wall_ms": 1000 * wall, "process_cpu_ms": 1000 * time.process_time()})


SECTION = "## Steady update, first connect, first snapshot (issue 31 items 2-4)"


def run_all(quick: bool) -> dict[str, Any]:
    """The three figures, each in a process of its own (a fresh heap, its own simulator)."""
    plan = {
        "update": ["--rounds", "1" if quick else "3", "--updates", "10" if quick else "60"],
        "connect": ["--rounds", "1" if quick else "3", "--gateways", "4" if quick else "12"],
        "first": ["--runs", "2" if quick else "5"],
    }
    out: dict[str, Any] = {"quick": quick, "started": time.time()}
    for figure, extra in plan.items():
        print(f"  steady.py {figure} {' '.join(extra)}", flush=True)
        proc = subprocess.run(
            [sys.executable, str(HERE / "steady.py"), figure, *extra],
            capture_output=True, text=True, cwd=HERE, check=False,
        )  # fmt: skip
        lines = proc.stdout.strip().splitlines()
        ok = proc.returncode == 0 and lines
        out[figure] = json.loads(lines[-1]) if ok else {"error": proc.stderr[-1500:]}
    return out


def _cells(fig: dict[str, Any], key: str, ratio: str | None = None, unit: str = "ms") -> str:
    """``min / median / max unit | ratio min / median / max`` (the ratio cell empty if none)."""
    got = fig[key]
    text = f" {got['min']:.2f} / {got['median']:.2f} / {got['max']:.2f} {unit} |"
    if ratio and ratio in fig:
        r = fig[ratio]
        return text + f" {r['min']:.2f} / {r['median']:.2f} / {r['max']:.2f} |"
    return text + " |"


def report(results: dict[str, Any]) -> str:
    """The section of RESULTS.md: every figure with its command and conditions."""
    up, co, fi = results["update"], results["connect"], results["first"]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(results["started"]))
    lines = [
        SECTION,
        "",
        f"Generated by `bench/.venv/bin/python bench/steady.py all` on {when}"
        + (" (--quick)" if results["quick"] else "")
        + f", {os.cpu_count()} CPUs shared with other work: `/proc/loadavg` is given for each "
        "figure. CPU is process CPU (`time.process_time`), never wall time; `calls` is a "
        "deterministic count of Python and C function calls (`sys.setprofile`), which load "
        "cannot move (`perf stat -e instructions` is not supported on this virtual machine). "
        "Each cell: min / median / max over the rounds; ratios are ours / pyenphase 4.2.0 "
        "of the same round, rounds alternating who goes first.",
        "",
        f"### Steady update ({up.get('target')}, {up.get('updates')} updates a round, "
        f"load {up.get('load_start')} -> {up.get('load_end')})",
        "",
        "`steady.py update`: after connecting and 5 updates, CPU of each update, the simulated "
        "clock 60 s on before each. Ours keeping its connection (its own session); ours with an "
        "`aiohttp.ClientSession()` passed in as Home Assistant does, whose idle connections are "
        "closed before each update as aiohttp's 15 s keep-alive does at a 60 s interval; "
        "pyenphase likewise (a new connection per update).",
        "",
        "| client | CPU per update | ratio | calls per update | ratio |",
        "|---|---|---|---|---|",
    ]
    for kind in ("ours-keep", "ours-session", "pyenphase"):
        fig = up[kind]
        lines.append(f"| {kind} |" + _cells(fig, "cpu_ms", "cpu_ratio")
                     + _cells(fig, "calls", "calls_ratio", unit=""))  # fmt: skip
    lines += [
        "",
        f"### First connect, per gateway ({co.get('gateways')} gateways in one process, "
        f"load {co.get('load_start')} -> {co.get('load_end')})",
        "",
        "`steady.py connect`: each gateway from nothing to its first snapshot (TLS, /info, "
        "authentication, probe, first data), one after the other, CPU per gateway. Cold: no "
        "probe cache; warm: a `ProbeCache` that already holds every gateway (filled before "
        "the rounds); pyenphase has none (setup, authenticate, first update).",
        "",
        "| client | CPU per gateway | ratio |",
        "|---|---|---|",
    ]
    for kind in ("ours-cold", "ours-warm", "pyenphase"):
        lines.append(f"| {kind} |" + _cells(co[kind], "cpu_ms", "cpu_ratio"))
    lines += [
        "",
        f"### First snapshot from a fresh process ({fi.get('target')}, {fi.get('runs')} runs "
        f"each, load {fi.get('load_start')} -> {fi.get('load_end')})",
        "",
        "`steady.py first`: a new Python process per run imports the client, connects and takes "
        "the first snapshot against a simulator answering each path after the middle of its "
        "`REALISTIC_LATENCY` range (no random draws); wall time from the start of connecting to "
        "the first snapshot, and the process's whole CPU then (imports included).",
        "",
        "| client | wall to first snapshot | ratio | process CPU | ratio |",
        "|---|---|---|---|---|",
    ]
    for client in ("ours", "pyenphase"):
        fig = fi[client]
        lines.append(f"| {client} |" + _cells(fig, "wall_ms", "wall_ms_ratio")
                     + _cells(fig, "process_cpu_ms", "process_cpu_ms_ratio"))  # fmt: skip
    notes = HERE / "steady_notes.md"
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figure", choices=["update", "connect", "first", "first-one", "all"])
    parser.add_argument("--quick", action="store_true", help="all: a short smoke run")
    parser.add_argument("--no-report", action="store_true", help="all: leave RESULTS.md as is")
    parser.add_argument("--target", default="battery-backup")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--updates", type=int, default=60)
    parser.add_argument("--count", type=int, default=5, help="updates counted with setprofile")
    parser.add_argument("--gateways", type=int, default=12)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--client", default="ours")
    parser.add_argument("--entry", default="{}")
    args = parser.parse_args()
    if args.figure == "first-one":
        first_one(args)
    elif args.figure == "all":
        results = run_all(args.quick)
        work = HERE / ".work"
        work.mkdir(exist_ok=True)
        (work / "steady.json").write_text(json.dumps(results, indent=1, default=str))
        if not args.no_report and not any(
            "error" in v for v in results.values() if isinstance(v, dict)
        ):
            replace_section(SECTION, report(results))
        emit(results)
    elif args.figure == "first":
        emit(first(args))
    else:
        emit(asyncio.run({"update": update, "connect": connect}[args.figure](args)))


if __name__ == "__main__":
    main()

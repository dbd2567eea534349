"""Bench workers: one figure per invocation, JSON on the last line of stdout.

    python bench/worker.py requests --target battery-backup --rounds 3
    python bench/worker.py wall|cpu --target battery-backup --rounds 3 --updates 10
    python bench/worker.py memory --client ours|pyenphase --updates 100
    python bench/worker.py fleet --n 1000 --ticks 5 --accel 6
    python bench/worker.py faults --client ours|pyenphase [--hang]

Each worker starts its own simulator process (bench/simserver.py), so the
time and memory measured here are the client's alone. `run.py` drives them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import datetime as dt
import time
import traceback
import zoneinfo
from typing import Any

from common import FIXTURES, NOON, Gateway, Sim, emit, median, rss_mb
from fleet_sim import connect_all


def _sim_for(target: str, **kwargs: Any) -> Sim:
    if target.startswith("real/"):
        return Sim(None, fixtures=FIXTURES / target.removeprefix("real/"), **kwargs)
    return Sim(target, **kwargs)


def _err(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


# -- (1) requests, and parity ------------------------------------------------------------


# The requests figure: a whole simulated day from noon, one update a minute, so
# the schedule's daily rhythm (night, midnight, settings, identity) is in it.
# The first FIRST_HOURS are reported apart: the deferred reads and first
# re-probes belong to starting up, the hours after them are the steady state.
DAY_HOURS = 24
FIRST_HOURS = 4


async def _ours_day(g: Gateway, hours: int = DAY_HOURS) -> dict[str, Any]:
    """Connect, then `hours` x 60 updates a simulated minute apart; requests per hour."""
    g.reset_log()
    env = g.ours()
    try:
        await env.update()  # connect and the first snapshot
        connect = g.count()
        g.reset_log()
        per_hour: list[dict[str, int]] = []
        for _ in range(hours):
            for _ in range(60):
                g.advance(60)
                await env.update()
            per_hour.append(g.counts())
            g.reset_log()
    finally:
        await env.close()
    totals = [sum(h.values()) for h in per_hour]
    later = totals[FIRST_HOURS:] or totals
    endpoints: dict[str, int] = {}
    for h in per_hour:
        for path, n in h.items():
            endpoints[path] = endpoints.get(path, 0) + n
    return {"connect": connect, "per_hour": totals, "endpoints_per_hour": per_hour,
            "endpoints": endpoints, "day": sum(totals) / len(totals),
            "first": sum(totals[:FIRST_HOURS]) / max(len(totals[:FIRST_HOURS]), 1),
            "later": sum(later) / len(later), "worst_later": max(later)}  # fmt: skip


async def _py_updates(g: Gateway, updates: int) -> dict[str, Any]:
    g.reset_log()
    env = await g.pyenphase()
    try:
        await env.update()  # first update runs pyenphase's probe
        connect = g.count()
        g.reset_log()
        per_update = []
        for _ in range(updates):
            g.advance(60)
            before = g.count()
            await env.update()
            per_update.append(g.count() - before)
        counts = g.counts()
    finally:
        await env.close()
    return {"connect": connect, "hour": median(per_update) * 60, "per_update": per_update,
            "endpoints": counts}  # fmt: skip


async def _parity(g: Gateway) -> dict[str, Any]:
    """Both clients read the gateway at the same frozen simulated moment."""
    from parity import compare

    out: dict[str, Any] = {}
    env = g.ours()
    py = None
    try:
        await env.connect()
        snap = (await env.update()).to_dict()
        py = await g.pyenphase()
        data = await py.update()
        out["fresh"] = compare(data, snap)
        # Steady state: ours after an hour of its own schedule, pyenphase fresh at that moment.
        for _ in range(60):
            g.advance(60)
            snap = (await env.update()).to_dict()
        data = await py.update()
        out["after_hour"] = compare(data, snap)
    except Exception as exc:
        out["error"] = _err(exc)
    finally:
        await env.close()
        if py is not None:
            await py.close()
    return out


async def requests(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"target": args.target, "ours": [], "pyenphase": []}
    with _sim_for(args.target) as sim:
        g = sim.gateway
        result["firmware"] = g.firmware
        g.set_time(NOON)
        result["parity"] = await _parity(g)
        # Ours' schedule runs on the injected clock alone, so one simulated day is
        # the figure (a second would repeat it); pyenphase asks the same every
        # update, measured in rounds around it.
        for r in range(args.rounds):
            if r == 0:
                g.set_time(NOON + 600)
                try:
                    result["ours"].append(await _ours_day(g))
                except Exception as exc:
                    result.setdefault("errors", {})["ours"] = _err(exc)
            g.set_time(NOON + 600 + 6 * 3600 * r)  # noon, evening, midnight
            try:
                result["pyenphase"].append(await _py_updates(g, args.py_updates))
            except Exception as exc:
                result.setdefault("errors", {})["pyenphase"] = _err(exc)
    return result


# -- (2) wall time and (3) CPU time per update ---------------------------------------------


def _drop_idle(session: Any) -> None:
    """Close a session's idle pooled connections (aiohttp internals; bench only).

    Updates here run back to back in real time while the simulated clock says
    60 s apart. At a real 60 s interval aiohttp's 15 s keep-alive has closed
    the connection before the next update, so each update pays a new TLS
    handshake. Ours closes its connection itself after updates that far apart
    (`Transport.between_updates`); pyenphase's idle connections are closed here.
    """
    connector = session.connector
    for entries in connector._conns.values():
        for proto, _ in entries:
            proto.close()
    connector._conns.clear()


async def _timed_run(g: Gateway, client: str, updates: int, fresh: bool) -> dict[str, Any]:
    wall: list[float] = []
    cpu: list[float] = []
    start = time.perf_counter()
    if client == "ours":
        env = g.ours()
        await env.update()  # connects: time to the first snapshot
    else:
        env = await g.pyenphase()
        await env.update()  # probe and first data
    connect_s = time.perf_counter() - start
    try:
        for _ in range(updates):
            g.advance(60)
            if client == "pyenphase":
                _drop_idle(env._client)  # as aiohttp's 15 s keep-alive does at a real 60 s
            elif fresh and env._transport._session is not None:
                _drop_idle(env._transport._session)  # --fresh: ours with a new one too
            w0, c0 = time.perf_counter(), time.process_time()
            await env.update()
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
    finally:
        await env.close()
    return {"connect_s": connect_s, "wall": wall, "cpu": cpu}


async def timing(args: argparse.Namespace) -> dict[str, Any]:
    latency = "realistic" if args.figure == "wall" else "none"
    result: dict[str, Any] = {"target": args.target, "latency": latency, "ours": [],
                              "pyenphase": [], "fresh": args.fresh}  # fmt: skip
    with _sim_for(args.target, latency=latency) as sim:
        g = sim.gateway
        g.set_time(NOON)
        for r in range(args.rounds):
            order = ("ours", "pyenphase") if r % 2 == 0 else ("pyenphase", "ours")
            for client in order:
                g.advance(600)
                try:
                    run = await _timed_run(g, client, args.updates, args.fresh)
                    result[client].append(run)
                except Exception as exc:
                    result.setdefault("errors", {})[client] = _err(exc)
    return result


# -- (5) memory of one client, and the fleet ----------------------------------------------------


async def memory(args: argparse.Namespace) -> dict[str, Any]:
    with Sim("battery-backup") as sim:
        g = sim.gateway
        g.set_time(NOON)
        if args.client == "ours":
            import enphase_local.client  # noqa: F401
        else:
            import pyenphase  # noqa: F401
        base = rss_mb()
        if args.client == "ours":
            env = g.ours()
            await env.connect()
        else:
            env = await g.pyenphase()
        for _ in range(args.updates):
            g.advance(60)
            await env.update()
        after = rss_mb()
        await env.close()
    return {"client": args.client, "rss_after_import_mb": base, "rss_after_updates_mb": after,
            "updates": args.updates}  # fmt: skip


class _FleetClock:
    def __init__(self) -> None:
        self.now = NOON

    def __call__(self) -> float:
        return self.now


async def fleet(args: argparse.Namespace) -> dict[str, Any]:
    import aiohttp

    from enphase_local import gateway_session
    from enphase_local.client import Envoy
    from enphase_local.net.connector import TLS_READ_BUFFER

    n = args.n
    rss0 = rss_mb()
    with Sim("battery-backup", fleet=n) as sim:
        clock = _FleetClock()
        lead = sim.gateways[0]
        lead.set_time(NOON)
        tokens = [g.token() for g in sim.gateways]
        if args.policy == "keep":  # the library's fleet default: connections kept, small buffers
            session = gateway_session()
        else:  # plain aiohttp: its 15 s keep-alive closes them between updates 60 s apart;
            # the schedule is accelerated, so that timeout is scaled with it
            idle_s = 15 / args.accel
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=False, limit=0, keepalive_timeout=idle_s)
            )
        envs = [
            Envoy(g.entry["https_host"], token=t, session=session, clock=clock)
            for g, t in zip(sim.gateways, tokens, strict=True)
        ]
        connect_s = await connect_all(envs, args.connect_at_once)
        rss_connected = rss_mb()
        tick_real = 60.0 / args.accel
        errors = 0
        late = 0
        timeline: list[tuple[float, float, float]] = []
        sim_cpu0 = sim.cpu_seconds()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for tick in range(args.ticks):
            clock.now = NOON + 60 * (tick + 1)
            lead.set_time(clock.now)
            tick_start = time.perf_counter()

            async def one(i: int, env: Envoy, tick_start: float = tick_start) -> None:
                nonlocal errors
                await asyncio.sleep(max(0.0, tick_start + i * tick_real / n - time.perf_counter()))
                try:
                    await env.update()
                except Exception:
                    errors += 1

            await asyncio.gather(*(one(i, e) for i, e in enumerate(envs)))
            spent = time.perf_counter() - tick_start
            if spent > tick_real:
                late += 1
            else:
                await asyncio.sleep(tick_real - spent)
            if args.trim:  # hand freed heap memory back to the OS (glibc), timed with the rest
                ctypes.CDLL("libc.so.6").malloc_trim(0)
            timeline.append((tick, time.process_time() - cpu0, rss_mb()))
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        sim_cpu = sim.cpu_seconds() - sim_cpu0
        rss_end = rss_mb()
        requests_total = sum(g.count() for g in sim.gateways[: min(n, 20)]) * n / min(n, 20)
        await asyncio.gather(*(e.close() for e in envs))
        await session.close()
    simulated_s = args.ticks * 60.0
    return {
        "n": n, "ticks": args.ticks, "accel": args.accel, "connect_s": connect_s,
        "client_cpu_s": cpu, "wall_s": wall,
        "cpu_pct_at_60s": 100 * cpu / simulated_s,
        "cpu_pct_accelerated": 100 * cpu / wall,
        "sim_cpu_pct_accelerated": 100 * sim_cpu / wall,
        "rss_base_mb": rss0, "rss_connected_mb": rss_connected, "rss_end_mb": rss_end,
        "rss_per_gateway_kb": 1024 * (rss_end - rss0) / n,
        "errors": errors, "late_ticks": late, "timeline": timeline,
        "requests_est": requests_total, "policy": args.policy, "trim": args.trim,
        "connect_at_once": args.connect_at_once,
        "tls_read_kib": TLS_READ_BUFFER // 1024 if args.policy == "keep" else 256,
    }  # fmt: skip


# -- (6) robustness under faults ---------------------------------------------------------------


async def _fault_run(
    g: Gateway, client: str, steps: list[tuple[float, list[str]]]
) -> list[dict[str, Any]]:
    """Connect, then one update per step (sim time, fault specs applied before it)."""
    if client == "ours":
        env = g.ours()
        await env.connect()
    else:
        env = await g.pyenphase()
        await env.update()
    out = []
    try:
        for when, specs in steps:
            g.set_time(when)
            if specs:
                g.faults(*specs)
            rec: dict[str, Any] = {"t": when}
            t0 = time.perf_counter()
            try:
                snap = await env.update()
                if client == "ours":
                    rec["data"] = snap.production is not None
                    # fresh: every source due in this update answered (no error recorded)
                    rec["errors"] = len(snap.errors)
                    rec["fresh"] = rec["data"] and not snap.errors
                else:
                    rec["data"] = snap.system_production is not None
                    rec["fresh"] = rec["data"]
            except Exception as exc:
                rec["data"] = rec["fresh"] = False
                rec["exc"] = _err(exc)
            rec["wall_s"] = time.perf_counter() - t0
            out.append(rec)
    finally:
        await env.close()
    return out


def _summary(records: list[dict[str, Any]], fault_end: float) -> dict[str, Any]:
    after = [r for r in records if r["t"] >= fault_end and r["fresh"]]
    return {
        "updates": len(records),
        "returned_data": sum(r["data"] for r in records),
        "fresh": sum(r["fresh"] for r in records),
        "recover_s": (after[0]["t"] - fault_end) if after else None,
        "wall_total_s": sum(r["wall_s"] for r in records),
        "wall_max_s": max(r["wall_s"] for r in records),
        "records": records,
    }


async def faults(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"client": args.client}
    # Outage: the nightly restart, 23:02 to 23:05 local; one update a minute 22:58 to 23:10.
    with Sim("battery-backup") as sim:
        g = sim.gateway
        tz = zoneinfo.ZoneInfo(g.entry["timezone"])
        day = dt.datetime.fromtimestamp(NOON, tz).date()
        at = dt.datetime.combine(day, dt.time(22, 55), tz).timestamp()
        g.set_time(at)
        g.faults("outage=3")
        start = at + 180
        steps = [(start + 60 * i, []) for i in range(13)]
        try:
            recs = await _fault_run(g, args.client, steps)
            result["outage"] = _summary(recs, at + 600)  # the window ends at 23:05
        except Exception as exc:
            result["outage"] = {"error": _err(exc), "trace": traceback.format_exc()[-800:]}
    # 5xx bursts: every request answers 503 for two simulated minutes, twice
    # (updates 4-5 and 10-11 of 14): a time window, the same for both clients.
    with Sim("battery-backup") as sim:
        g = sim.gateway
        g.set_time(NOON)
        change = {3: ["error-rate=1:503"], 5: ["error-rate=0"], 9: ["error-rate=1:503"],
                  11: ["error-rate=0"]}  # fmt: skip
        steps = [(NOON + 60 * (i + 1), change.get(i, [])) for i in range(14)]
        try:
            recs = await _fault_run(g, args.client, steps)
            s = _summary(recs, NOON + 60 * 12)
            s["burst_updates_ok"] = [recs[i]["data"] for i in (3, 4, 9, 10)]
            result["bursts"] = s
        except Exception as exc:
            result["bursts"] = {"error": _err(exc)}
    if args.hang:
        # /ivp/meters/readings stops answering (hangs 300 s) for one update, then heals.
        with Sim("battery-backup", hang="/ivp/meters/readings=300") as sim:
            g = sim.gateway
            g.set_time(NOON)
            steps = [
                (NOON + 60, []),
                (NOON + 120, ["latency-scale=1"]),
                (NOON + 180, ["latency-scale=0"]),
                (NOON + 240, []),
            ]
            try:
                recs = await _fault_run(g, args.client, steps)
                s = _summary(recs, NOON + 180)
                s["hang_update"] = recs[1]
                result["hang"] = s
            except Exception as exc:
                result["hang"] = {"error": _err(exc)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("figure", choices=["requests", "wall", "cpu", "memory", "fleet", "faults"])
    parser.add_argument("--target", default="battery-backup")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--py-updates", type=int, default=5)
    parser.add_argument("--client", default="ours")
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--accel", type=float, default=6.0)
    parser.add_argument("--hang", action="store_true")
    parser.add_argument("--policy", choices=["keep", "close"], default="keep",
                        help="fleet: gateway_session() (keep, the library's) or close")  # fmt: skip
    parser.add_argument("--connect-at-once", type=int, default=50, help="fleet: connecting at once")
    parser.add_argument("--trim", action="store_true",
                        help="fleet: glibc malloc_trim(0) after each tick")  # fmt: skip
    parser.add_argument("--fresh", action="store_true",
                        help="cpu/wall: ours opens a new connection per update too")  # fmt: skip
    args = parser.parse_args()
    runner = {"requests": requests, "wall": timing, "cpu": timing, "memory": memory,
              "fleet": fleet, "faults": faults}[args.figure]  # fmt: skip
    with contextlib.suppress(KeyboardInterrupt):
        emit(asyncio.run(runner(args)))


if __name__ == "__main__":
    main()

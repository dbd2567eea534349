"""Render bench/.work/results.json as bench/RESULTS.md and PNG plots (matplotlib, bench venv)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
from pathlib import Path
from typing import Any


def _machine() -> str:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    try:
        import aiohttp

        aio = aiohttp.__version__
    except ImportError:
        aio = "?"
    return (
        f"- machine: {os.cpu_count()} CPUs (`nproc` {_nproc()}), {cpu}, "
        f"{mem_kb / 1024 / 1024:.1f} GiB RAM, {platform.system()} {platform.release()}\n"
        f"- Python {platform.python_version()}, aiohttp {aio}, pyenphase 4.2.0"
    )


def _nproc() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "?"


def _f(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "n/a"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return str(x)


def _ratio(ours: Any, theirs: Any) -> str:
    try:
        return f"{float(ours) / float(theirs):.2f}"
    except (TypeError, ValueError, ZeroDivisionError):
        return "n/a"


def _med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _requests(rows: list[dict[str, Any]]) -> list[str]:
    out = [
        "| gateway | firmware | connect req. ours / pye | req./h ours, hours 1-4 "
        "| req./h ours, hours 5-24 | worst hour 5-24 | req./h pye | ratio 5-24 | ratio worst "
        "| parity (checked, missing, differ) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    for r in rows:
        if "error" in r and "target" not in r:
            out.append(f"| ? | | worker failed: {r['error'][:120]} ||||||||")
            continue
        day = (r.get("ours") or [{}])[0]
        theirs = [x["hour"] for x in r.get("pyenphase", [])]
        tc = _med([x["connect"] for x in r.get("pyenphase", [])])
        th = _med(theirs)
        p = r.get("parity", {})
        fresh = p.get("fresh")
        if fresh:
            par = f"{fresh['checked']}, {len(fresh['missing'])}, {len(fresh['differ'])}"
            for kind in ("missing", "differ"):
                for item in fresh[kind]:
                    notes.append(f"- `{r['target']}` {kind}: {item}")
        else:
            par = f"pyenphase: {p.get('error', r.get('errors', {}).get('pyenphase', 'n/a'))}"
        if not day:
            par += f"; ours: {r.get('errors', {}).get('ours', 'n/a')}"
        out.append(
            f"| {r['target']} | {r.get('firmware', '')} | {_f(day.get('connect'), 0)} / "
            f"{_f(tc, 0)} | {_f(day.get('first'), 1)} | {_f(day.get('later'), 1)} "
            f"| {_f(day.get('worst_later'), 0)} | {_f(th, 0)} | {_ratio(day.get('later'), th)} "
            f"| {_ratio(day.get('worst_later'), th)} | {par} |"
        )
    if notes:
        out += ["", "Parity findings (pyenphase has it, ours lacks it or disagrees):", "", *notes]
    return out


def _timing(rows: list[dict[str, Any]], key: str, unit: float, label: str) -> list[str]:
    out = [
        f"| gateway | {label} median ours | median pye | ratio | mean ours | mean pye | ratio "
        "| first snapshot s ours / pye | ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "target" not in r:
            out.append(f"| worker failed: {r.get('error', '')[:150]} |||||||")
            continue
        o = [v * unit for run in r["ours"] for v in run[key]]
        t = [v * unit for run in r["pyenphase"] for v in run[key]]
        om, tm = _med(o), _med(t)
        oa = statistics.fmean(o) if o else float("nan")
        ta = statistics.fmean(t) if t else float("nan")
        oc = _med([run["connect_s"] for run in r["ours"]])
        tc = _med([run["connect_s"] for run in r["pyenphase"]])
        out.append(
            f"| {r['target']} | {_f(om, 2)} | {_f(tm, 2)} | {_ratio(om, tm)} | {_f(oa, 2)} "
            f"| {_f(ta, 2)} | {_ratio(oa, ta)} | {_f(oc, 2)} / {_f(tc, 2)} | {_ratio(oc, tc)} |"
        )
        if r.get("errors"):
            out.append(f"| errors: {r['errors']} |||||||")
    return out


def _parse(p: dict[str, Any]) -> list[str]:
    out = [
        "| capture folder | pyenphase updater | endpoints | bytes | ours µs | pyenphase µs "
        "| ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in p.get("rows", []):
        if "error" in row:
            out.append(f"| {row['folder']} | {row['updater']} | {row['error'][:80]} |||||")
            continue
        eps = ", ".join(e.replace("/ivp/", "ivp/") for e in row["endpoints"])
        out.append(
            f"| {row['folder']} | {row['updater'].removeprefix('Envoy')} | {eps} | {row['bytes']} "
            f"| {_f(row['ours_us'])} | {_f(row['pyenphase_us'])} "
            f"| {_ratio(row['ours_us'], row['pyenphase_us'])} |"
        )
    return out


def _cold(c: dict[str, Any]) -> list[str]:
    o, t = c["ours"], c["pyenphase"]
    return [
        "| figure | ours | pyenphase | ratio |",
        "|---|---|---|---|",
        f"| `-X importtime` cumulative, `import enphase_local` vs `import pyenphase` (ms) "
        f"| {_f(o['importtime_ms'])} | {_f(t['importtime_ms'])} "
        f"| {_ratio(o['importtime_ms'], t['importtime_ms'])} |",
        f"| same, `import enphase_local.client` (what using `Envoy` costs) (ms) "
        f"| {_f(o['client_importtime_ms'])} | {_f(t['importtime_ms'])} "
        f"| {_ratio(o['client_importtime_ms'], t['importtime_ms'])} |",
        f"| wall time of `python -c 'import X'` (ms; bare interpreter {_f(c['python_wall_ms'])}) "
        f"| {_f(o['import_wall_ms'])} | {_f(t['import_wall_ms'])} "
        f"| {_ratio(o['import_wall_ms'], t['import_wall_ms'])} |",
        f"| `enphase --help` wall time (ms) | {_f(c['enphase_help_ms'])} | n/a (no CLI) | |",
        *_cold_ha(c),
    ]


def _cold_ha(c: dict[str, Any]) -> list[str]:
    """The Home Assistant-like rows (absent from results of older runs)."""
    o, t = c["ours"], c["pyenphase"]
    if "ha_importtime_min_ms" not in o:
        return []
    label = (
        "Home Assistant-like process (aiohttp client and server, jwt, orjson already "
        "loaded): `import enphase_local.client` vs `import pyenphase`, `-X importtime` (ms)"
    )
    return [
        f"| {label}, min of {c['ha_runs']} | {_f(o['ha_importtime_min_ms'])} "
        f"| {_f(t['ha_importtime_min_ms'])} "
        f"| {_ratio(o['ha_importtime_min_ms'], t['ha_importtime_min_ms'])} |",
        f"| same, median of {c['ha_runs']} | {_f(o['ha_importtime_median_ms'])} "
        f"| {_f(t['ha_importtime_median_ms'])} "
        f"| {_ratio(o['ha_importtime_median_ms'], t['ha_importtime_median_ms'])} |",
    ]


def _memory(m: dict[str, Any]) -> list[str]:
    o, t = m.get("ours", {}), m.get("pyenphase", {})
    return [
        "| figure | ours | pyenphase | ratio |",
        "|---|---|---|---|",
        f"| RSS after import (MB) | {_f(o.get('rss_after_import_mb'))} "
        f"| {_f(t.get('rss_after_import_mb'))} "
        f"| {_ratio(o.get('rss_after_import_mb'), t.get('rss_after_import_mb'))} |",
        f"| RSS after connect + 100 updates (MB) | {_f(o.get('rss_after_updates_mb'))} "
        f"| {_f(t.get('rss_after_updates_mb'))} "
        f"| {_ratio(o.get('rss_after_updates_mb'), t.get('rss_after_updates_mb'))} |",
    ]


def _fleet(rows: list[dict[str, Any]]) -> list[str]:
    out = [
        "| gateways (speed-up) | connections, connecting at once, TLS read buffer "
        "| connect all (s) | client CPU % of one core at 60 s "
        "| CPU % accelerated run | simulator CPU % (accel.) | RSS connected (MB) "
        "| RSS total (MB) | RSS per gateway (KB) | failed updates | late ticks |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "n" not in r:
            out.append(f"| worker failed: {r.get('error', '')[:150]} ||||||||")
            continue
        out.append(
            f"| {r['n']} ({r['accel']:g}x) | {r.get('policy', 'close')}"
            f"{' + trim' if r.get('trim') else ''}, {r.get('connect_at_once', 50)} at once, "
            f"{r.get('tls_read_kib', '?')} KiB "
            f"| {_f(r['connect_s'])} "
            f"| {_f(r['cpu_pct_at_60s'], 2)} "
            f"| {_f(r['cpu_pct_accelerated'], 1)} | {_f(r['sim_cpu_pct_accelerated'], 1)} "
            f"| {_f(r['rss_connected_mb'])} | {_f(r['rss_end_mb'])} "
            f"| {_f(r['rss_per_gateway_kb'], 0)} "
            f"| {r['errors']} | {r['late_ticks']} |"
        )
    return out


def _faults(f: dict[str, Any]) -> list[str]:
    out = [
        "| scenario | updates | returned data ours / pye | fresh ours / pye "
        "| recovery after fault ends (sim s) ours / pye | wall spent (s) ours / pye "
        "| slowest update (s) ours / pye |",
        "|---|---|---|---|---|---|---|",
    ]
    o, t = f.get("ours", {}), f.get("pyenphase", {})
    for name, label in (
        ("outage", "nightly outage 23:02-23:05, update each minute 22:58-23:10"),
        ("bursts", "every request 503 for 2 sim. minutes, twice (updates 4-5, 10-11 of 14)"),
        ("hang", "/ivp/meters/readings hangs (300 s) for 1 update of 4"),
    ):
        a, b = o.get(name), t.get(name)
        if a is None and b is None:
            continue
        a, b = a or {}, b or {}
        if "error" in a or "error" in b:
            out.append(f"| {label} | error: {a.get('error', '')} {b.get('error', '')} ||||||")
            continue
        out.append(
            f"| {label} | {a.get('updates')} | {a.get('returned_data')} / {b.get('returned_data')} "
            f"| {a.get('fresh')} / {b.get('fresh')} | {_f(a.get('recover_s'), 0)} / "
            f"{_f(b.get('recover_s'), 0)} | {_f(a.get('wall_total_s'))} / "
            f"{_f(b.get('wall_total_s'))} | {_f(a.get('wall_max_s'))} / {_f(b.get('wall_max_s'))} |"
        )
    return out


def _plots(results: dict[str, Any], bench: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    fleet = [r for r in results.get("fleet", []) if "n" in r]
    if fleet:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
        ns = [r["n"] for r in fleet]
        a1.plot(ns, [r["cpu_pct_at_60s"] for r in fleet], "o-")
        a1.axhline(10, color="red", ls="--", label="target 10 %")
        a1.set(xscale="log", xlabel="gateways", ylabel="client CPU % (60 s interval)")
        a1.legend()
        a2.plot(ns, [r["rss_end_mb"] for r in fleet], "o-")
        a2.axhline(300, color="red", ls="--", label="target 300 MB")
        a2.set(xscale="log", xlabel="gateways", ylabel="client RSS (MB)")
        a2.legend()
        fig.suptitle("enphase-local: one process polling N simulated gateways")
        fig.tight_layout()
        fig.savefig(bench / "fleet_scaling.png", dpi=90)
        plt.close(fig)
        made.append("fleet_scaling.png")
    req = next(
        (r for r in results.get("requests", []) if r.get("target") == "battery-backup"), None
    )
    if req and req.get("ours") and req.get("pyenphase") and "per_hour" in req["ours"][0]:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        ours = req["ours"][0]["per_hour"]
        py = statistics.median(x["hour"] for x in req["pyenphase"])
        x = list(range(1, len(ours) + 1))
        ax.step(x, [sum(ours[:i]) for i in x], where="post", label="enphase-local (measured)")
        ax.step(x, [py * i for i in x], where="post",
                label="pyenphase (median per update × 60, each hour)")  # fmt: skip
        ax.set(xlabel="simulated hours from noon (one update per minute)",
               ylabel="requests, cumulative",
               title="battery-backup: requests over one simulated day")  # fmt: skip
        ax.legend()
        fig.tight_layout()
        fig.savefig(bench / "requests_timeline.png", dpi=90)
        plt.close(fig)
        made.append("requests_timeline.png")
    return made


HEADER = """# Benchmarks: enphase-local vs pyenphase 4.2.0

Generated by `{command}` on {date} in {elapsed:.0f} s{quick}. Do not edit by hand:
rerun the command (see README.md for the method).

{machine}

How: every figure runs in a worker process that starts its own simulator
process (`bench/simserver.py`, i.e. `simulator/fleet.py` with the control
endpoint), so client CPU and RSS contain no simulator work. Both clients read
the same simulated gateway in alternation (rounds alternate which goes
first); the simulator's clock is frozen and moved by the bench through
`/__sim__/clock`, and our client gets the same clock through `clock=`.
Medians over all rounds unless said otherwise. "pye" is pyenphase; ratio is
ours / pyenphase (below 1 is better for us, except data checked).
"""


def write_report(results: dict[str, Any], bench: Path) -> None:
    date = dt.datetime.fromtimestamp(results["started"], dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    quick = " (QUICK smoke run: fewer rounds and targets)" if results.get("quick") else ""
    lines = [
        HEADER.format(
            command=results["command"],
            date=date,
            elapsed=results.get("elapsed_s", 0),
            quick=quick,
            machine=_machine(),
        )
    ]
    if "requests" in results:
        lines += [
            "## (1) Requests per simulated hour over a simulated day (60 s interval)",
            "",
            "Ours: connect at noon (simulated), then 24 × 60 updates with the clock advanced "
            "60 s before each, so the figure holds a day and a night, local midnight, the "
            "30-minute settings, the 4-hourly identity reads and the re-probes; requests the "
            "simulator logged, per hour. The first 4 hours (deferred reads, first re-probes) "
            "are shown apart; the steady state is the mean of hours 5-24, and its worst hour is "
            "shown too. The clock is injected, nothing sleeps: the day is run once (our "
            "schedule depends on the clock alone). pyenphase: requests of each of 5 "
            "steady-state updates (clock advanced 60 s before each; it has no clock and asks "
            "the same every time: measured at noon, evening and midnight in 3 rounds) from the "
            "RequestLog, median × 60. Ratios: ours / pyenphase. Connect = every request "
            "before the first snapshot: ours' first `update()` (info, auth, probe, first "
            "snapshot; `/home` and settings come after it), pyenphase's setup + authenticate + "
            "first update (its probe). Parity: both clients read the gateway at the same frozen "
            "moment and "
            "every value pyenphase's EnvoyData holds is looked up in our snapshot (and again "
            "after an hour of our scheduled updates; results identical unless listed).",
            "",
            *_requests(results["requests"]),
            "",
        ]
    if "wall" in results:
        lines += [
            "## (2) Wall time per update, realistic latency profile",
            "",
            "`REALISTIC_LATENCY` of simulator/faults.py (production.json 0.3-1.4 s, /ivp/* "
            "0.05-0.3 s, ...). Updates one simulated minute apart; seconds. First snapshot: from "
            "creating the client to the first data (ours: `update()`, which connects; "
            "pyenphase: setup, authenticate, first update).",
            "",
            *_timing(results["wall"], "wall", 1.0, "s/update"),
            "",
        ]
    if "cpu" in results:
        lines += [
            "## (3) CPU time per update (client process, loopback, no latency)",
            "",
            "`time.process_time()` around `update()` in the client process; the simulator runs "
            "in another process. Milliseconds; 60 updates a minute apart per round, as "
            "updates really happen at a 60 s interval: pyenphase opens a new connection per "
            "update (aiohttp keeps an idle one 15 s; its idle connections are closed before "
            "each update), ours keeps its connection between updates up to 70 s apart "
            "(`net.connector`, the library's policy).",
            "",
            *_timing(results["cpu"], "cpu", 1000.0, "ms/update"),
            "",
        ]
        if "cpu_fresh" in results:
            lines += [
                "Same run, ours with a new connection per update too (the previous policy):",
                "",
                *_timing(results["cpu_fresh"], "cpu", 1000.0, "ms/update"),
                "",
            ]
    if "parse" in results:
        lines += [
            "### (3b) CPU of parsing alone, largest capture folders",
            "",
            "Ours: `SOURCES[key].parse(body)`. pyenphase: its updater's `update()` against "
            "an in-memory fake request (json_loads + model construction), after its probe on "
            "the same captures. Best of 7 batches taken in turn (theirs, ours), µs per call.",
            "",
            *_parse(results["parse"]),
            "",
        ]
    if "cold" in results:
        lines += ["## (4) Cold start", "", *_cold(results["cold"]), ""]
    if "memory" in results:
        lines += [
            "## (5) Memory",
            "",
            "One client per process (only its own library imported), battery-backup, "
            "100 updates a simulated minute apart.",
            "",
            *_memory(results["memory"]),
            "",
        ]
    if "fleet" in results:
        lines += [
            "### (5b) Fleet: one process polling N gateways (ours only)",
            "",
            "`simserver.py --fleet N` (battery-backup sites, no latency) in one process; one "
            "client process with N `Envoy` objects sharing one session, connected 8 at "
            "a time, then polling each gateway once per simulated minute, staggered over the "
            "minute. ACCELERATED unless marked 1x: a simulated minute lasts 10 real seconds "
            "(6x), ticks as in the table's run; 3,000 runs in real time (1x), since at 6x the "
            "simulator and the client overload the 2 shared cores; 'CPU % at 60 s' is client "
            "CPU seconds divided by simulated "
            "seconds, i.e. what the same work costs at a real 60 s interval. RSS includes the "
            "interpreter and imports. Connections 'keep': `gateway_session()`, the library's "
            "fleet session (connections kept between updates, 4 KiB TLS read buffers); "
            "'close': a plain aiohttp session, whose 15 s keep-alive (scaled with the "
            "acceleration) closes each connection between updates.",
            "",
            *_fleet(results["fleet"]),
            "",
        ]
    if "faults" in results:
        lines += [
            "## (6) Robustness under the same faults",
            "",
            "Each client alone against a fresh battery-backup gateway, same fault sequence. "
            "'returned data' = update() returned production data; 'fresh' = every source due "
            "in this update answered (ours: snapshot.errors empty; pyenphase: update() "
            "succeeded). Recovery: simulated seconds from the end of the (last) fault to the "
            "first fresh update. Library "
            "defaults for timeouts and retries on both sides.",
            "",
            *_faults(results["faults"]),
            "",
        ]
    plots = _plots(results, bench)
    if plots:
        lines += ["## Plots", "", *[f"![{p}]({p})" for p in plots], ""]
    notes = bench / "analysis.md"
    if notes.exists():
        lines += [notes.read_text().strip(), ""]
    (bench / "RESULTS.md").write_text("\n".join(lines) + _kept_sections(bench / "RESULTS.md"))


KEPT_MARKER = (
    "<!-- Figures below come from the other bench scripts; bench/report.py keeps them. -->"
)


def _kept_sections(path: Path) -> str:
    """The sections other bench scripts wrote (soak, live, collector, sinks), kept as is."""
    if not path.exists():
        return "\n"
    text = path.read_text()
    at = text.find(KEPT_MARKER)
    return "\n" if at < 0 else "\n\n" + text[at:]

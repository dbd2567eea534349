"""Runs the fleet figures of issue 31 items 5 and 7 and writes their section of bench/RESULTS.md.

    .venv/bin/python bench/fleet_report.py [--runs 3] [--live-n 1000] [--scale-n 10000]
        [--only live,scale] [--quick]

Each run is a fresh process (`bench/fleet_live.py`, `bench/fleet_scale.py`),
so nothing of one run's heap or connections carries into the next. The
machine is shared: the load average (`/proc/loadavg`, as `uptime` shows it)
is recorded before each run and reported beside it. `bench/run.py --only
livefleet` calls this.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from bench.common import replace_section  # noqa: E402

HEADING = "## Live at 1,000 and 10,000 per process (issue 31 items 5, 7)"


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _run(script: str, args: list[str]) -> dict[str, Any]:
    cmd = [sys.executable, str(BENCH / script), *args]
    load = _load()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or [""])[-1]  # one line: a table cell
        return {"error": f"exit {proc.returncode}: {last[:300]}", "load_before": load}
    out = json.loads(lines[0])
    out["load_before"] = load
    return out


def _mmm(runs: list[dict[str, Any]], key: str, fmt: str) -> str:
    values = sorted(float(r[key]) for r in runs if key in r)
    if not values:
        return "n/a"
    return " / ".join(format(v, fmt) for v in (values[0], statistics.median(values), values[-1]))


def _table(rows: list[list[str]], head: list[str]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def live_text(runs: list[dict[str, Any]], cmd: str) -> str:
    ok = [r for r in runs if "error" not in r]
    rows = [
        [str(i + 1), r["load_before"], str(r.get("gateways", "")), str(r.get("sim_procs", ""))]
        + (
            [f"{r['frames_per_gw_per_s_min']:.3f}", f"{r['frames_per_gw_per_s_median']:.3f}",
             str(r["gateways_under_0_98"]), f"{r['client_cpu_pct']:.1f}",
             f"{r['cpu_ms_per_frame']:.3f}", f"{r['rss_mb']:.0f}",
             "+".join(f"{c:.0f}" for c in r["sim_cpu_pct"]), str(r["errors"])]
            if "error" not in r else [r["error"][:120]] + [""] * 7
        )
        for i, r in enumerate(runs)
    ]  # fmt: skip
    head = ["run", "load before", "gateways", "sim procs", "frames/gw/s, fewest gateway",
            "frames/gw/s, median gateway", "gateways under 0.98", "client CPU % of a core",
            "CPU ms/frame", "RSS MB", "simulator CPU % each", "errors"]  # fmt: skip
    return "\n".join([
        f"(a) Live at 1 Hz: `{cmd}` ({len(runs)} runs, each a fresh process; battery-backup "
        "sites, livedata, one `gateway_session()`, listeners started spread over one second, "
        "10 s to settle, then 60 s counted).\n",
        _table(rows, head),
        f"\nmin / median / max over the runs: fewest-gateway frames/s "
        f"{_mmm(ok, 'frames_per_gw_per_s_min', '.3f')}, client CPU % "
        f"{_mmm(ok, 'client_cpu_pct', '.1f')}, CPU ms/frame {_mmm(ok, 'cpu_ms_per_frame', '.3f')}, "
        f"RSS MB {_mmm(ok, 'rss_mb', '.0f')}. pyenphase has no live reader: no ratio.",
    ])  # fmt: skip


def scale_text(runs: list[dict[str, Any]], cmd: str) -> str:
    ok = [r for r in runs if "error" not in r]
    rows = [
        [str(i + 1), r["load_before"], str(r.get("gateways", "")), str(r.get("sim_procs", ""))]
        + (
            [f"{r['updates']} / {r['expected']:.0f}", str(r["overruns"]), str(r["errors"]),
             f"{r['client_cpu_pct']:.1f}", f"{r['cpu_ms_per_update']:.2f}",
             f"{r['start_late_ms_p50']:.0f} / {r['start_late_ms_p99']:.0f}",
             f"{r['done_late_ms_p50']:.0f} / {r['done_late_ms_p99']:.0f} / "
             f"{r['done_late_ms_max']:.0f}",
             f"{r['rss_peak_mb']:.0f} / {r['rss_end_mb']:.0f}", f"{r['connect_s']:.0f}",
             "+".join(f"{c:.0f}" for c in r["sim_cpu_pct"])]
            if "error" not in r else [r["error"][:120]] + [""] * 9
        )
        for i, r in enumerate(runs)
    ]  # fmt: skip
    head = ["run", "load before", "gateways", "sim procs", "updates / due", "overruns",
            "errors", "client CPU % of a core", "CPU ms/update",
            "started late ms p50 / p99", "snapshot late ms p50 / p99 / max",
            "RSS MB peak / end", "connect all s", "simulator CPU % each"]  # fmt: skip
    return "\n".join([
        f"(b) One update a minute, real time: `{cmd}` ({len(runs)} runs, each a fresh process; "
        "battery-backup sites, one `gateway_session()`, one scheduler "
        "wheel; lateness of every update of the measured minutes against its own due time: "
        "when it started, and when its snapshot was back).\n",
        _table(rows, head),
        f"\nmin / median / max over the runs: client CPU % {_mmm(ok, 'client_cpu_pct', '.1f')}, "
        f"snapshot late p99 ms {_mmm(ok, 'done_late_ms_p99', '.0f')}, RSS peak MB "
        f"{_mmm(ok, 'rss_peak_mb', '.0f')}.",
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--live-n", type=int, default=1000)
    parser.add_argument("--scale-n", type=int, default=10000)
    parser.add_argument("--minutes", type=float, default=2.0, help="10,000: measured minutes")
    parser.add_argument("--warmup", type=float, default=2.0, help="10,000: minutes to settle")
    parser.add_argument("--only", default="live,scale")
    parser.add_argument("--connect-at-once", type=int, default=32, help="connecting at once")
    parser.add_argument("--quick", action="store_true", help="100 and 500 gateways, short")
    parser.add_argument("--notes", help="a file of notes to put under the tables")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if args.quick:
        args.live_n, args.scale_n, args.minutes, args.warmup = 100, 500, 1.0, 0.5
    live_args = ["--n", str(args.live_n)] + (["--seconds", "15"] if args.quick else [])
    scale_args = ["--n", str(args.scale_n), "--minutes", str(args.minutes)]
    scale_args += ["--connect-at-once", str(args.connect_at_once), "--warmup", str(args.warmup)]
    out = [HEADING, "", f"Generated by `bench/fleet_report.py` on "
           f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC (2 CPUs shared with other "
           "work: the load average before each run is in its row).", ""]  # fmt: skip
    results: dict[str, Any] = {}
    if "live" in only:
        runs = [_run("fleet_live.py", live_args) for _ in range(args.runs)]
        results["live"] = runs
        out += [live_text(runs, "bench/fleet_live.py " + " ".join(live_args)), ""]
    if "scale" in only:
        runs = [_run("fleet_scale.py", scale_args) for _ in range(args.runs)]
        results["scale"] = runs
        out += [scale_text(runs, "bench/fleet_scale.py " + " ".join(scale_args)), ""]
    if args.notes:
        out += [Path(args.notes).read_text().strip(), ""]
    work = BENCH / ".work"
    work.mkdir(exist_ok=True)
    (work / "fleet_report.json").write_text(json.dumps(results, indent=1))
    replace_section(HEADING, "\n".join(out))
    print(json.dumps(results))


if __name__ == "__main__":
    main()

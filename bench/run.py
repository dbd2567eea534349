#!/usr/bin/env python3
"""Benchmark enphase-local against pyenphase, side by side, and write bench/RESULTS.md.

    python3 bench/run.py            # the full benchmark (about 30 minutes on 2 cores)
    python3 bench/run.py --quick    # a short smoke run (a few minutes)

The first run creates bench/.venv (git-ignored) with pyenphase, matplotlib
and this checkout installed editable; the project's own dependencies never
include them. Every figure runs in a worker process (bench/worker.py) that
starts its own simulator process (bench/simserver.py), so client CPU and
memory are measured without the simulator in them.

This file uses the standard library only until it re-executes itself inside
bench/.venv: `--help` works anywhere, without network or venv.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
VPY = VENV / "bin" / "python"
WORK = BENCH / ".work"
PYENPHASE = "pyenphase==4.2.0"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 bench/run.py",
        description="Benchmark enphase-local against pyenphase on simulated gateways "
        "and regenerate bench/RESULTS.md (see bench/README.md).",
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument(
        "--only",
        default="requests,wall,cpu,parse,cold,memory,fleet,faults,steady",
        help="comma-separated figures to run (default: all but livefleet; livefleet = "
        "issue 31 items 5 and 7, 1,000 live and 10,000 at a minute, about 50 min)",
    )
    parser.add_argument("--no-report", action="store_true", help="do not rewrite RESULTS.md")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def ensure_venv() -> None:
    if VPY.exists():
        probe = subprocess.run(
            [str(VPY), "-c", "import pyenphase, matplotlib, enphase_local, cryptography"],
            capture_output=True,
            check=False,
        )
        if probe.returncode == 0:
            return
    print(f"setting up {VENV} (pyenphase, matplotlib, this checkout) ...", flush=True)
    if not VPY.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(VPY), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, PYENPHASE, "matplotlib", "-e", f"{ROOT}[simulator]"], check=True)


# -- inside the venv ---------------------------------------------------------------------


def worker(*args: str, timeout: float = 3600) -> dict:
    cmd = [str(VPY), str(BENCH / "worker.py"), *args]
    print("  $", " ".join(cmd[1:]), flush=True)
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, cwd=BENCH, check=False
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-1500:]}"}
    return json.loads(lines[-1])


def targets(quick: bool) -> list[str]:
    presets = ["battery-backup", "metered-3phase", "legacy-3x"]
    fixtures = Path("/work/shared/fixtures/real")
    real = sorted(p.name for p in fixtures.iterdir() if p.is_dir()) if fixtures.is_dir() else []
    if quick:
        real = real[-2:]
    return presets + [f"real/{name}" for name in real]


def run_all(opts: argparse.Namespace) -> dict:
    quick = opts.quick
    only = set(opts.only.split(","))
    rounds = "1" if quick else "3"
    out: dict = {"quick": quick, "started": time.time()}
    previous = WORK / "results.json"
    if previous.exists() and only != set(parse_args([]).only.split(",")):
        out = {**json.loads(previous.read_text()), **out}  # re-running some figures only
    if "requests" in only:
        print("(1) requests per update and per hour, and data parity", flush=True)
        out["requests"] = [
            worker("requests", "--target", t, "--rounds", rounds) for t in targets(quick)
        ]
    if "wall" in only:
        print("(2) wall time per update, realistic latency", flush=True)
        n = "3" if quick else "10"
        wall_targets = (
            ["battery-backup"] if quick else ["battery-backup", "metered-3phase", "legacy-3x"]
        )
        out["wall"] = [
            worker("wall", "--target", t, "--rounds", rounds, "--updates", n) for t in wall_targets
        ]
    if "cpu" in only:
        print("(3) CPU time per update, loopback without latency", flush=True)
        n = "10" if quick else "60"
        cpu_targets = ["battery-backup"] if quick else ["battery-backup", "metered-3phase"]
        out["cpu"] = [
            worker("cpu", "--target", t, "--rounds", rounds, "--updates", n) for t in cpu_targets
        ]
        # the previous policy for comparison: ours with a new connection per update too
        out["cpu_fresh"] = [
            worker("cpu", "--target", t, "--rounds", rounds, "--updates", n, "--fresh")
            for t in cpu_targets
        ]
    if "parse" in only:
        print("(3b) CPU of parsing alone on the largest captures", flush=True)
        cmd = [str(VPY), str(BENCH / "parsebench.py")] + (["--quick"] if quick else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=BENCH, check=False)
        lines = proc.stdout.strip().splitlines()
        out["parse"] = json.loads(lines[-1]) if lines else {"error": proc.stderr[-1500:]}
    if "cold" in only:
        print("(4) cold start", flush=True)
        from coldstart import measure

        out["cold"] = measure(VPY, VENV / "bin" / "enphase", 3 if quick else 7)
    if "memory" in only:
        print("(5) memory of one client after 100 updates", flush=True)
        out["memory"] = {
            c: worker("memory", "--client", c, "--updates", "100") for c in ("ours", "pyenphase")
        }
    if "fleet" in only:
        print("(5b) fleet: one process polling N gateways", flush=True)
        sizes = ["10", "100"] if quick else ["10", "100", "1000", "3000"]
        ticks = "2" if quick else "5"
        runs = [("keep", n) for n in sizes] + [("close", sizes[-1 if quick else 2])]
        # 8 at a time, as docs/many-sites.md advises: 50 at once left 40 MB of freed heap behind
        # 3,000 in real time: at 6x the simulator and the client share 2 cores and every
        # tick runs late, which says nothing about the client at a real 60 s interval
        out["fleet"] = [
            worker("fleet", "--n", n, "--ticks", "4" if n == "3000" else ticks,
                   "--accel", "1" if n == "3000" else "6", "--policy", policy,
                   "--connect-at-once", "8")
            for policy, n in runs
        ]  # fmt: skip
    if "faults" in only:
        print("(6) robustness under faults", flush=True)
        hang = [] if quick else ["--hang"]
        out["faults"] = {c: worker("faults", "--client", c, *hang) for c in ("ours", "pyenphase")}
    if "steady" in only:
        print("(8) steady update, first connect, first snapshot (issue 31 items 2-4)", flush=True)
        cmd = [str(VPY), str(BENCH / "steady.py"), "all", *(["--quick"] if quick else [])]
        if opts.no_report:
            cmd.append("--no-report")
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=BENCH, check=False)
        lines = proc.stdout.strip().splitlines()  # the section is written by steady.py itself
        out["steady"] = json.loads(lines[-1]) if lines else {"error": proc.stderr[-1500:]}
    if "livefleet" in only:  # its own section of RESULTS.md (bench/fleet_report.py writes it)
        print("(7d) live at 1,000 and 10,000 gateways per process", flush=True)
        cmd = [str(VPY), str(BENCH / "fleet_report.py")] + (["--quick"] if quick else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=BENCH, check=False)
        lines = proc.stdout.strip().splitlines()
        out["livefleet"] = json.loads(lines[-1]) if lines else {"error": proc.stderr[-1500:]}
    out["finished"] = time.time()
    return out


def inside(opts: argparse.Namespace) -> int:
    sys.path.insert(0, str(BENCH))
    WORK.mkdir(exist_ok=True)
    started = time.time()
    results = run_all(opts)
    results["elapsed_s"] = time.time() - started
    results["command"] = "python3 bench/run.py" + (" --quick" if opts.quick else "")
    (WORK / "results.json").write_text(json.dumps(results, indent=1, default=str))
    # livefleet alone writes only its own section (fleet_report.py): the rest stays as it is
    if not opts.no_report and set(opts.only.split(",")) - {"livefleet"}:
        from report import write_report

        write_report(results, BENCH)
        print(f"wrote {BENCH / 'RESULTS.md'}")
    return 0


def main() -> int:
    opts = parse_args()
    if opts.inside:
        return inside(opts)
    ensure_venv()
    args = [str(VPY), str(Path(__file__).resolve()), "--inside", *sys.argv[1:]]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.call(args, env=env)


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark `enphase collect` as users run it: the CLI process, N gateways, a real clock.

    .venv/bin/python bench/collector_cli.py                      1,000 gateways, 3 runs
    .venv/bin/python bench/collector_cli.py --gateways 100 --runs 1 --window 60
    ... --live on          every gateway followed live 1 Hz (what 0.x did)
    ... --write            also put the section into bench/RESULTS.md

Method, and why:

- **The real process.** `enphase collect --config FILE` is started as a user
  starts it (the venv's `enphase` script, its own HOME, its SQLite history,
  its dashboard on a free port), with nothing in-process and no clock of ours.
  `bench/collector.py` measures the library's loop in-process on a frozen
  clock; this measures what a user's machine pays.
- **The fleet** is `simserver.py` processes (`--simulators`, 250 gateways
  each by default) on a real-time clock (`--speed 1`), battery-backup sites,
  no latency; serials differ across processes (`--first`).
- **Steady state.** Once every gateway is connected (the dashboard's
  `/api/gateways`), `--warmup` seconds pass (the first ticks read the
  settings), then the window (`--window`, several update intervals): the
  collector's CPU is user + system time from /proc over the window's wall
  time (% of one core); RSS is VmRSS at the end and its maximum over the
  window; the history's growth is the logical size of its tables
  (``dbstat``, WAL included) at the window's ends, per minute.
- **The machine** is shared: its load average is recorded at each window's
  start and end; `--runs` runs give min / median / max.
- `--live` is passed to the CLI as `--live`/`--no-live` (auto: no flag, the
  config's default, and no dashboard client connects, as on a server nobody
  watches).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import replace_section

BENCH = Path(__file__).resolve().parent
CLK = os.sysconf("SC_CLK_TCK")
HEADING = "## Collector as users run it (issue 31 item 1)"


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _history_bytes(db: Path) -> tuple[int, int]:
    """Logical bytes of every table and index (WAL included), and power sample rows."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as c:
        size = c.execute("SELECT SUM(pgsize) FROM dbstat").fetchone()[0] or 0
        rows = c.execute("SELECT COUNT(*) FROM power_samples").fetchone()[0]
    return int(size), int(rows)


@contextlib.contextmanager
def _simulators(n: int, procs: int, tmp: Path) -> Iterator[tuple[list[dict[str, Any]], list[int]]]:
    """`procs` simserver processes serving `n` gateways in all on a real-time clock."""
    started: list[subprocess.Popen[bytes]] = []
    manifests = []
    per = -(-n // procs)
    try:
        for k in range(procs):
            count = min(per, n - k * per)
            if count <= 0:
                break
            manifest = tmp / f"sim{k}.json"
            manifests.append(manifest)
            started.append(
                subprocess.Popen(
                    [
                        *(sys.executable, str(BENCH / "simserver.py"), "--manifest", str(manifest)),
                        *("--fleet", str(count), "--first", str(k * per), "--speed", "1"),
                        *("--start", str(time.time()), "--tokens", "--latency", "none"),
                    ],
                    stdout=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + 600
        while not all(m.exists() for m in manifests):
            if any(p.poll() is not None for p in started):
                raise RuntimeError("a simulator exited")
            if time.monotonic() > deadline:
                raise RuntimeError("the simulators did not start")
            time.sleep(0.5)
        gateways = [g for m in manifests for g in json.loads(m.read_text())]
        yield gateways, [p.pid for p in started]
    finally:
        for proc in started:
            proc.terminate()
        for proc in started:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _config(gateways: list[dict[str, Any]], tmp: Path, interval: float) -> Path:
    lines = ["[collect]", f"interval = {interval:g}", f'db = "{tmp / "history.db"}"', "port = 0"]
    for g in gateways:
        lines += ["", "[[gateway]]", f'name = "{g["serial"]}"', f'host = "{g["https_host"]}"']
        if g.get("token"):  # simserver.py --tokens: token-scheme gateways only
            lines.append(f'token = "{g["token"]}"')
    path = tmp / "collect.toml"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)  # it holds tokens
    return path


def _dashboard(err: Path, proc: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for line in err.read_text().splitlines():
            if "enphase collect: dashboard: " in line:
                return line.split("dashboard: ", 1)[1].split()[0]
        if proc.poll() is not None:
            raise RuntimeError(f"enphase collect exited: {err.read_text()[-2000:]}")
        time.sleep(0.5)
    raise RuntimeError("enphase collect never announced its dashboard")


def _connected(url: str) -> int:
    with urllib.request.urlopen(url + "api/gateways", timeout=60) as resp:
        doc = json.load(resp)
    return sum(1 for g in doc["gateways"] if g["state"] == "connected")


def one_run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="enphase-bench-collect-"))
    with _simulators(args.gateways, args.simulators, tmp) as (gateways, sim_pids):
        config = _config(gateways, tmp, args.interval)
        flag = {"on": ["--live"], "off": ["--no-live"], "auto": []}[args.live]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENPHASE_")}
        env |= {"HOME": str(tmp), "XDG_DATA_HOME": str(tmp / "data")}
        err = tmp / "collect.err"
        enphase = Path(sys.executable).parent / "enphase"
        with err.open("w") as stderr:
            proc = subprocess.Popen(
                [str(enphase), "collect", "--config", str(config), *flag],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=env,
            )
        try:
            url = _dashboard(err, proc)
            t0 = time.monotonic()
            while (ok := _connected(url)) < args.gateways:
                if time.monotonic() - t0 > 900 or proc.poll() is not None:
                    raise RuntimeError(f"only {ok} of {args.gateways} connected")
                time.sleep(2)
            connect_s = time.monotonic() - t0
            time.sleep(args.warmup)  # steady state: a wall-clock window is what is measured
            load0 = os.getloadavg()
            bytes0, rows0 = _history_bytes(tmp / "history.db")
            cpu0, sim0 = _cpu_s(proc.pid), sum(_cpu_s(p) for p in sim_pids)
            w0 = time.monotonic()
            rss_max = 0.0
            while time.monotonic() - w0 < args.window:
                time.sleep(min(5.0, args.window - (time.monotonic() - w0)))
                rss_max = max(rss_max, _rss_mb(proc.pid))
            wall = time.monotonic() - w0
            cpu, sim = _cpu_s(proc.pid) - cpu0, sum(_cpu_s(p) for p in sim_pids) - sim0
            bytes1, rows1 = _history_bytes(tmp / "history.db")
            load1 = os.getloadavg()
            rss = _rss_mb(proc.pid)
            connected = _connected(url)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    minutes = wall / 60
    growth = (bytes1 - bytes0) / minutes
    return {
        "gateways": args.gateways,
        "connected_at_end": connected,
        "interval_s": args.interval,
        "live": args.live,
        "connect_all_s": connect_s,
        "window_s": wall,
        "cpu_pct": 100 * cpu / wall,
        "sim_cpu_pct": 100 * sim / wall,
        "rss_mb": rss,
        "rss_max_mb": rss_max,
        "history_mb_per_min": growth / 1e6,
        "history_kb_per_gateway_day": growth * 1440 / args.gateways / 1e3,
        "power_rows_per_min": (rows1 - rows0) / minutes,
        "load": [round(x, 2) for x in (*load0, *load1)],
    }


def _stats(runs: list[dict[str, Any]], key: str, fmt: str) -> str:
    values = [r[key] for r in runs]
    return " / ".join(format(v, fmt) for v in (min(values), statistics.median(values), max(values)))


def render(results: dict[str, Any]) -> str:
    lines = [
        HEADING,
        "",
        f"`bench/collector_cli.py` (commands below; last run {results['when']} UTC), "
        "2 cores shared with other sessions. "
        "The real `enphase collect --config FILE` process (own HOME, SQLite history, "
        "dashboard) reading battery-backup sites served by several `simserver.py` processes "
        "(`--simulators`, in the commands) on a real-time clock, no latency. "
        "After every gateway connected and a warm-up, a window of several intervals: CPU is "
        "the process's user + system time over wall time (% of one core), RSS at the end "
        "(and the window's maximum), history growth the SQLite tables' logical size "
        "(`dbstat`, WAL included). Method in `bench/collector_cli.py`. Values are "
        "min / median / max over the runs.",
        "",
        "| gateways | interval | live | runs | CPU % of a core | RSS MB (max) | history MB/min "
        "| history KB per gateway per day | power rows/min | connect all (s) "
        "| load avg 1/5/15 min (window start) |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for group in results["groups"]:
        runs = group["runs"]
        loads = "; ".join("/".join(f"{x:.1f}" for x in r["load"][:3]) for r in runs)
        lines.append(
            f"| {runs[0]['gateways']} | {runs[0]['interval_s']:g} s | {runs[0]['live']} "
            f"| {len(runs)} | {_stats(runs, 'cpu_pct', '.1f')} "
            f"| {_stats(runs, 'rss_mb', '.0f')} ({max(r['rss_max_mb'] for r in runs):.0f}) "
            f"| {_stats(runs, 'history_mb_per_min', '.3f')} "
            f"| {_stats(runs, 'history_kb_per_gateway_day', '.0f')} "
            f"| {_stats(runs, 'power_rows_per_min', '.0f')} "
            f"| {_stats(runs, 'connect_all_s', '.0f')} | {loads} |"
        )
    commands = [g.get("command", results.get("command", "")) for g in results["groups"]]
    lines += ["", "Commands: " + "; ".join(f"`{c}`" for c in commands), ""]
    for remark in results.get("remarks", []):
        lines += [remark, ""]
    lines += results.get("notes", [])
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--gateways", type=int, default=1000)
    parser.add_argument("--simulators", type=int, default=4, help="simulator processes")
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--live", choices=["auto", "on", "off"], default="auto")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds after connecting")
    parser.add_argument("--window", type=float, default=180.0, help="seconds measured")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--json", type=Path, help="add this run's group to that JSON file")
    parser.add_argument("--render", action="store_true", help="no run: render --json only")
    parser.add_argument("--day-json", type=Path, help="collector_day.py's figures, shown too")
    parser.add_argument("--note", action="append", help="a paragraph under the table (kept)")
    args = parser.parse_args()
    results: dict[str, Any] = {"groups": []}
    if args.json is not None and args.json.exists():
        results = json.loads(args.json.read_text())
    if not args.render:
        runs = []
        for _ in range(args.runs):
            result = one_run(args)
            print(json.dumps(result), file=sys.stderr, flush=True)
            runs.append(result)
        key = (args.gateways, args.live)
        results["groups"] = [
            g for g in results["groups"] if (g["runs"][0]["gateways"], g["runs"][0]["live"]) != key
        ] + [{"runs": runs, "command": "python bench/collector_cli.py " + " ".join(sys.argv[1:])}]
        results["when"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
        results["simulators"] = args.simulators
    if args.note:
        results["remarks"] = args.note
    if args.day_json is not None and args.day_json.exists():
        from collector_day import render as day_table

        results["notes"] = day_table(json.loads(args.day_json.read_text()))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1))
    text = render(results)
    print(text)
    if args.write:
        replace_section(HEADING, text)


if __name__ == "__main__":
    main()

"""One-shot commands against a simulated token-firmware gateway with realistic latency.

Why: a one-shot command (``enphase meters HOST``) pays the whole probe on
every run. This script runs the real `enphase` command in a subprocess
against ``enphase simulate --latency realistic`` (another process, real
sockets) and reports, per run, the wall time and the requests the simulator
logged (`/__sim__/log`). The probe cache lives in a fresh token-store
folder, so the first run of each command is cold and the second warm.

    python3 bench/oneshot.py [--preset battery-backup] [--commands meters,read] [--runs 2]
    python3 bench/oneshot.py --src /tmp/base/src    # the same against another checkout

Run it with a Python that has the ``cli`` and ``simulator`` extras (the
project's ``.venv``): it starts the command and the simulator with itself.
Wall times include the simulated latency (that is the point) and whatever
else the machine is doing: compare runs of the same invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _control(url: str, path: str, method: str = "GET") -> dict[str, object]:
    request = urllib.request.Request(
        url + "/__sim__" + path, method=method, data=b"" if method == "POST" else None
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(json.loads(answer.read()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="battery-backup")
    parser.add_argument("--commands", default="meters,read")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--src", default=str(ROOT / "src"), help="the package to run (a baseline)")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": args.src}
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "manifest.json"
        sim = subprocess.Popen(
            [sys.executable, "-m", "enphase_local.cli.app", "simulate", "--preset", args.preset,
             "--latency", "realistic", "--speed", "0", "--manifest", str(manifest)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(200):
                if manifest.exists() and manifest.stat().st_size:
                    break
                time.sleep(0.1)
            listed = json.loads(manifest.read_text())
            gateway = listed[0] if isinstance(listed, list) else listed["gateways"][0]
            control, host, token = gateway["http_url"], gateway["https_url"], gateway["owner_token"]
            for command in args.commands.split(","):
                store = Path(tmp) / f"store-{command}" / "tokens.json"
                run_env = {
                    **env,
                    "ENPHASE_TOKEN_STORE": str(store),
                    "ENPHASE_CONFIG": str(Path(tmp) / "none.toml"),
                }
                for run in range(1, args.runs + 1):
                    _control(control, "/log/reset", "POST")
                    started = time.perf_counter()
                    argv = [
                        "-m",
                        "enphase_local.cli.app",
                        command,
                        host,
                        "--token",
                        token,
                        "--json",
                    ]
                    done = subprocess.run(
                        [sys.executable, *argv], env=run_env, capture_output=True, text=True,
                        check=False,
                    )  # fmt: skip
                    wall = time.perf_counter() - started
                    log = _control(control, "/log?entries=0")
                    counts = log.get("counts") or {}
                    assert isinstance(counts, dict)
                    total = sum(int(v) for v in counts.values())
                    paths = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                    print(
                        f"{command:9} run {run}: exit {done.returncode}, {wall:5.1f} s, "
                        f"{total:3} requests: {paths}"
                    )
                    if done.returncode:
                        print(done.stderr[-2000:])
        finally:
            sim.terminate()
            sim.wait(10)


if __name__ == "__main__":
    main()

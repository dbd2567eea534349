"""Shared bench helpers: the simulator process, its control endpoint, both clients, numbers.

Control calls (clock, log, faults, tokens) go over the simulator's private
``/__sim__/`` endpoint with urllib, synchronously and outside every timed
region, so they never count as client time.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
FIXTURES = Path("/work/shared/fixtures/real")
NOON = 1_781_546_400.0


class Gateway:
    """One simulated gateway of the simulator process, seen through its manifest entry."""

    def __init__(self, entry: dict[str, Any]) -> None:
        self.entry = entry
        self.serial: str = entry["serial"]
        self.firmware: str = entry["firmware"]
        self.control = entry["http_url"] + "/__sim__"
        self.tokens = entry["token_scheme"] == "token"
        self.now = NOON

    def _call(self, path: str, data: dict[str, Any] | None = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request(
            self.control + path, data=body, method="POST" if body else "GET"
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return raw.decode() if path == "/tokens" else json.loads(raw)

    def set_time(self, when: float) -> None:
        self.now = when
        self._call("/clock", {"set": when})

    def advance(self, seconds: float) -> None:
        self.set_time(self.now + seconds)

    def clock(self) -> float:
        """The client's clock: the same simulated time the gateway has."""
        return self.now

    def token(self) -> str:
        return str(self._call("/tokens", {"role": "owner"}))

    def counts(self) -> dict[str, int]:
        return dict(self._call("/log?entries=0")["counts"])

    def count(self) -> int:
        return sum(self.counts().values())

    def log(self) -> dict[str, Any]:
        return dict(self._call("/log"))

    def reset_log(self) -> None:
        self._call("/log/reset", {})

    def faults(self, *specs: str, reset: bool = False) -> None:
        self._call("/faults", {"specs": list(specs), "reset": reset})

    # -- clients ----------------------------------------------------------------------

    def ours(self, **kwargs: Any) -> Any:
        from enphase_local.client import Envoy

        kwargs.setdefault("clock", self.clock)
        if self.tokens:
            return Envoy(self.entry["https_host"], token=self.token(), **kwargs)
        return Envoy(self.entry["http_host"], **kwargs)

    async def pyenphase(self, **kwargs: Any) -> Any:
        """A set-up, authenticated pyenphase Envoy (its documented sequence)."""
        from pyenphase import Envoy

        if self.tokens:
            env = Envoy(self.entry["https_host"], **kwargs)
            await env.setup()
            await env.authenticate(token=self.token())
        else:
            # pyenphase tries https://host/info then http://host/info on the same port;
            # legacy firmware is plain HTTP, so it gets the HTTP port.
            env = Envoy(self.entry["http_host"], **kwargs)
            await env.setup()
            await env.authenticate(username="envoy", password=self.entry["passwords"]["envoy"])
        return env


class Sim:
    """``with Sim(preset=..., fleet=N) as sim: sim.gateways[0]``: a simulator subprocess."""

    def __init__(
        self,
        preset: str | None = "battery-backup",
        *,
        fixtures: Path | None = None,
        fleet: int = 1,
        latency: str = "none",
        hang: str | None = None,
    ) -> None:
        self.args = ["--fleet", str(fleet), "--latency", latency]
        if fixtures is not None:
            self.args += ["--fixtures", str(fixtures)]
        elif preset is not None:
            self.args += ["--preset", preset]
        if hang:
            self.args += ["--hang", hang]
        self.proc: subprocess.Popen[bytes] | None = None
        self.gateways: list[Gateway] = []

    def __enter__(self) -> Sim:
        tmp = Path(tempfile.mkdtemp(prefix="enphase-bench-"))
        manifest = tmp / "manifest.json"
        self.proc = subprocess.Popen(
            [sys.executable, str(BENCH / "simserver.py"), "--manifest", str(manifest), *self.args],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while not manifest.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"simulator exited with {self.proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("simulator did not start")
            time.sleep(0.1)
        self.gateways = [Gateway(e) for e in json.loads(manifest.read_text())]
        manifest.unlink()
        tmp.rmdir()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def gateway(self) -> Gateway:
        return self.gateways[0]

    def cpu_seconds(self) -> float:
        """CPU the simulator process has used (user + system), from /proc."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_frame(at: float, i: int) -> Any:
    """A synthetic 1 Hz live frame (site and two phases) of second `i`: history size benches."""
    from enphase_local.models.live_frame import LiveFrame, LivePhase

    phase = LivePhase(solar_watts=1000.0 + i % 60, house_watts=500.0 + i % 60, grid_watts=-500.0)
    return LiveFrame(
        taken_at=at,
        source="bench",
        solar_watts=2000.0 + i % 97,
        house_watts=900.0 + i % 13,
        grid_watts=-1100.0 + i % 7,
        battery_watts=0.0,
        soc_percent=55.0,
        phases={"L1": phase, "L2": phase},
    )


def rss_mb() -> float:
    """Resident set size of this process, MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def emit(result: Any) -> None:
    """Workers print exactly one JSON document on stdout's last line."""
    sys.stdout.write(json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


def replace_section(heading: str, text: str) -> None:
    """Put `text` into bench/RESULTS.md in place of the section titled `heading` (or append it).

    The section runs from `heading` to the next ``## `` heading; the other
    sections stay as they are.
    """
    path = BENCH / "RESULTS.md"
    current = path.read_text() if path.exists() else ""
    if heading in current:
        head, _, tail = current.partition(heading)
        rest = tail.split("\n## ", 1)
        current = head.rstrip() + "\n\n" + (("## " + rest[1]) if len(rest) > 1 else "")
    path.write_text(current.rstrip() + "\n\n" + text)

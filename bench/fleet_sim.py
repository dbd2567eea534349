"""A simulated fleet spread over several simulator processes (`bench/simserver.py`).

Why several: one simulator process serving 1,000 gateways at 1 Hz (or
10,000 at one update a minute, with their TLS handshakes) is itself near a
full core, and then the bench measures the simulator's queue rather than the
client. Split over `procs` processes the serving spreads over the machine's
cores and the client's figures are its own. Serials stay unique across the
processes (`--first`), and each process writes an owner token per gateway
into its manifest (`--tokens`), so 10,000 gateways need no control calls.

    with SimFleet(1000, procs=4) as fleet:
        fleet.entries[i]["https_host"], fleet.entries[i]["token"], fleet.cpu_seconds()
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

BENCH = Path(__file__).resolve().parent


def default_procs(n: int) -> int:
    """One simulator process per 2,500 gateways, at least 2 (the machine has 2 cores)."""
    return max(2, -(-n // 2500))


class _Connects(Protocol):
    async def connect(self) -> Any: ...


async def connect_all(envs: list[Any], at_once: int) -> float:
    """Connect every client, `at_once` at a time; the seconds it took.

    Not all at once: 50 at once instead of 8 left about 40 MB of freed heap
    behind at 1,000 gateways (bench/README.md). A gateway that fails to
    connect (a timeout on a loaded machine) is connected again by its first
    update: one failure must not end a run of 10,000; how many failed is
    printed on stderr.
    """
    gate = asyncio.Semaphore(at_once)

    async def one(env: _Connects) -> None:
        async with gate:
            await env.connect()

    started = time.perf_counter()
    results = await asyncio.gather(*(one(e) for e in envs), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        print(f"{len(failed)} of {len(envs)} failed to connect: {failed[0]!r}", file=sys.stderr)
    return time.perf_counter() - started


class SimFleet:
    """``with SimFleet(n, procs=k) as fleet``: n gateways over k simulator subprocesses."""

    def __init__(
        self,
        n: int,
        *,
        procs: int | None = None,
        preset: str = "battery-backup",
        latency: str = "none",
        speed: float = 0.0,
    ) -> None:
        self.n = n
        self.procs = min(n, procs or default_procs(n))
        self.preset, self.latency, self.speed = preset, latency, speed
        self._popen: list[subprocess.Popen[bytes]] = []
        self.entries: list[dict[str, Any]] = []

    def _chunks(self) -> list[tuple[int, int]]:
        base, extra = divmod(self.n, self.procs)
        out, first = [], 0
        for p in range(self.procs):
            size = base + (1 if p < extra else 0)
            out.append((first, size))
            first += size
        return out

    def __enter__(self) -> SimFleet:
        tmp = Path(tempfile.mkdtemp(prefix="enphase-fleet-"))
        manifests = []
        try:
            for p, (first, size) in enumerate(self._chunks()):
                manifest = tmp / f"m{p}.json"
                manifests.append(manifest)
                cmd = [sys.executable, str(BENCH / "simserver.py"), "--manifest", str(manifest)]
                cmd += ["--fleet", str(size), "--first", str(first), "--preset", self.preset]
                cmd += ["--latency", self.latency, "--speed", str(self.speed), "--tokens"]
                self._popen.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL))
            deadline = time.monotonic() + 600
            parts: list[list[dict[str, Any]]] = []
            for manifest, proc in zip(manifests, self._popen, strict=True):
                while not manifest.exists():
                    if proc.poll() is not None:
                        raise RuntimeError(f"simulator exited with {proc.returncode}")
                    if time.monotonic() > deadline:
                        raise RuntimeError("simulator did not start")
                    time.sleep(0.1)
                parts.append(json.loads(manifest.read_text()))
                manifest.unlink()
            # interleaved: neighbours in the list (connected together, due together) are
            # served by different processes, so every process shares every phase of the run
            self.entries = [e for row in itertools.zip_longest(*parts) for e in row if e]
        except BaseException:
            self.__exit__()
            raise
        finally:
            if not any(tmp.iterdir()):
                tmp.rmdir()
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self._popen:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._popen:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def cpu_seconds(self) -> list[float]:
        """CPU each simulator process has used (user + system), from /proc."""
        out = []
        for proc in self._popen:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            out.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
        return out

    def control(self, index: int, path: str, data: dict[str, Any] | None = None) -> Any:
        """One call to gateway `index`'s ``/__sim__`` endpoint (outside timed regions)."""
        import urllib.request

        body = None if data is None else json.dumps(data).encode()
        url = self.entries[index]["http_url"] + "/__sim__" + path
        req = urllib.request.Request(url, data=body, method="POST" if body else "GET")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def set_time(self, when: float) -> None:
        """Move every process's clock (one gateway per process: they share a clock each)."""
        for p in range(self.procs):
            self.control(p, "/clock", {"set": when})

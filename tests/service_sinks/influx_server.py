"""A real InfluxDB 1.x server of the tests' own: ``influxd`` with a config in a temporary directory.

Debian's ``influxdb`` package (1.6.7) gives ``/usr/bin/influxd``; each server
binds its RPC and HTTP ports to free ports on 127.0.0.1 with its data in a
temporary folder, never the system's server. A test may stop and restart it
on the same ports and data (`stop`, `start`). `query` asks InfluxQL over
``/query`` and returns the rows of the first series as dictionaries.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from .services import end_process, free_ports

__all__ = ["InfluxServer", "find_influxd"]


def find_influxd() -> str | None:
    return shutil.which("influxd") or shutil.which("influxd", path="/usr/bin:/usr/sbin")


class InfluxServer:
    """One ``influxd`` on free loopback ports, its data in a temporary directory."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port, self.rpc_port = free_ports(2)
        self.dir = Path(tempfile.mkdtemp(prefix="enphase-influx-"))
        self.config = self.dir / "influxdb.conf"
        self.config.write_text(
            "reporting-disabled = true\n"
            f'bind-address = "127.0.0.1:{self.rpc_port}"\n'
            f'[meta]\n  dir = "{self.dir}/meta"\n'
            f'[data]\n  dir = "{self.dir}/data"\n  wal-dir = "{self.dir}/wal"\n'
            "  query-log-enabled = false\n"
            f'[http]\n  bind-address = "127.0.0.1:{self.port}"\n  log-enabled = false\n'
            "[monitor]\n  store-enabled = false\n"
            "[continuous_queries]\n  enabled = false\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.dir / "influxd.log").open("ab")
        self.proc = subprocess.Popen(
            [self.binary, "-config", str(self.config)], stdout=log, stderr=log
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"influxd exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=1) as resp:
                    if resp.status == 204:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("influxd did not answer /ping within 30 s")

    def stop(self) -> None:
        if self.proc is not None:
            end_process(self.proc, 10)
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def query(self, db: str, q: str) -> list[dict[str, Any]]:
        """The rows of every series of an InfluxQL query, tags merged into each row."""
        params = urllib.parse.urlencode({"db": db, "q": q, "epoch": "s"})
        with urllib.request.urlopen(f"{self.url}/query?{params}", timeout=10) as resp:
            body = json.loads(resp.read())
        rows: list[dict[str, Any]] = []
        for result in body.get("results", []):
            if "error" in result:
                raise RuntimeError(result["error"])
            for series in result.get("series", []):
                tags = series.get("tags", {})
                for values in series["values"]:
                    rows.append({**tags, **dict(zip(series["columns"], values, strict=True))})
        return rows

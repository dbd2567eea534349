"""Real services for the sink tests: a Mosquitto broker and a PostgreSQL cluster.

Each is started from the installed binaries in a temporary directory on a
free port (a few seconds for PostgreSQL: the fixtures are session-scoped),
unless ``ENPHASE_TEST_MQTT_URL`` / ``ENPHASE_TEST_POSTGRES_DSN`` name a
running one. When neither is possible the test skips with a one-line
reason, except under ``CI=true`` where it fails: CI must run them
(`.ci/services.sh` installs the binaries).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = [
    "Broker",
    "PgCluster",
    "end_process",
    "find_pg_bin",
    "free_port",
    "mosquitto_binary",
    "own_broker",
    "unavailable",
]


def unavailable(reason: str) -> None:
    """Skip with `reason`, or fail under CI where every service test must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: service tests must run; see .ci/services.sh)")
    pytest.skip(reason)


def mosquitto_binary(why: str) -> str:
    """The installed mosquitto, or a skip (a CI failure) saying `why` a test needs it."""
    binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
    if binary is None:
        unavailable(f"mosquitto is not installed: {why}")
    assert binary is not None
    return binary


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports on 127.0.0.1, chosen together.

    Chosen one at a time (bound, closed, bound again), the kernel hands out
    the same port again about one time in three: a server given two such
    ports (influxd's HTTP and RPC) then fails to start.
    """
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]


def wait_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


def end_process(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM, then SIGKILL after `grace_s`: a test's own server, by its handle."""
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Broker:
    """A Mosquitto broker of our own on a fixed free port, which a test may stop and restart."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="enphase-mqtt-"))
        self.dir.chmod(0o755)
        self.config = self.dir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "log_dest none\n"
        )
        self.config.chmod(0o644)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            end_process(self.proc, 5)
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def own_broker(why: str) -> Iterator[Broker]:
    """A Mosquitto of the test's own, started, closed after; `why` is the skip reason."""
    broker = Broker(mosquitto_binary(why))
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


def find_pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin directory (Debian layout), or PATH's initdb."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


class PgCluster:
    """A throwaway PostgreSQL cluster: initdb + pg_ctl in a temporary directory on a free port.

    initdb refuses to run as root, so as root the cluster belongs to the
    ``postgres`` user (run through ``runuser``).
    """

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="enphase-pg-"))
        self.data = self.dir / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres", "postgres")

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.as_user, *args], capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip()[-500:]}")

    def start(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        options = f"-p {self.port} -h 127.0.0.1 -k {self.dir} -F -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )

    def close(self) -> None:
        if self.data.exists():
            try:
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

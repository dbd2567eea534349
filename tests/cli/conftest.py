"""Fixtures for the `enphase` command: simulated gateways in a background thread.

The commands run their own event loop (`asyncio.run`), so the simulator
lives on another loop in a daemon thread, over real sockets on 127.0.0.1.
Every test gets an empty environment: no config file, a private token store.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result

from enphase_local.cli.app import cli
from enphase_local.firmware import Firmware
from enphase_local.simulator import ReplayBackend, SimClock, SimulatedGateway, SiteBackend

T = TypeVar("T")

# 2026-06-15 18:00 UTC: daylight in the presets' time zones
NOON = 1_781_546_400.0


class SimThread:
    """One simulated gateway served from its own event loop in a thread."""

    def __init__(self, preset: str | None = None, *, folder: Path | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.gw: SimulatedGateway = self.run(self._start(preset, folder))

    async def _start(self, preset: str | None, folder: Path | None) -> SimulatedGateway:
        clock = SimClock(start=NOON, speed=0)
        backend: ReplayBackend | SiteBackend
        if folder is not None:
            backend = ReplayBackend(folder)
        else:
            assert preset is not None
            backend = SiteBackend.from_preset(preset, clock=clock, seed=1)
        gw = SimulatedGateway(backend, clock=clock)
        await gw.start()
        return gw

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def call(self, func: Callable[[], T]) -> T:
        """Run `func` on the simulator's loop (fault knobs are not thread-safe)."""

        async def wrapper() -> T:
            return func()

        return self.run(wrapper())

    def close(self) -> None:
        self.run(self.gw.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    @property
    def host(self) -> str:
        """What a user would type: HTTPS from firmware 7, HTTP before."""
        tokens = Firmware.parse(self.gw.firmware).uses_tokens
        return self.gw.https_url if tokens else self.gw.http_url

    def token(self, valid_for_s: float | None = None) -> str:
        return self.call(lambda: self.gw.owner_token(valid_for_s))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No ENPHASE_* from the developer's shell, no real config file or token store."""
    import os

    for name in list(os.environ):
        if name.startswith("ENPHASE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ENPHASE_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("ENPHASE_DISCOVER_TIMEOUT", "0")  # tests that discover set it
    monkeypatch.setenv("ENPHASE_TOKEN_STORE", str(tmp_path / "store" / "tokens.json"))
    return tmp_path


def _sim(preset: str) -> Iterator[SimThread]:
    sim = SimThread(preset)
    try:
        yield sim
    finally:
        sim.close()


@pytest.fixture(scope="module")
def battery() -> Iterator[SimThread]:
    yield from _sim("battery-backup")


@pytest.fixture(scope="module")
def three_phase() -> Iterator[SimThread]:
    yield from _sim("metered-3phase")


@pytest.fixture(scope="module")
def legacy() -> Iterator[SimThread]:
    yield from _sim("legacy-3x")


@pytest.fixture
def fresh_battery() -> Iterator[SimThread]:
    """A gateway of its own, for tests that inject faults."""
    yield from _sim("battery-backup")


def enphase(*args: str, input: str | None = None) -> Result:
    """Run `enphase ARGS` in-process; stdout and stderr kept apart."""
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per skip reason, with its count (e.g. when ../shared is absent).

    Without it a run says only "N skipped", and nobody knows that the real
    captures were never read.
    """
    import collections

    reasons: collections.Counter[str] = collections.Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else "?"
        reasons[str(reason).removeprefix("Skipped: ")] += 1
    if reasons:
        terminalreporter.write_line("skipped, by reason:")
        for reason, count in reasons.most_common():
            terminalreporter.write_line(f"  {count:4d}  {reason}")

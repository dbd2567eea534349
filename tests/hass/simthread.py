"""A simulated gateway on its own thread and event loop, for tests inside Home Assistant.

Why a thread: Home Assistant's test harness owns the event loop, flags
blocking calls in it (loading the simulator's TLS certificate is one) and
checks that nothing lingers after a test. The simulator serves real HTTP(S)
on 127.0.0.1 from its own loop, exactly as `enphase simulate` would from
another process, and `stop()` joins the thread before the harness looks.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from enphase_local.client import Envoy
from enphase_local.models.snapshot import Snapshot
from enphase_local.simulator import SimClock, SimulatedGateway, SiteBackend

T = TypeVar("T")

# 2026-06-15 18:00 UTC: daylight in the presets' time zones (as tests/simkit.py)
NOON = 1_781_546_400.0


class SimThread:
    """``sim = SimThread("battery-backup"); sim.start(); ...; sim.stop()``."""

    def __init__(self, preset: str, *, seed: int = 1, clock: SimClock | None = None) -> None:
        """`clock`: frozen at `NOON` unless given (a collector process wants real time)."""
        self.preset, self.seed = preset, seed
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=f"sim-{preset}")
        self.gw: SimulatedGateway | None = None
        self.clock = clock if clock is not None else SimClock(start=NOON, speed=0)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        fut: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout)

    def call(self, fn: Callable[[], T]) -> T:
        async def wrap() -> T:
            return fn()

        return self.run(wrap())

    def start(self) -> SimulatedGateway:
        self.thread.start()

        async def up() -> SimulatedGateway:
            backend = SiteBackend.from_preset(self.preset, clock=self.clock, seed=self.seed)
            gw = SimulatedGateway(backend, clock=self.clock)
            await gw.start()
            return gw

        self.gw = self.run(up())
        return self.gw

    def stop(self) -> None:
        """Stop serving and join the thread (again: nothing)."""
        if self.loop.is_closed():
            return
        if self.gw is not None:
            gw, self.gw = self.gw, None

            async def down() -> None:
                await gw.stop()
                # let the closed connections' TLS transports finish closing in this loop, so
                # none is collected after the loop is gone (asyncio then warns from __del__)
                for _ in range(20):
                    await asyncio.sleep(0)

            self.run(down())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    @property
    def host(self) -> str:
        assert self.gw is not None
        return self.gw.https_host

    def token(self) -> str:
        assert self.gw is not None
        return self.gw.owner_token()

    def snapshot(self) -> Snapshot:
        """What the library itself reads from the simulator now (the expected values)."""
        gw = self.gw
        assert gw is not None

        async def read() -> Snapshot:
            async with Envoy(gw.https_host, token=gw.owner_token()) as envoy:
                await envoy.update()
                return await envoy.update()

        return self.run(read())

"""Start simulated gateways for client tests: real sockets on 127.0.0.1, a frozen clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from enphase_local.client import Envoy
from enphase_local.firmware import Firmware
from enphase_local.simulator import Backend, ReplayBackend, SimClock, SimulatedGateway, SiteBackend

# 2026-06-15 18:00 UTC: daylight in the presets' time zones (US and Europe)
NOON = 1_781_546_400.0


@asynccontextmanager
async def gateway(
    preset: str | None = None, *, folder: Path | None = None, start: float = NOON, seed: int = 1
) -> AsyncIterator[tuple[SimulatedGateway, SimClock]]:
    clock = SimClock(start=start, speed=0)
    backend: Backend
    if folder is not None:
        backend = ReplayBackend(folder)
    else:
        assert preset is not None
        backend = SiteBackend.from_preset(preset, clock=clock, seed=seed)
    async with SimulatedGateway(backend, clock=clock) as gw:
        yield gw, clock


def envoy_for(gw: SimulatedGateway, clock: SimClock, **kwargs: Any) -> Envoy:
    """An Envoy with the credentials its firmware wants (token from 7, digest before)."""
    if Firmware.parse(gw.firmware).uses_tokens:
        kwargs.setdefault("token", gw.owner_token())
        return Envoy(gw.https_host, clock=clock, **kwargs)
    return Envoy(gw.http_host, clock=clock, **kwargs)

"""A gateway simulator: a real HTTP(S) server that behaves like Enphase gateways.

The names below are the simulator's stable entry points (tests, the demo, the
benchmarks and the service's ``--demo`` use them); its modules may move.
Inside: `serve/` answers HTTP (host, auth personalities, faults, control
routes, stream, cloud emulation), `site/` is the physical site (config,
presets, physics, writes), `views/` renders endpoint bodies from a site's
state, and `backend.SiteBackend` / `replay.ReplayBackend` join them to the
`contract.Backend` seam.

    clock = SimClock(start=..., speed=0)
    backend = SiteBackend.from_preset("battery", clock=clock)
    async with SimulatedGateway(backend, clock=clock) as gw:
        ...  # gw.https_host, gw.owner_token(), gw.log
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backend import SiteBackend
    from .clock import SimClock
    from .contract import Backend
    from .fleet import SimulatedFleet
    from .replay import ReplayBackend
    from .serve.faults import NO_LATENCY, REALISTIC_LATENCY, Faults, LatencyProfile
    from .serve.gateway import SimulatedGateway
    from .site.config import SiteConfig
    from .site.load import load_site
    from .site.presets import PRESETS

# Loaded on first use: importing one simulator module must not start aiohttp and TLS.
_LAZY = {
    "Backend": "contract",
    "Faults": "serve.faults",
    "LatencyProfile": "serve.faults",
    "NO_LATENCY": "serve.faults",
    "PRESETS": "site.presets",
    "REALISTIC_LATENCY": "serve.faults",
    "ReplayBackend": "replay",
    "SimClock": "clock",
    "SimulatedFleet": "fleet",
    "SimulatedGateway": "serve.gateway",
    "SiteBackend": "backend",
    "SiteConfig": "site.config",
    "load_site": "site.load",
}

__all__ = [
    "NO_LATENCY",
    "PRESETS",
    "REALISTIC_LATENCY",
    "Backend",
    "Faults",
    "LatencyProfile",
    "ReplayBackend",
    "SimClock",
    "SimulatedFleet",
    "SimulatedGateway",
    "SiteBackend",
    "SiteConfig",
    "load_site",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)

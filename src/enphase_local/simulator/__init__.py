"""A gateway simulator: a real HTTP(S) server that behaves like Enphase gateways.

The names below are the simulator's stable entry points (tests, the demo, the
benchmarks and the service's ``--demo`` use them); its modules may move.

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
    from .faults import Faults
    from .presets import PRESETS
    from .replay import ReplayBackend
    from .server import SimulatedGateway

# Loaded on first use: importing one simulator module must not start aiohttp and TLS.
_LAZY = {
    "PRESETS": "presets",
    "Faults": "faults",
    "ReplayBackend": "replay",
    "SimClock": "clock",
    "SimulatedGateway": "server",
    "SiteBackend": "backend",
}

__all__ = ["PRESETS", "Faults", "ReplayBackend", "SimClock", "SimulatedGateway", "SiteBackend"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)

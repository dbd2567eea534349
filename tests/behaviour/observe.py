"""What the behaviour suite watches: one target (a preset or a replayed capture), one run.

Every simulator preset and every real capture (served by `simulator.replay`) is a
*target*. `observe` connects an `Envoy` to it over 127.0.0.1, takes the first
snapshot, then `LATER` more a minute apart on the simulated clock, and keeps
everything the promises are judged on: the snapshots, what the gateway was asked
in each update, the most requests it ever had in flight, and (for presets) the
site model's own state. The run happens once per target and module; the tests
only read it, so each promise is its own test without paying for its own run.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from enphase_local.capabilities import Capability
from enphase_local.firmware import Firmware
from enphase_local.models.snapshot import Snapshot
from enphase_local.simulator import PRESETS
from tests.simkit import envoy_for, gateway
from tests.support import REAL, real_folders

LATER = 5  # updates after the first, 60 s apart: the fast sources, then a report's worth
# What only the sources read after the first snapshot fill in, and the capabilities they add
# (/inventory.json, 3 to 8 s on a real gateway, adds the AC Batteries' units later)
LATER_SECTIONS = {"live", "power_export_limit"}
LATER_CAPABILITIES = {
    Capability.LIVE_DATA,
    Capability.POWER_EXPORT_LIMIT,
    Capability.NETWORK,
    Capability.DEVICE_INVENTORY,
}


def sections(snap: Snapshot) -> set[str]:
    """The snapshot's sections that hold something (the JSON contract's top-level keys)."""
    skip = {"schema", "taken_at", "gateway", "freshness", "errors", "warnings", "power_flow"}
    return {k for k, v in snap.to_dict().items() if k not in skip and v not in (None, {}, [])}


@dataclass(frozen=True)
class Target:
    """A preset by name, or a capture folder replayed exactly as it was recorded."""

    name: str
    replay: bool

    @property
    def id(self) -> str:
        return f"{'replay' if self.replay else 'preset'}:{self.name}"


def targets() -> list[Target]:
    """Every preset, then every shared capture (none when ../shared is absent)."""
    presets = [Target(name, replay=False) for name in sorted(PRESETS)]
    return presets + [Target(folder, replay=True) for folder in real_folders()]


@dataclass
class Run:
    """What one target said and was asked, update by update."""

    target: Target
    serial: str
    firmware: str
    auth_kind: str
    imeter: bool | None  # /info says the gateway measures consumption (None: it does not say)
    capabilities: frozenset[Capability]  # after the first snapshot
    later_capabilities: frozenset[Capability] = frozenset()  # after the last
    snapshots: list[Snapshot] = field(default_factory=list)
    asked: list[Counter[str]] = field(default_factory=list)  # endpoint -> requests, per update
    refused: set[str] = field(default_factory=set)  # endpoints the gateway answered 4xx/5xx
    max_in_flight: int = 0
    state: dict[str, Any] | None = None  # the site model at the first snapshot (presets)

    @property
    def first(self) -> Snapshot:
        return self.snapshots[0]

    @property
    def uses_tokens(self) -> bool:
        return Firmware.parse(self.firmware).uses_tokens


def _asked_since(entries: tuple[Any, ...], start: int) -> Counter[str]:
    """Requests per endpoint from `start` on; a digest challenge (401 then the answer) is one."""
    return Counter(e.endpoint for e in entries[start:] if e.status != 401)


async def _observe(target: Target) -> Run:
    where: dict[str, Any] = {"folder": REAL / target.name} if target.replay else {}
    async with gateway(None if target.replay else target.name, **where) as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            state = None if target.replay else gw.backend.state()  # type: ignore[attr-defined]
            first = await envoy.update()
            run = Run(
                target,
                serial=envoy.info.serial,
                firmware=gw.firmware,
                auth_kind=envoy.auth_kind,
                imeter=envoy.info.imeter,
                capabilities=frozenset(envoy.capabilities),
                snapshots=[first],
                asked=[_asked_since(gw.log.entries, 0)],
                state=state,
            )
            for _ in range(LATER):
                clock.advance(60)
                start = len(gw.log.entries)
                run.snapshots.append(await envoy.update())
                run.asked.append(_asked_since(gw.log.entries, start))
            run.later_capabilities = frozenset(envoy.capabilities)
        run.refused = {e.endpoint for e in gw.log.entries if e.status not in (200, 401)}
        run.max_in_flight = gw.log.max_in_flight
    assert run.serial == gw.serial
    return run


@cache
def observe(target: Target) -> Run:
    """Run `target` once per process, on a loop of its own; every promise reads the same run."""
    return asyncio.run(_observe(target))

"""What every destination of collected data implements: the `Sink` protocol.

The collector reads gateways (snapshots on the client's cadence plan, live
frames about once a second where available) and hands each item to every
configured sink: SQLite history, PostgreSQL, Prometheus, the dashboard, MQTT.
Sinks never call the gateway on their own; those that take commands (MQTT)
go through `Hub.envoy(serial).control`, the confirmed-write path.

A sink must not block the event loop (do file or database I/O in a thread or
an async driver) and must not raise for one bad item: log it, count it, go on.
`stop()` flushes whatever the sink still holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..client import Envoy
    from ..models.live_frame import LiveFrame
    from ..models.snapshot import Snapshot

__all__ = ["Event", "Hub", "Sink"]


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to one gateway, worth keeping as history.

    `kind`: ``connected``, ``stale``, ``recovered``, ``unreachable``,
    ``warning``, ``error`` or ``write`` (a control outcome). `detail` holds
    plain JSON values only (for a write: action, outcome, request summary).
    """

    at: float
    serial: str
    kind: str
    message: str
    detail: Mapping[str, Any] = field(default_factory=dict)


class Hub(Protocol):
    """What a sink may ask of the collector that runs it."""

    def serials(self) -> tuple[str, ...]:
        """Serials of the gateways this collector reads (known once connected)."""
        ...

    def envoy(self, serial: str) -> Envoy:
        """The connected client of one gateway (for commands); KeyError if unknown."""
        ...

    async def record(self, event: Event) -> None:
        """Hand an event (a write outcome, say) to every sink, as the collector's own are."""
        ...


class Sink(Protocol):
    """A destination of collected data."""

    name: str

    async def start(self, hub: Hub) -> None:
        """Open files, connections, servers; called once before any data."""
        ...

    async def on_snapshot(self, serial: str, snapshot: Snapshot) -> None:
        """A new snapshot of one gateway (after each `update()`)."""
        ...

    async def on_live(self, serial: str, frame: LiveFrame) -> None:
        """A live frame of one gateway (about once a second while live data flows)."""
        ...

    async def on_event(self, event: Event) -> None:
        """A state change, warning, error or write outcome."""
        ...

    async def stop(self) -> None:
        """Flush and close; called once on shutdown (SIGTERM, Ctrl-C)."""
        ...

"""Sites of several gateways in the collector: their sums go to every sink as one more gateway.

    [[site]]
    name = "house"
    gateways = ["main", "garage"]     # names of [[gateway]] entries

Why a sink: it sees every gateway's snapshots and frames as the other sinks
do, and hands the site's sums (`site_sum`) to each of them under the site's
own serial (``site-house``), so the SQLite and PostgreSQL history, InfluxDB,
MQTT (a Home Assistant device of its own), Prometheus and the dashboard all
show the site with no code of their own. The sums are marked as sums (frame
source ``site``, readings ``site:...``, firmware ``site``).

A sum is made only from one recent part per gateway: when the parts are
further apart than `max_skew_s` (a gateway that stopped answering), no sum
is made (half a house is not the house) and the site's state says which
gateway is missing. A frame is summed once every gateway has given a new
one: the site's rate is its slowest gateway's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .config import SiteEntry
from .sinks import Event
from .site_sum import site_serial, sum_frames, sum_snapshots

if TYPE_CHECKING:
    from ..models.live_frame import LiveFrame
    from ..models.snapshot import Snapshot
    from .sinks import Hub, Sink

__all__ = ["SiteEntry", "SiteSink"]

_LOG = logging.getLogger("enphase_local.service")


class SiteSink:
    """Sums each site's gateways and hands the sums to the collector's other sinks."""

    name = "sites"

    def __init__(self, sites: Sequence[SiteEntry], *, max_skew_s: float = 180.0) -> None:
        self.sites = tuple(sites)
        self.max_skew_s = max_skew_s
        self._site_of = {g: s for s in self.sites for g in s.gateways}
        self._snaps: dict[str, dict[str, Snapshot]] = {s.name: {} for s in self.sites}
        self._frames: dict[str, dict[str, LiveFrame]] = {s.name: {} for s in self.sites}
        self._fresh: dict[str, set[str]] = {}  # members with a frame since the last sum
        self._announced: set[str] = set()
        self._hub: Hub | None = None

    async def start(self, hub: Hub) -> None:
        self._hub = hub

    async def stop(self) -> None:
        self._hub = None

    async def on_event(self, event: Event) -> None:
        """A member's state changed: the site's state says so (the event stays the member's)."""
        site = self._member(event.serial)
        if site is not None and site.name in self._announced:
            self._state(site)

    # -- members' data ------------------------------------------------------------

    def _member(self, serial: str) -> SiteEntry | None:
        by_serial = getattr(self._hub, "by_serial", None)
        if by_serial is None:
            return None
        try:
            name: str = by_serial(serial).name
        except KeyError:
            return None
        return self._site_of.get(name)

    async def on_snapshot(self, serial: str, snapshot: Snapshot) -> None:
        site = self._member(serial)
        if site is None:
            return
        parts = self._snaps[site.name]
        parts[serial] = snapshot
        if len(parts) < len(site.gateways) or not self._close(p.taken_at for p in parts.values()):
            return
        total = sum_snapshots(site.name, parts)
        state = self._state(site)
        if state is not None:
            state.snapshot = total
            state.last_ok = total.freshness.get("production", total.taken_at)
        if site.name not in self._announced:
            self._announced.add(site.name)
            gateways = ", ".join(site.gateways)
            _LOG.info("site %s: summing %s", site.name, gateways)
            await self._emit(
                "on_event", Event(total.taken_at, site_serial(site.name), "connected", gateways)
            )
        await self._emit("on_snapshot", site_serial(site.name), total)

    async def on_live(self, serial: str, frame: LiveFrame) -> None:
        site = self._member(serial)
        if site is None or frame.source == "site":
            return
        parts = self._frames[site.name]
        parts[serial] = frame
        fresh = self._fresh.setdefault(site.name, set())
        fresh.add(serial)
        if len(fresh) < len(site.gateways):
            return  # a new sum once every gateway has a new frame: the slowest sets the pace
        fresh.clear()
        if not self._close(f.taken_at for f in parts.values()):
            return
        capacities = []
        for member in parts:
            snap = self._snaps[site.name].get(member)
            battery = snap.battery if snap is not None else None
            capacities.append(battery.capacity_wh if battery is not None else None)
        total = sum_frames(list(parts.values()), capacities)
        state = self._state(site)
        if state is not None:
            state.frame = total
        await self._emit("on_live", site_serial(site.name), total)

    def _close(self, times: Iterable[float]) -> bool:
        values = list(times)
        return bool(max(values) - min(values) <= self.max_skew_s)

    # -- the collector ---------------------------------------------------------------

    def _state(self, site: SiteEntry) -> Any:
        """The site's `GatewayState` in the collector (the dashboard, /metrics read states)."""
        states = getattr(self._hub, "states", None)
        if not isinstance(states, dict):
            return None
        from .collector import GatewayState

        state = states.get(site.name)
        if state is None:
            state = states[site.name] = GatewayState(site.name, serial=site_serial(site.name))
        members = [s for s in states.values() if s.name in site.gateways]
        down = [s.name for s in members if s.state != "connected"]
        state.state = "connected" if not down else "stale"
        state.last_error = f"not summed with {', '.join(down)}" if down else None
        return state

    async def _emit(self, method: str, *args: Any) -> None:
        """Hand the site's data to every other sink of the collector (one failing is logged)."""
        sinks: Sequence[Sink] = getattr(self._hub, "sinks", ())
        for sink in sinks:
            if sink is self:
                continue
            try:
                await getattr(sink, method)(*args)
            except Exception:
                _LOG.exception("sink %s failed on the site's %s", sink.name, method)

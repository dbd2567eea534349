"""Many simulated gateways in one process, each on its own ports.

Why: a collector that watches hundreds of sites must be load-tested against
hundreds of gateways, on a small machine. Every gateway of a fleet shares
one aiohttp application, runner and SSL context (`host.SimHost`); a
request finds its gateway by the local port it arrived on, so a gateway
costs two listening sockets and its own small state (auth, faults, log),
not a server. The cloud emulation is shared too, as the real cloud is.
"""

from __future__ import annotations

import asyncio
import resource
from collections.abc import Iterable, Iterator

from .clock import SimClock
from .contract import Backend
from .serve.battery_cloud import CloudSiteBackend
from .serve.cloud import CloudEmulation, CloudEndpoints
from .serve.core import GatewayCore
from .serve.faults import Faults, LatencyProfile
from .serve.gateway import GatewayView
from .serve.host import SimHost
from .serve.tls import server_ssl_context

__all__ = ["FleetGateway", "SimulatedFleet", "raise_open_file_limit"]

_BIND_BATCH = 100


def raise_open_file_limit(needed: int) -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit when `needed` exceeds it.

    Returns the soft limit now in force.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = hard if hard == resource.RLIM_INFINITY else max(soft, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return int(soft) if soft != resource.RLIM_INFINITY else 1 << 30


class FleetGateway(GatewayView):
    """One member of a fleet: its ports, credentials, faults and request log."""

    __slots__ = ("core", "host", "http_port", "https_port")

    def __init__(self, core: GatewayCore, host: str) -> None:
        self.core = core
        self.host = host
        self.http_port = 0
        self.https_port = 0


class SimulatedFleet:
    """N gateways: ``async with SimulatedFleet(backends) as fleet: fleet[0].https_url``.

    With `http_port`/`https_port` non-zero, gateway ``i`` listens on
    ``http_port + i`` and ``https_port + i``; with 0 every port is picked free.
    """

    def __init__(
        self,
        backends: Iterable[Backend],
        *,
        host: str = "127.0.0.1",
        http_port: int = 0,
        https_port: int = 0,
        clock: SimClock | None = None,
        latency: LatencyProfile | None = None,
        cloud: bool | CloudEmulation = True,
        seed: int = 0,
    ) -> None:
        self.clock = clock or SimClock()
        self.host = host
        self._ports = (http_port, https_port)
        if isinstance(cloud, CloudEmulation):
            self.cloud: CloudEmulation | None = cloud
        else:
            self.cloud = CloudEmulation(clock=self.clock) if cloud else None
        self.gateways = [
            FleetGateway(
                GatewayCore(
                    backend,
                    clock=self.clock,
                    faults=Faults(seed=seed + i, latency=latency, clock=self.clock),
                ),
                host,
            )
            for i, backend in enumerate(backends)
        ]
        if self.cloud is not None:
            for member in self.gateways:
                if isinstance(member.core.backend, CloudSiteBackend):
                    self.cloud.add_site(member.core.backend)
        self._host = SimHost(cloud=self.cloud, backlog=64)

    async def start(self) -> None:
        raise_open_file_limit(2 * len(self.gateways) + 256)
        await self._host.start()
        try:
            for first in range(0, len(self.gateways), _BIND_BATCH):
                batch = range(first, min(first + _BIND_BATCH, len(self.gateways)))
                await asyncio.gather(*(self._bind(i) for i in batch))
        except BaseException:
            await self._host.stop()
            raise

    async def _bind(self, index: int) -> None:
        gateway = self.gateways[index]
        http, https = self._ports
        gateway.http_port = await self._host.bind(
            gateway.core, self.host, http + index if http else 0, None
        )
        gateway.https_port = await self._host.bind(
            gateway.core, self.host, https + index if https else 0, server_ssl_context()
        )

    async def stop(self) -> None:
        await self._host.stop()

    async def __aenter__(self) -> SimulatedFleet:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def __len__(self) -> int:
        return len(self.gateways)

    def __getitem__(self, index: int) -> FleetGateway:
        return self.gateways[index]

    def __iter__(self) -> Iterator[FleetGateway]:
        return iter(self.gateways)

    def by_serial(self, serial: str) -> FleetGateway:
        for gateway in self.gateways:
            if gateway.serial == serial:
                return gateway
        raise KeyError(serial)

    @property
    def cloud_base_url(self) -> CloudEndpoints:
        """The shared cloud emulation, reached through the first gateway's HTTP port."""
        if self.cloud is None or not self.gateways:
            raise RuntimeError("this fleet has no cloud emulation")
        return self.cloud.urls(self.gateways[0].http_url)

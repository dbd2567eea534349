"""The simulated gateway users hold: `SimulatedGateway` and the read view it shares with fleets.

Why one aiohttp application for any number of gateways: a fleet of a
thousand gateways must fit a small machine, so gateways share the
application, the runner and the SSL context, and each request is routed to
its gateway's state (`GatewayCore`, in `core`) by the local port it arrived
on. A single `SimulatedGateway` is just a host with one gateway on two ports.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..clock import SimClock
from ..contract import Backend
from .battery_cloud import CloudSiteBackend
from .cloud import CloudEmulation, CloudEndpoints
from .core import GatewayCore
from .faults import Faults, LatencyProfile
from .host import SimHost, url_for
from .personalities import Personality
from .reqlog import RequestLog
from .tls import server_ssl_context

__all__ = ["GatewayView", "SimulatedGateway"]


class GatewayView:
    """Read access to one served gateway, shared by `SimulatedGateway` and a fleet's members.

    Subclasses provide `core`, `host`, `http_port` and `https_port`.
    """

    __slots__ = ()
    core: GatewayCore
    host: str
    http_port: int
    https_port: int

    @property
    def backend(self) -> Backend:
        return self.core.backend

    @property
    def faults(self) -> Faults:
        return self.core.faults

    @property
    def log(self) -> RequestLog:
        return self.core.log

    @property
    def serial(self) -> str:
        return self.core.serial

    @property
    def firmware(self) -> str:
        return self.core.firmware

    @property
    def personality(self) -> Personality:
        return self.core.personality

    @property
    def http_url(self) -> str:
        return url_for("http", self.host, self.http_port)

    @property
    def https_url(self) -> str:
        return url_for("https", self.host, self.https_port)

    @property
    def https_host(self) -> str:
        """``127.0.0.1:PORT``: what a client is given as the gateway's address."""
        return url_for("https", self.host, self.https_port).removeprefix("https://")

    @property
    def http_host(self) -> str:
        return url_for("http", self.host, self.http_port).removeprefix("http://")

    @property
    def passwords(self) -> Mapping[str, str]:
        """Digest passwords by user (``envoy``, ``installer``)."""
        return dict(self.core.passwords)

    @property
    def owner_password(self) -> str:
        return self.core.passwords["envoy"]

    @property
    def installer_password(self) -> str:
        return self.core.passwords["installer"]

    def owner_token(self, valid_for_s: float | None = None) -> str:
        """A token this gateway accepts from an owner (one year unless told otherwise)."""
        return self.core.token("owner", valid_for_s)

    def installer_token(self, valid_for_s: float | None = None) -> str:
        """A token this gateway accepts from an installer (12 hours unless told otherwise)."""
        return self.core.token("installer", valid_for_s)

    def expire_tokens(self) -> None:
        self.faults.expire_tokens()


class SimulatedGateway(GatewayView):
    """A gateway on HTTP and HTTPS: ``async with SimulatedGateway(backend) as gw: ...``."""

    def __init__(
        self,
        backend: Backend,
        *,
        host: str = "127.0.0.1",
        http_port: int = 0,
        https_port: int = 0,
        clock: SimClock | None = None,
        faults: Faults | None = None,
        latency: LatencyProfile | None = None,
        cloud: bool | CloudEmulation = True,
    ) -> None:
        if clock is None:
            backend_clock = getattr(backend, "clock", None)
            clock = backend_clock if isinstance(backend_clock, SimClock) else SimClock()
        self.clock = clock
        self.host = host
        self._ports = (http_port, https_port)
        self.core = GatewayCore(backend, clock=clock, faults=faults, latency=latency)
        if isinstance(cloud, CloudEmulation):
            self.cloud: CloudEmulation | None = cloud
        else:
            self.cloud = CloudEmulation(clock=clock) if cloud else None
        if self.cloud is not None and isinstance(backend, CloudSiteBackend):
            self.cloud.add_site(backend)
        self._host = SimHost(cloud=self.cloud)
        self.http_port = 0
        self.https_port = 0

    async def start(self) -> None:
        await self._host.start()
        try:
            self.http_port = await self._host.bind(self.core, self.host, self._ports[0], None)
            self.https_port = await self._host.bind(
                self.core, self.host, self._ports[1], server_ssl_context()
            )
        except BaseException:
            await self._host.stop()
            raise

    async def stop(self) -> None:
        await self._host.stop()

    async def __aenter__(self) -> SimulatedGateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def cloud_base_url(self) -> CloudEndpoints:
        """Enlighten and Entrez base URLs of the cloud emulation (over HTTP)."""
        if self.cloud is None:
            raise RuntimeError("this gateway was started with cloud=False")
        return self.cloud.urls(self.http_url)

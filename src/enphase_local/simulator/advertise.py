"""Announce a simulated gateway over mDNS, as a real one does (off unless asked for).

Why: `enphase discover` and "HOST defaults to the only gateway found" must be
testable against a real announcement, not a stand-in. Real gateways announce
``_enphase-envoy._tcp.local.`` with TXT records ``serialnum`` and
``protovers`` (the firmware's protocol version), port 80. The simulator
announces the same service with the port it really listens on.

Only zeroconf and the standard library are imported here (zeroconf is the
``discovery`` extra); the caller passes plain values, so this module knows
nothing of the rest of the simulator.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence

from zeroconf import IPVersion, ServiceInfo
from zeroconf.asyncio import AsyncZeroconf

__all__ = ["SERVICE_TYPE", "Advertiser", "service_info"]

SERVICE_TYPE = "_enphase-envoy._tcp.local."


def service_info(
    serial: str, firmware: str, addresses: Sequence[str], port: int, *, https: bool = False
) -> ServiceInfo:
    """The mDNS record of one gateway (what a real gateway announces, plus `https`)."""
    packed = [ipaddress.ip_address(a).packed for a in addresses]
    properties = {
        "serialnum": serial,
        "protovers": firmware.lstrip("DR"),
        "txtvers": "1",
        "scheme": "https" if https else "http",
    }
    return ServiceInfo(
        SERVICE_TYPE,
        f"envoy-{serial}.{SERVICE_TYPE}",
        addresses=packed,
        port=port,
        properties=properties,
        server=f"envoy-{serial}.local.",
    )


def _interfaces(addresses: Sequence[str]) -> list[str] | None:
    """Announce on the listening address's interface; all interfaces for a wildcard."""
    chosen = [a for a in addresses if not ipaddress.ip_address(a).is_unspecified]
    return chosen or None


def local_addresses() -> list[str]:
    """This host's non-loopback addresses (for a simulator listening on 0.0.0.0 or ::)."""
    found: set[str] = set()
    try:
        for family, _, _, _, sockaddr in socket.getaddrinfo(socket.gethostname(), None):
            if family in (socket.AF_INET, socket.AF_INET6):
                address = str(sockaddr[0]).split("%")[0]
                if not ipaddress.ip_address(address).is_loopback:
                    found.add(address)
    except OSError:
        pass
    return sorted(found)


class Advertiser:
    """Announces one or more gateways until stopped (an async context manager)."""

    def __init__(self, infos: Sequence[ServiceInfo], addresses: Sequence[str]) -> None:
        self._infos = list(infos)
        self._addresses = list(addresses)
        self._zc: AsyncZeroconf | None = None

    async def start(self) -> None:
        interfaces = _interfaces(self._addresses)
        if interfaces is None:
            self._zc = AsyncZeroconf(ip_version=IPVersion.All)
        else:
            v6 = any(ipaddress.ip_address(a).version == 6 for a in interfaces)
            v4 = any(ipaddress.ip_address(a).version == 4 for a in interfaces)
            version = IPVersion.All if v4 and v6 else IPVersion.V6Only if v6 else IPVersion.V4Only
            self._zc = AsyncZeroconf(interfaces=interfaces, ip_version=version)
        for info in self._infos:
            await self._zc.async_register_service(info, allow_name_change=True)

    async def stop(self) -> None:
        if self._zc is None:
            return
        zc, self._zc = self._zc, None
        try:
            await zc.async_unregister_all_services()
        finally:
            await zc.async_close()

    async def __aenter__(self) -> Advertiser:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

"""Where simulated gateways listen: one aiohttp application, runner and routing by port.

Apart from `core` (how one gateway answers) because hosting is a job of
its own: a fleet of a thousand gateways must fit a small machine, so they
share one application and runner, and each request is handed to its
gateway's `GatewayCore` by the local port it arrived on.
"""

from __future__ import annotations

import socket
import ssl
from typing import TYPE_CHECKING

from aiohttp import web

from .control import add_control_routes
from .entrez import entrez_portal

if TYPE_CHECKING:
    from .cloud import CloudEmulation
    from .core import GatewayCore

__all__ = ["SimHost", "url_for"]


class SimHost:
    """One aiohttp application and runner; gateways are attached to ports with `bind`."""

    def __init__(self, *, cloud: CloudEmulation | None = None, backlog: int = 128) -> None:
        self.cloud = cloud
        self.backlog = backlog
        self.by_port: dict[int, GatewayCore] = {}
        app = web.Application()
        if cloud is not None:
            cloud.add_routes(app)
            entrez_portal(cloud).add_routes(app)  # installer tokens (serve.entrez)
        add_control_routes(app, self.core_for)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.app = app
        # A client that gives up on a slow answer closes the connection: the request is
        # then over for the gateway too (its handler is cancelled, the log counts it out).
        self.runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        self._started = False

    def core_for(self, request: web.Request) -> GatewayCore | None:
        sockname = request.get_extra_info("sockname")
        if not sockname:
            return None
        return self.by_port.get(int(sockname[1]))

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        core = self.core_for(request)
        if core is None:
            raise web.HTTPServiceUnavailable(text="no gateway on this port")
        return await core.handle(request)

    async def start(self) -> None:
        if not self._started:
            await self.runner.setup()
            self._started = True

    async def bind(
        self, core: GatewayCore, host: str, port: int, ssl_context: ssl.SSLContext | None
    ) -> int:
        """Serve `core` on `host:port` (0 picks a free port); returns the port."""
        sock = socket.create_server((host, port), backlog=self.backlog)
        actual = int(sock.getsockname()[1])
        self.by_port[actual] = core
        site = web.SockSite(self.runner, sock, ssl_context=ssl_context, backlog=self.backlog)
        try:
            await site.start()
        except BaseException:
            del self.by_port[actual]
            sock.close()
            raise
        return actual

    async def stop(self) -> None:
        if self._started:
            await self.runner.cleanup()
            self._started = False
            self.by_port.clear()


def url_for(scheme: str, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"

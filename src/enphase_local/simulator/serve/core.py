"""How one simulated gateway answers a request: outage, reboot, faults, auth, backend, log.

`GatewayCore` is one gateway's state (backend, personality, credentials,
faults, request log). It knows nothing of sockets: the host (`host`) routes
each request to its core by the local port it arrived on, which lets a fleet
of a thousand gateways share one aiohttp application. The objects users hold
(`SimulatedGateway`, a fleet's members) are in `gateway`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import weakref
import zoneinfo
from typing import Any

import orjson
from aiohttp import web

from enphase_local.firmware import Firmware

from ..clock import SimClock
from ..contract import HTML, XML, Backend, Reply
from .auth import Role, issue_token
from .faults import Decision, Faults, LatencyProfile, Restart
from .personalities import Gatekeeper, Personality, personality_for
from .reqlog import RequestLog
from .stream import STREAM_PATH, serve_stream
from .tamper import tamper

__all__ = ["GatewayCore"]

_LOG = logging.getLogger("enphase_local.simulator")
_EARLIER = web.RequestKey("earlier_on_connection", int)
_HTML_ERROR = (
    b"<html><head><title>Error</title></head><body><h1>Internal error</h1>"
    b"<p>The server encountered an internal error.</p></body></html>\n"
)


def _timezone(backend: Backend) -> dt.tzinfo:
    zone = getattr(backend, "timezone", None)
    if isinstance(zone, dt.tzinfo):
        return zone
    if isinstance(zone, str) and zone:
        try:
            return zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            _LOG.warning("unknown timezone %r, using UTC", zone)
    return dt.UTC


def _page(status: int, body: bytes, content_type: str = HTML, **headers: str) -> web.Response:
    return web.Response(status=status, body=body, headers={"Content-Type": content_type, **headers})


class GatewayCore:
    """One gateway's state: backend, personality, credentials, faults and request log."""

    def __init__(
        self,
        backend: Backend,
        *,
        clock: SimClock,
        faults: Faults | None = None,
        latency: LatencyProfile | None = None,
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.faults = faults if faults is not None else Faults(latency=latency)
        if latency is not None and faults is not None:
            self.faults.latency = latency
        if self.faults.clock is None:
            self.faults.clock = clock
        self.log = RequestLog()
        self.stream_interval_s = 1.0  # /stream/meter frame period, real seconds
        self.serial = backend.serial
        self.firmware = backend.firmware
        self.personality: Personality = personality_for(self.firmware)
        self.gate = Gatekeeper(self.personality, self.serial)
        self.passwords = self.gate.passwords
        self.sessions = self.gate.sessions
        self.timezone = _timezone(backend)
        self._token_generation = 0
        # Requests already served per connection, for the 3.18 keep-alive quirk.
        self._served: weakref.WeakKeyDictionary[asyncio.BaseTransport, int] = (
            weakref.WeakKeyDictionary()
        )

    # -- credentials --------------------------------------------------------------------

    def token(self, role: Role, valid_for_s: float | None = None, username: str = "") -> str:
        return issue_token(
            self.serial, role, now=self.clock.now(), username=username, valid_for_s=valid_for_s
        )

    def _sync_revocation(self) -> None:
        if self.faults.token_generation != self._token_generation:
            self._token_generation = self.faults.token_generation
            self.gate.revoke_all()

    def _count_on_connection(self, request: web.Request) -> int:
        """How many requests this connection carried before this one."""
        transport = request.transport
        if transport is None:
            return 0
        earlier = self._served.get(transport, 0)
        self._served[transport] = earlier + 1
        return earlier

    def _keepalive_reset(self, request: web.Request) -> bool:
        """3.18 firmware resets a connection that carries a second request with digest auth."""
        return (
            self.faults.keepalive_reset
            and request.get(_EARLIER, 0) > 0
            and self.personality.scheme == "digest"
            and "Authorization" in request.headers
        )

    # -- serving ------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one request and log it (the log's end time is after the body was written)."""
        fields: dict[str, Any] = {
            "method": request.method,
            "path": request.path_qs,
            "status": None,
            "started": self.log.begin(),
            "sim_time": self.clock.now(),
            "role": None,
            "fault": None,
        }
        request[_EARLIER] = self._count_on_connection(request)
        try:
            response = await self._serve(request, fields)
            if fields["fault"] not in ("drop", "outage"):
                fields["status"] = response.status
                if not response.prepared:
                    await response.prepare(request)
                    await response.write_eof()
            return response
        except ConnectionError:
            # The client went away mid-answer: nothing left to say, and nothing to log loudly.
            fields["fault"] = fields["fault"] or "client-gone"
            return web.Response(status=499)
        except asyncio.CancelledError:
            fields["fault"] = fields["fault"] or "client-gone"  # it hung up before the answer
            raise
        finally:
            self.log.end(fields)

    async def _serve(self, request: web.Request, fields: dict[str, Any]) -> web.StreamResponse:
        path = request.path
        now = self.clock.now()
        faults = self.faults
        if faults.in_outage(now, self.timezone):
            fields["fault"] = "outage"
            return self._drop(request)
        if faults.rebooting(now):
            fields["fault"] = "reboot"
            return _page(503, b"<html><body><h2>503 Service Unavailable</h2></body></html>\n")
        restart = faults.reboot_finished(now)
        if restart is not None:
            self._restart(restart)
        delay = faults.delay(path)
        if delay > 0:
            await asyncio.sleep(delay)
        decision = faults.decide(path)
        if decision is not None:
            fields["fault"] = decision.kind
            if decision.kind == "drop":
                return self._drop(request)
            if decision.kind == "status":
                text = f"<html><body><h2>{decision.status} Error</h2></body></html>\n"
                return _page(decision.status, text.encode())
        response = await self._authorised(request, fields, now)
        if decision is None or not isinstance(response, web.Response):
            return response
        return await self._spoil(request, response, decision)

    async def _authorised(
        self, request: web.Request, fields: dict[str, Any], now: float
    ) -> web.StreamResponse:
        self._sync_revocation()
        path = request.path
        if self.personality.scheme == "token" and path == "/auth/check_jwt":
            response, fields["role"] = self.gate.check_jwt(request, now)
            return response
        access = self.personality.access(path, request.method, Firmware.parse(self.firmware))
        if path == "/production" and self.faults.production_401:
            return self.gate.refuse()
        if access != "public":
            if self._keepalive_reset(request):
                fields["fault"] = "drop"
                return self._drop(request)
            role = self.gate.role(request, now)
            fields["role"] = role
            if role is None or (access == "installer" and role != "installer"):
                return self.gate.refuse()
        if path in self.faults.unauthorized_paths:
            return self.gate.refuse()
        body = await request.read()
        if hasattr(self.backend, "ct_reversal"):  # a wiring fault is the site's, not one answer's
            self.backend.ct_reversal = self.faults.ct_reversal
        try:
            reply = self.backend.handle(request.method, path, request.query, body)
        except Exception:
            _LOG.exception("backend failed on %s %s", request.method, path)
            return _page(500, b"<html><body><h2>500 Internal Server Error</h2></body></html>\n")
        if reply is not None and reply.status == 200 and self.faults.data:
            reply = self._spoil_data(path, reply, fields)
        if reply is None and path == STREAM_PATH and request.method == "GET":
            # The backend has no stream of its own: build one from its meter views.
            return await serve_stream(
                request, self.backend, interval_s=self.stream_interval_s, faults=self.faults.stream
            )
        if reply is None and path in ("/info", "/info.xml") and request.method == "GET":
            reply = self._fallback_info(now)
        if reply is None:
            return _page(404, b"<html><body><h2>404 Not Found</h2></body></html>\n")
        return _page(reply.status, reply.body, reply.content_type, **dict(reply.headers))

    def _spoil_data(self, path: str, reply: Reply, fields: dict[str, Any]) -> Reply:
        """Apply a queued data fault (`tamper`) to a healthy answer."""
        kind = self.faults.data.take(path)
        if kind is None:
            return reply
        eids = self._storage_eids() if kind == "storage-ct-half" else ()
        body = tamper(kind, reply.body, rng=self.faults.rng, storage_eids=eids)
        if body is None:
            return reply
        fields["fault"] = kind
        return Reply(reply.status, body, reply.content_type, reply.headers)

    def _storage_eids(self) -> set[int]:
        """The eids `/ivp/meters` lists as storage CTs."""
        reply = self.backend.handle("GET", "/ivp/meters", {}, b"")
        try:
            meters = orjson.loads(reply.body) if reply is not None else []
        except orjson.JSONDecodeError:
            return set()
        if not isinstance(meters, list):
            return set()
        return {
            m["eid"]
            for m in meters
            if isinstance(m, dict) and m.get("measurementType") == "storage" and "eid" in m
        }

    def _restart(self, restart: Restart) -> None:
        """The end of a reboot window: new firmware (if asked), then the backend restarts."""
        if restart.firmware is not None:
            upgrade = getattr(self.backend, "upgrade", None)
            if callable(upgrade):
                upgrade(restart.firmware)
                self.firmware = self.backend.firmware
                self.personality = personality_for(self.firmware)
                self.gate.personality = self.personality
            else:
                _LOG.warning("this backend cannot change firmware: it stays on %s", self.firmware)
        reboot = getattr(self.backend, "reboot", None)
        if callable(reboot):
            reboot(restart.settle_s)

    def _fallback_info(self, now: float) -> Reply:
        metered = "true" if getattr(self.backend, "metered", False) else "false"
        tokens = "true" if self.personality.scheme == "token" else "false"
        body = (
            "<?xml version='1.0' encoding='UTF-8'?>\n<envoy_info>\n"
            f"  <time>{int(now)}</time>\n  <device>\n    <sn>{self.serial}</sn>\n"
            f"    <pn>800-00555-r03</pn>\n    <software>{self.firmware}</software>\n"
            f"    <euaid>4c8675</euaid>\n    <seqnum>0</seqnum>\n    <apiver>1</apiver>\n"
            f"    <imeter>{metered}</imeter>\n  </device>\n"
            f"  <web-tokens>{tokens}</web-tokens>\n</envoy_info>\n"
        )
        return Reply(200, body.encode(), XML)

    def _drop(self, request: web.Request) -> web.Response:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=599)

    async def _spoil(
        self, request: web.Request, response: web.Response, decision: Decision
    ) -> web.StreamResponse:
        body = response.body if isinstance(response.body, bytes) else b""
        content_type = response.headers.get("Content-Type", HTML)
        if decision.kind == "garbage":
            size = max(16, len(body))
            return _page(200, self.faults.rng.randbytes(size), content_type)
        if decision.kind == "html":
            return _page(200, _HTML_ERROR)
        # truncate: promise the whole body, send half, close.
        stream = web.StreamResponse(status=response.status, headers={"Content-Type": content_type})
        stream.content_length = max(len(body), 2)
        await stream.prepare(request)
        await stream.write(body[: len(body) // 2])
        if request.transport is not None:
            request.transport.close()
        return stream

    def state(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "firmware": self.firmware,
            "personality": self.personality.name,
            "sim_time": self.clock.now(),
            "sessions": len(self.sessions),
        }

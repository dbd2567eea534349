"""The collector's HTTP face: dashboard, server-sent events, /metrics and /healthz.

Why one aiohttp server (the library's own HTTP stack): the dashboard, the
Prometheus scrape and a health check all read the same in-memory state, so
they share one port. It binds 127.0.0.1 unless told to listen on the LAN:
the dashboard shows what a house consumes, which is nobody else's business.
On the LAN every request needs the bearer `token` (``Authorization: Bearer``
for Prometheus, or ``/?token=...`` once in a browser, which leaves an
HttpOnly cookie), from this machine too: one rule, no address to trust.

The dashboard is static files (``static/``, uPlot vendored, no CDN: it works
offline) fed by JSON documents (`dashboard_data`) and one event stream that
pushes every gateway's live flow once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from . import dashboard_data as dd
from .metrics import exposition

if TYPE_CHECKING:
    from ..models.live_frame import LiveFrame
    from ..models.snapshot import Snapshot
    from .collector import GatewayState
    from .history_sink import HistorySink
    from .sinks import Event, Hub

__all__ = ["STATIC", "WebSink"]

_COOKIE = "enphase_token"
_YEAR = 365 * 86_400


def _same(given: str, token: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


STATIC = Path(__file__).parent / "static"
_LOGGER = logging.getLogger("enphase_local.service.web")


class WebSink:
    """Serves the dashboard and the metrics of a running collector."""

    name = "web"

    def __init__(
        self,
        states: Callable[[], Mapping[str, GatewayState]],
        *,
        host: str = "127.0.0.1",
        port: int = 8787,
        clock: Callable[[], float] = time.time,
        history: HistorySink | None = None,
        stale_after_s: float = 180.0,
        tick_s: float = 1.0,
        token: str | None = None,
        watch: Callable[[str | None], AbstractContextManager[None]] | None = None,
    ) -> None:
        """`token`: the bearer token every request from another machine must carry.

        `watch`: held by each event stream for the gateway it shows
        (``/events?serial=S``; every gateway without the parameter, none while
        it is empty, as the dashboard sends before it knows a serial), so that gateways
        whose live mode is "auto" follow live data while watched (`live_demand`).
        """
        self._token = token
        self._watch = watch if watch is not None else (lambda _: contextlib.nullcontext())
        self._states = states
        self.host = host
        self.port = port
        self._clock = clock
        self._history = history
        self._stale_after_s = stale_after_s
        self._tick_s = tick_s
        self._metrics = exposition(states, clock, history.stats if history is not None else None)
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    # -- Sink -----------------------------------------------------------------------

    async def start(self, hub: Hub) -> None:
        del hub
        app = web.Application(middlewares=[self._auth] if self._token else [])
        app.router.add_get("/", self._index)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics_view)
        app.router.add_get("/events", self._events)
        app.router.add_get("/api/gateways", self._gateways)
        app.router.add_get("/api/today", self._today)
        app.router.add_get("/api/energy", self._energy)
        app.router.add_get("/api/battery", self._battery)
        app.router.add_get("/api/inverters", self._inverters)
        app.router.add_static("/static", STATIC)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as err:
            await self._runner.cleanup()
            raise OSError(
                err.errno,
                f"cannot listen on {self.host}:{self.port} ({err.strerror}): choose another --port",
            ) from None
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        _LOGGER.info("dashboard on http://%s:%d/", self.host, self.port)

    async def on_snapshot(self, serial: str, snapshot: Snapshot) -> None:
        """Nothing to do: the pages read the collector's state when asked."""

    async def on_live(self, serial: str, frame: LiveFrame) -> None:
        """Nothing to do: the event stream sends the newest frame on its own tick."""

    async def on_event(self, event: Event) -> None:
        """Nothing to do: state changes show through the state itself."""

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def token_required(self) -> bool:
        return self._token is not None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    # -- authentication on the LAN -------------------------------------------------------

    @web.middleware
    async def _auth(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        token = self._token
        if token is None:
            return await handler(request)  # type: ignore[no-any-return]
        header = request.headers.get("Authorization", "")
        given = header[7:] if header.startswith("Bearer ") else request.cookies.get(_COOKIE, "")
        if _same(given, token):
            return await handler(request)  # type: ignore[no-any-return]
        if _same(request.query.get("token", ""), token):  # a browser, once: keep a cookie
            found = web.HTTPFound(request.path)  # the token leaves the address bar
            found.set_cookie(_COOKIE, token, httponly=True, samesite="Strict", max_age=_YEAR)
            raise found
        return web.Response(
            status=401,
            text="this collector needs its token: send 'Authorization: Bearer <token>', "
            "or open /?token=<token> once in the browser\n",
            headers={"WWW-Authenticate": 'Bearer realm="enphase-local"'},
        )

    # -- views ------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def _healthz(self, request: web.Request) -> web.Response:
        doc = dd.live_document(self._states(), self._clock(), self._stale_after_s)
        gateways = [
            {k: g[k] for k in ("name", "serial", "state", "stale", "age_s")}
            for g in doc["gateways"]
        ]
        history = None
        if self._history is not None:
            history = {
                "path": str(self._history.path),
                "held_rows": self._history.held_rows,
                "rows_written": self._history.rows_written,
                "rows_dropped": self._history.rows_dropped,
                "error": self._history.last_error,
                **self._history.stats(),
            }
        healthy = bool(gateways) and not any(g["stale"] for g in gateways)
        healthy = healthy and (history is None or history["error"] is None)
        body = {"status": "ok" if healthy else "degraded", "gateways": gateways, "history": history}
        return web.json_response(body, status=200 if healthy else 503)

    async def _metrics_view(self, request: web.Request) -> web.Response:
        body = self._metrics()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        try:
            serial = request.query.get("serial")  # absent: every gateway; empty: none yet
            watching = self._watch(serial or None) if serial != "" else contextlib.nullcontext()
            with watching:
                await self._stream(response)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    async def _stream(self, response: web.StreamResponse) -> None:
        """Every gateway's newest flows each tick, until the client or the server goes."""
        while not self._closing.is_set():
            doc = dd.live_document(self._states(), self._clock(), self._stale_after_s)
            await response.write(f"data: {json.dumps(doc)}\n\n".encode())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self._tick_s)

    def _state(self, request: web.Request) -> GatewayState | None:
        serial = request.query.get("serial")
        for state in self._states().values():
            if state.serial is not None and (serial is None or state.serial == serial):
                return state
        return None

    async def _gateways(self, request: web.Request) -> web.Response:
        doc = dd.live_document(self._states(), self._clock(), self._stale_after_s)
        return web.json_response(doc)

    async def _read(
        self, request: web.Request, query: Callable[..., dict[str, Any]], *args: Any
    ) -> web.Response:
        state = self._state(request)
        if self._history is None or state is None or state.serial is None:
            return web.json_response({})
        path, serial, now = self._history.path, state.serial, self._clock()

        def run() -> dict[str, Any]:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
            try:
                return query(db, serial, now, *args)
            finally:
                db.close()

        try:
            return web.json_response(await asyncio.to_thread(run))
        except sqlite3.Error as err:
            return web.json_response({"error": str(err)}, status=503)

    async def _today(self, request: web.Request) -> web.Response:
        return await self._read(request, dd.today_series)

    async def _energy(self, request: web.Request) -> web.Response:
        every = request.query.get("every", "1d")
        if every not in ("1d", "1mo", "1y"):
            raise web.HTTPBadRequest(text="every must be 1d, 1mo or 1y")
        state = self._state(request)
        energy = state.snapshot.energy if state is not None and state.snapshot else None
        return await self._read(request, dd.energy_bars, every, energy.zone if energy else None)

    async def _battery(self, request: web.Request) -> web.Response:
        return await self._read(request, dd.battery_series)

    async def _inverters(self, request: web.Request) -> web.Response:
        return web.json_response(dd.inverter_table(self._state(request), self._clock()))

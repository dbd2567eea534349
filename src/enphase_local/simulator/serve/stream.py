"""``/stream/meter``: server-sent events, about one frame a second, of per-phase CT values.

Frames are views of the same state as every other endpoint: each is built
from the backend's own ``/ivp/meters`` and ``/ivp/meters/readings`` answers,
so presets and replayed captures stream alike. A frame holds, per flow
(production, net-consumption, total-consumption) and phase (``ph-a`` ..
``ph-c``): ``p`` W, ``q`` var, ``s`` VA, ``v`` V, ``i`` A, ``pf``, ``f`` Hz.
Total consumption is production + net, as the gateway computes it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from ..contract import Backend

__all__ = ["STREAM_PATH", "meter_frame", "serve_stream"]

STREAM_PATH = "/stream/meter"
_PHASES = ("ph-a", "ph-b", "ph-c")
_KEYS = (
    ("p", "activePower"),
    ("q", "reactivePower"),
    ("s", "apparentPower"),
    ("v", "voltage"),
    ("i", "current"),
    ("pf", "pwrFactor"),
    ("f", "freq"),
)


def _phases(reading: dict[str, Any]) -> dict[str, dict[str, float]]:
    channels = reading.get("channels") or [reading]
    return {
        name: {short: float(ch.get(key, 0.0)) for short, key in _KEYS}
        for name, ch in zip(_PHASES, channels, strict=False)
    }


def meter_frame(backend: Backend) -> dict[str, Any] | None:
    """One frame from the backend's meter views, or None when it has no CTs."""
    meters = backend.handle("GET", "/ivp/meters", {}, b"")
    readings = backend.handle("GET", "/ivp/meters/readings", {}, b"")
    if meters is None or readings is None or meters.status != 200 or readings.status != 200:
        return None
    frame: dict[str, Any] = {}
    try:
        kinds = {m["eid"]: m["measurementType"] for m in orjson.loads(meters.body)}
        for reading in orjson.loads(readings.body):
            kind = kinds.get(reading.get("eid"))
            if kind in ("production", "net-consumption", "total-consumption"):
                frame[kind] = _phases(reading)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None  # meter views that are not meter data (a stub, a 5.x error body)
    prod, net = frame.get("production"), frame.get("net-consumption")
    if prod and net and "total-consumption" not in frame:
        frame["total-consumption"] = {
            ph: {k: prod[ph][k] + net[ph][k] if k in "pqsi" else net[ph][k] for k, _ in _KEYS}
            for ph in prod
            if ph in net
        }
    return frame or None


async def serve_stream(
    request: web.Request, backend: Backend, *, interval_s: float = 1.0
) -> web.StreamResponse:
    """Stream frames until the client goes away (404 on a site without CTs)."""
    first = meter_frame(backend)
    if first is None:
        return web.Response(status=404, body=b"<html><body><h2>404 Not Found</h2></body></html>\n")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    frame: dict[str, Any] | None = first
    try:
        while frame is not None:
            await response.write(b"data: " + orjson.dumps(frame) + b"\n\n")
            await asyncio.sleep(interval_s)
            frame = meter_frame(backend)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response

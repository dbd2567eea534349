"""``/stream/meter``: server-sent events, about one frame a second, of per-phase CT values.

Frames are views of the same state as every other endpoint: each is built
from the backend's own ``/ivp/meters`` and ``/ivp/meters/readings`` answers,
so presets and replayed captures stream alike. Pacing and stream faults
(bursts, a cut-off frame, a stall) are `StreamFaults`, reached as
``Faults.stream``. A frame holds, per flow
(production, net-consumption, total-consumption) and phase (``ph-a`` ..
``ph-c``): ``p`` W, ``q`` var, ``s`` VA, ``v`` V, ``i`` A, ``pf``, ``f`` Hz.
Total consumption is production + net, as the gateway computes it.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from typing import Any

import orjson
from aiohttp import web

from ..contract import Backend

__all__ = ["STREAM_PATH", "StreamFaults", "meter_frame", "serve_stream"]

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


class StreamFaults:
    """How ``/stream/meter`` paces its frames, and how it fails. Off by default.

    Durations count frame periods (`GatewayCore.stream_interval_s`, 1 s), so a
    test with a 10 ms period sees a "minute" stall in 0.6 s. Bursts are drawn
    from a seeded generator of their own: the same seed gives the same pattern.

    - `bursty`: as real gateways, hold frames back 3 to 13 periods (`hold`), then
      send what piled up in one burst of at most `max_burst` (the newest);
    - `drop_next(n)`: the next `n` frames are cut off mid-frame and the
      connection closes;
    - `stall(periods)`: nothing is sent for `periods` (60: a minute), then a burst.
    """

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.bursty = False
        self.hold: tuple[int, int] = (3, 13)
        self.max_burst = 8
        self.drops = 0
        self.stall_periods = 0
        self.sent: deque[int] = deque(maxlen=64)  # frames per write, most recent last

    def drop_next(self, n: int = 1) -> None:
        if n < 1:
            raise ValueError("the number of frames must be at least 1")
        self.drops += n

    def stall(self, periods: int = 60) -> None:
        if periods < 1:
            raise ValueError("a stall lasts at least one frame period")
        self.stall_periods = periods

    def next_hold(self) -> int:
        """Periods to hold frames back before the next send (0: send every frame)."""
        hold = self.rng.randint(*self.hold) if self.bursty else 0
        stall, self.stall_periods = self.stall_periods, 0
        return max(hold, stall)

    def take_drop(self) -> bool:
        if self.drops <= 0:
            return False
        self.drops -= 1
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "bursty": self.bursty,
            "hold": list(self.hold),
            "max_burst": self.max_burst,
            "drops": self.drops,
            "stall_periods": self.stall_periods,
            "sent": list(self.sent),
        }


def _event(frame: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(frame) + b"\n\n"


async def serve_stream(
    request: web.Request,
    backend: Backend,
    *,
    interval_s: float = 1.0,
    faults: StreamFaults | None = None,
) -> web.StreamResponse:
    """Stream frames until the client goes away (404 on a site without CTs)."""
    first = meter_frame(backend)
    if first is None:
        return web.Response(status=404, body=b"<html><body><h2>404 Not Found</h2></body></html>\n")
    pace = faults if faults is not None else StreamFaults()
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    pending = [_event(first)]
    hold = pace.next_hold()
    try:
        while True:
            if pace.stall_periods:
                hold = max(hold, pace.next_hold())
            if hold <= 0:
                burst = pending[-pace.max_burst :]
                if pace.take_drop():
                    await response.write(b"".join(burst[:-1]) + burst[-1][: len(burst[-1]) // 2])
                    if request.transport is not None:
                        request.transport.abort()
                    break
                await response.write(b"".join(burst))
                pace.sent.append(len(burst))
                pending.clear()
                hold = pace.next_hold()
            await asyncio.sleep(interval_s)
            frame = meter_frame(backend)
            if frame is None:
                break
            pending.append(_event(frame))
            hold -= 1
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response

"""``/stream/meter`` server-sent events: split the byte stream into events, parse each frame.

Pure functions, no I/O: the stream reader feeds lines in as they arrive.
An event is one or more ``data:`` lines ended by a blank line (the SSE
rule); a connection that drops mid-event leaves an incomplete event, which
is discarded rather than half-parsed.

A frame holds, per flow (``production``, ``net-consumption``,
``total-consumption``) and phase (``ph-a`` .. ``ph-c``), ``p q s v i pf f``.
Only the active power ``p`` is kept, as `MeterFrame` watts per phase
``L1``..``L3``; phases beyond `phase_count` (zero placeholders) are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ..errors import EnvoyParseError
from ..models.live_frame import MeterFrame

__all__ = ["EventSplitter", "parse_meter_event"]

_PATH = "/stream/meter"
_PHASES = (("ph-a", "L1"), ("ph-b", "L2"), ("ph-c", "L3"))
_MAX_EVENT_BYTES = 1 << 16  # a frame is about 1 kB: anything this big is not a meter frame


class EventSplitter:
    """Collects ``data:`` lines into complete events (bytes), one `feed` line at a time."""

    __slots__ = ("_data",)

    def __init__(self) -> None:
        self._data: list[bytes] = []

    def feed(self, line: bytes) -> bytes | None:
        """Give one line (with or without its newline); returns an event when one completes."""
        text = line.rstrip(b"\r\n")
        if not text:
            if not self._data:
                return None
            event = b"\n".join(self._data)
            self._data = []
            return event
        if text.startswith(b"data:"):
            value = text[5:]
            self._data.append(value[1:] if value.startswith(b" ") else value)
            if sum(len(d) for d in self._data) > _MAX_EVENT_BYTES:
                self._data = []
                raise EnvoyParseError(_PATH, "", "an event larger than 64 kB: not meter data")
        # comments (":"), "event:", "id:" and "retry:" lines carry nothing we use
        return None

    def reset(self) -> None:
        """Forget a partial event (the connection dropped)."""
        self._data = []


def _text(event: bytes) -> str:
    return event[:80].decode("utf-8", "replace")


def _phase_watts(flow: Any, where: str, phase_count: int | None) -> dict[str, float]:
    if not isinstance(flow, Mapping):
        raise EnvoyParseError(_PATH, repr(flow), f"{where} is not an object")
    out: dict[str, float] = {}
    keep = _PHASES[: phase_count or len(_PHASES)]
    for key, name in keep:
        phase = flow.get(key)
        if phase is None:
            continue
        if not isinstance(phase, Mapping):
            raise EnvoyParseError(_PATH, repr(phase), f"{where}.{key} is not an object")
        p = phase.get("p")
        if isinstance(p, bool) or not isinstance(p, int | float):
            raise EnvoyParseError(_PATH, repr(p), f"{where}.{key}.p is not a number")
        out[name] = float(p)
    return out


def parse_meter_event(event: bytes, *, phase_count: int | None = None) -> MeterFrame:
    """One event's JSON -> `MeterFrame`; raises `EnvoyParseError` for anything else."""
    try:
        doc = orjson.loads(event)
    except orjson.JSONDecodeError as err:
        raise EnvoyParseError(_PATH, _text(event), f"an event that is not JSON ({err})") from None
    if not isinstance(doc, Mapping):
        raise EnvoyParseError(_PATH, _text(event), "an event that is not a JSON object")
    flows: dict[str, dict[str, float]] = {}
    for key in ("production", "net-consumption", "total-consumption"):
        if key in doc:
            flows[key] = _phase_watts(doc[key], key, phase_count)
    if not flows:
        raise EnvoyParseError(_PATH, _text(event), "an event without production or consumption")
    return MeterFrame(
        production=flows.get("production", {}),
        net_consumption=flows.get("net-consumption", {}),
        total_consumption=flows.get("total-consumption", {}),
    )

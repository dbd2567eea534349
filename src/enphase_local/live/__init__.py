"""Live power every second: `Envoy.live()` reads the best live source as balanced frames.

See `reader` for the source choice, `poll` for livedata's enable-and-renew,
`stream` for ``/stream/meter`` and how it shares the one-request rule, and
docs/live.md for the request budget.
"""

from __future__ import annotations

from ..models.live_frame import LiveFrame, LivePhase
from .link import SOURCE_NAMES, LiveFeed, LiveLink, LiveOptions
from .reader import available_sources, live_frames

__all__ = [
    "SOURCE_NAMES",
    "LiveFeed",
    "LiveFrame",
    "LiveLink",
    "LiveOptions",
    "LivePhase",
    "available_sources",
    "live_frames",
]

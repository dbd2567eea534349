"""What a simulated gateway was asked, and how it answered.

Why: real gateways freeze or reboot when polled too hard or by overlapping
requests (gateway.md section 6). The log lets a test assert how a client
behaves: how often it asked each endpoint, and whether it ever had two
requests in flight at once (`max_in_flight`).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["LogEntry", "RequestLog"]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One request. `status` is None when the connection was dropped without an answer.

    `started`/`ended` are real monotonic seconds (to measure overlap and
    latency); `sim_time` is the simulated clock when the request arrived.
    """

    method: str
    path: str
    status: int | None
    started: float
    ended: float
    sim_time: float
    role: str | None
    fault: str | None = None

    @property
    def endpoint(self) -> str:
        """The path without its query."""
        return self.path.split("?", 1)[0]

    @property
    def duration_s(self) -> float:
        return self.ended - self.started

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Entries (the most recent `maxlen`), counts per endpoint, and the in-flight high mark."""

    __slots__ = ("_counts", "_entries", "_in_flight", "_max_in_flight", "maxlen")

    def __init__(self, maxlen: int = 10_000) -> None:
        self.maxlen = maxlen
        self._entries: list[LogEntry] = []
        self._counts: Counter[str] = Counter()
        self._in_flight = 0
        self._max_in_flight = 0

    def begin(self) -> float:
        """A request arrived: count it in flight; returns its start time."""
        self._in_flight += 1
        self._max_in_flight = max(self._max_in_flight, self._in_flight)
        return time.monotonic()

    def end(self, entry_fields: dict[str, Any]) -> LogEntry:
        """The request finished (answered, refused or dropped)."""
        self._in_flight = max(0, self._in_flight - 1)
        entry = LogEntry(ended=time.monotonic(), **entry_fields)
        self._entries.append(entry)
        if len(self._entries) > self.maxlen:
            del self._entries[: len(self._entries) - self.maxlen]
        self._counts[entry.endpoint] += 1
        return entry

    @property
    def entries(self) -> tuple[LogEntry, ...]:
        return tuple(self._entries)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """Most requests this gateway was handling at the same moment since the last reset."""
        return self._max_in_flight

    def count(self, endpoint: str | None = None) -> int:
        """Requests for `endpoint` (path without query), or all requests."""
        if endpoint is None:
            return sum(self._counts.values())
        return self._counts[endpoint]

    @property
    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    def statuses(self, endpoint: str | None = None) -> list[int | None]:
        return [e.status for e in self._entries if endpoint is None or e.endpoint == endpoint]

    def reset(self) -> None:
        """Forget everything; requests still in flight stay counted as in flight."""
        self._entries.clear()
        self._counts.clear()
        self._max_in_flight = self._in_flight

    def __len__(self) -> int:
        return len(self._entries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count(),
            "counts": self.counts,
            "in_flight": self._in_flight,
            "max_in_flight": self._max_in_flight,
            "entries": [e.to_dict() for e in self._entries],
        }

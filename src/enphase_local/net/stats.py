"""What a `Transport` has cost the gateway: request counts and timings, per path.

Kept apart from the HTTP machinery because callers read these numbers (the
request economy: `Envoy.stats`, the CLI, the benchmarks) without needing
anything else of the transport. `Transport` fills them in; nothing here
does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["PathStats", "TransportStats"]


@dataclass(slots=True)
class PathStats:
    """What one path has cost the gateway. Every HTTP exchange counts, retries and
    authentication round trips included; a failure is an exchange that ended in an
    error, a timeout or a status of 400 or more."""

    requests: int = 0
    failures: int = 0
    retries: int = 0
    total_elapsed_s: float = 0.0
    last_elapsed_s: float | None = None
    last_status: int | None = None
    last_at: float | None = None  # epoch seconds (the transport's clock) of the last exchange

    def record(self, elapsed_s: float, status: int | None, *, failed: bool) -> None:
        self.total_elapsed_s += elapsed_s
        self.last_elapsed_s = elapsed_s
        self.last_status = status
        self.failures += int(failed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "failures": self.failures,
            "retries": self.retries,
            "total_elapsed_s": round(self.total_elapsed_s, 6),
            "last_elapsed_s": self.last_elapsed_s,
            "last_status": self.last_status,
            "last_at": self.last_at,
        }


@dataclass(slots=True)
class TransportStats:
    """Per-path request counts and timings, and their totals (the request economy)."""

    paths: dict[str, PathStats] = field(default_factory=dict)

    def for_path(self, path: str) -> PathStats:
        return self.paths.setdefault(path, PathStats())

    @property
    def requests(self) -> int:
        return sum(p.requests for p in self.paths.values())

    @property
    def failures(self) -> int:
        return sum(p.failures for p in self.paths.values())

    @property
    def retries(self) -> int:
        return sum(p.retries for p in self.paths.values())

    @property
    def total_elapsed_s(self) -> float:
        return sum(p.total_elapsed_s for p in self.paths.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "failures": self.failures,
            "retries": self.retries,
            "total_elapsed_s": round(self.total_elapsed_s, 6),
            "paths": {path: stats.to_dict() for path, stats in sorted(self.paths.items())},
        }

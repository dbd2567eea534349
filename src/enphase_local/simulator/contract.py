"""The seam between what a simulated gateway says and how it is served.

A `Backend` produces the bodies: either the physical site model
(`backend.SiteBackend`) or a replayed capture (`replay`). The HTTP
server (`serve/`) owns everything about serving: TLS, auth and
roles, personalities' endpoint sets, fault knobs, the request log. It calls
`Backend.handle` only for requests that passed auth.

Keeping the two apart (as pyatv's fake devices do) lets tests drive the
model without sockets and the server without a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Backend", "Reply"]

JSON = "application/json"
HTML = "text/html"
XML = "application/xml"


@dataclass(frozen=True, slots=True)
class Reply:
    """A response as the gateway would send it."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: Mapping[str, str] = field(default_factory=dict)


class Backend(Protocol):
    """What a simulated gateway knows and says."""

    @property
    def serial(self) -> str:
        """Gateway serial number (12 digits)."""
        ...

    @property
    def firmware(self) -> str:
        """Firmware as `/info` shows it, e.g. ``D8.2.4345``."""
        ...

    def handle(self, method: str, path: str, query: Mapping[str, str], body: bytes) -> Reply | None:
        """Answer one authorised request; None means 404 (no such endpoint or hardware)."""
        ...

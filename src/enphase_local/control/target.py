"""What the control layer needs from a connected gateway: the seam to the client.

The `Envoy` client satisfies `ControlTarget`; tests satisfy it with the
simulator's site model in-process. Keeping the seam this small is what lets
every write action be tested against the real simulator state machine
without sockets, and lets the client own authentication, the one-request-
in-flight rule and error translation.

Contract the control layer relies on:

- `request` sends one authenticated request with a JSON body
  (``Content-Type: application/json``) exactly once: it never retries, because
  a write repeated blindly can switch a relay twice. It returns whatever
  status the gateway answered; the control layer decides what is an error.
- `read` fetches one source *now* (bypassing any cache) by its typed key
  (``TARIFF``, ``ENSEMBLE_INVENTORY``, ``DRY_CONTACTS``,
  ``DRY_CONTACT_SETTINGS``, ``GEN_MODE``, ``GEN_SCHEDULE``, ``GEN_CONFIG``,
  ``GENERATOR``, ``INVENTORY`` from `sources.table`), parses it with that
  source's parser and returns its model, typed: ``read(TARIFF)`` is a
  ``Tariff``, checked by mypy. It raises `EnvoyError` subclasses.
- `capabilities` is what the probe discovered; `firmware` the running version.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from ..capabilities import Capability
from ..firmware import Firmware
from ..sources.registry import Source

__all__ = ["ControlTarget", "WriteResponse"]

T = TypeVar("T")


class WriteResponse(Protocol):
    """The gateway's answer to a write: its HTTP status and raw body."""

    @property
    def status(self) -> int: ...

    @property
    def body(self) -> bytes: ...


class ControlTarget(Protocol):
    """A connected gateway, as the control layer sees it."""

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Features the probe found (a plain attribute satisfies this too)."""
        ...

    async def request(self, method: str, path: str, *, json: Any = None) -> WriteResponse:
        """Send one authenticated write, once, never retried."""
        ...

    async def read(self, source: Source[T], /) -> T:
        """Fetch and parse one source now, typed by its parser."""
        ...

    @property
    def firmware(self) -> Firmware: ...

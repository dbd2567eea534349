"""The types shared by the transport and the authenticators: one answer, timeouts, the seams.

Apart from `transport` so that authenticators (digest, token) and the
transport depend on these types, not on each other: the transport calls an
`Authenticator`, and an authenticator makes its own round trips (the token
session's ``/auth/check_jwt``) through the `Sender` it is handed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from multidict import CIMultiDictProxy

from ..errors import EnvoyHTTPError
from ..sources.registry import Speed

__all__ = ["Authenticator", "HttpResult", "Sender", "Timeouts"]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for a whole answer, by endpoint speed."""

    fast_s: float = 10.0
    slow_s: float = 60.0
    # production.json's first read at start-up, where a faster source can serve the first
    # snapshot (engine.production.late_after): a real gateway sometimes takes 30 to 70 s.
    first_production_s: float = 5.0

    def for_speed(self, speed: Speed) -> float:
        return self.slow_s if speed is Speed.SLOW else self.fast_s


@dataclass(frozen=True, slots=True)
class HttpResult:
    """One answer of the gateway. `path` is the path as asked, query included."""

    status: int
    body: bytes
    headers: CIMultiDictProxy[str] = field(repr=False)
    elapsed_s: float
    path: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def raise_for_status(self) -> HttpResult:
        """Return self for a 2xx answer, raise `EnvoyHTTPError` otherwise."""
        if not self.ok:
            raise EnvoyHTTPError(self.status, self.path)
        return self


class Sender(Protocol):
    """What an authenticator may ask of the transport: one request, no authentication."""

    async def send(
        self,
        method: str,
        path: str,
        *,
        speed: Speed,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        retry: bool = True,
    ) -> HttpResult:
        """Send one request as is and return the answer whatever its status."""
        ...


class Authenticator(Protocol):
    """What the transport asks of an authentication scheme."""

    async def headers(self, transport: Sender, method: str, path: str) -> Mapping[str, str]:
        """Headers (credentials, cookies) for the next request to `path`."""
        ...

    async def handle_refusal(
        self, transport: Sender, result: HttpResult, *, sent: Mapping[str, str], attempt: int
    ) -> bool:
        """The gateway answered 401/403 to a request sent with `sent` headers.

        Renew what needs renewing and return True to have the request sent
        once more, False to hand the refusal to the caller; or raise an
        `EnvoyAuthError` when the credentials themselves are refused.
        `attempt` counts the refusals already handled for this request.
        """
        ...

    def accepted(self, result: HttpResult) -> None:
        """The gateway accepted a request (any status but 401/403)."""
        ...

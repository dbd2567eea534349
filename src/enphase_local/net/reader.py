"""Read one source through the transport and say what its answer means.

Generic over `sources.registry.Source`: the reader knows no endpoint, only
how an answer is classified. 200 with a body the parser accepts is data; 401
or 403 (with credentials that work elsewhere) means the endpoint refuses us;
404 or an ``{"error": ...}`` body means it is not there; anything else is a
failure worth trying again later.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from ..capabilities import SourceStatus
from ..errors import (
    EnvoyConnectionError,
    EnvoyFeatureUnavailable,
    EnvoyHTTPError,
    EnvoyParseError,
)
from ..sources.registry import Role, Source
from .exchange import Authenticator
from .transport import Transport

__all__ = [
    "THREAD_PARSE_BYTES",
    "SourceRefused",
    "parse_off_loop",
    "probe_source",
    "read_available",
    "read_source",
]

T = TypeVar("T")

# Parsing costs about 65 ns per byte of JSON (orjson plus building models):
# bodies above this size are parsed in a worker thread so the event loop
# never stalls more than a few tens of milliseconds on one answer.
THREAD_PARSE_BYTES = 256 * 1024


class SourceRefused(Exception):
    """A source answered but has nothing for us (absent, forbidden): not a failure."""

    def __init__(self, status: SourceStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status


async def read_source(
    transport: Transport, auth: Authenticator | None, source: Source[T], *, retry: bool = True
) -> T:
    """The parsed model of `source`.

    Raises `SourceRefused` (absent or forbidden), `EnvoyHTTPError`,
    `EnvoyParseError`, `EnvoyConnectionError`; a refused token raises an
    `EnvoyAuthError` from the authenticator: that is a credentials problem,
    not this endpoint's.
    """
    use = None if source.role is Role.PUBLIC else auth
    result = await transport.request(
        "GET",
        source.path,
        speed=source.speed,
        auth=use,
        retry=retry,
        max_bytes=source.max_bytes,
    )
    if result.status in (401, 403):
        # The credentials work (the token passed check_jwt) but this endpoint refuses
        # them: installer-only, or a firmware quirk (gateway.md section 5).
        raise SourceRefused(SourceStatus.FORBIDDEN, f"HTTP {result.status}")
    if result.status == 404:
        raise SourceRefused(SourceStatus.ABSENT, "HTTP 404")
    if result.status != 200:
        raise EnvoyHTTPError(result.status, source.path)
    try:
        return await parse_off_loop(source, result.body)
    except EnvoyParseError as err:
        if err.gateway_error is not None:
            raise SourceRefused(SourceStatus.ABSENT, err.gateway_error) from err
        raise


async def read_available(transport: Transport, auth: Authenticator | None, source: Source[T]) -> T:
    """`read_source` for a caller that asked for this source by name: a refusal is an error.

    Raises `EnvoyFeatureUnavailable` when the source is absent or forbidden.
    """
    try:
        return await read_source(transport, auth, source)
    except SourceRefused as refused:
        raise EnvoyFeatureUnavailable(
            f"{source.path} is not available on this gateway ({refused})"
        ) from None


async def probe_source(
    transport: Transport,
    auth: Authenticator | None,
    source: Source[T],
    role: str | None,
    *,
    retry: bool = True,
) -> tuple[SourceStatus, T | None, str | None]:
    """Ask `source` once for the probe: (what it answered, its model or None, the error or None).

    An installer-only source is not asked without an installer `role`: it is
    forbidden. Refusals are statuses, not errors; a failure says why.
    """
    if source.role is Role.INSTALLER and role != "installer":
        return SourceStatus.FORBIDDEN, None, None
    try:
        value = await read_source(transport, auth, source, retry=retry)
    except SourceRefused as refused:
        return refused.status, None, None
    except (EnvoyConnectionError, EnvoyHTTPError, EnvoyParseError) as err:
        return SourceStatus.FAILED, None, str(err)
    return SourceStatus.OK, value, None


async def parse_off_loop(source: Source[T], body: bytes) -> T:
    """``source.parse(body)``, in a worker thread when the body is large (parsers are pure)."""
    if len(body) < THREAD_PARSE_BYTES:
        return source.parse(body)
    return await asyncio.to_thread(source.parse, body)

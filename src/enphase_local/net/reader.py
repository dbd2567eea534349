"""Read one source through the transport and say what its answer means.

Generic over `sources.registry.Source`: the reader knows no endpoint, only
how an answer is classified. 200 with a body the parser accepts is data; 401
or 403 (with credentials that work elsewhere) means the endpoint refuses us;
404 or an ``{"error": ...}`` body means it is not there; anything else is a
failure worth trying again later.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..capabilities import SourceStatus
from ..errors import EnvoyHTTPError, EnvoyParseError
from ..sources.registry import Role, Source
from .exchange import Authenticator
from .transport import Transport

__all__ = ["THREAD_PARSE_BYTES", "SourceRefused", "parse_off_loop", "read_source"]

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
    transport: Transport, auth: Authenticator | None, source: Source[Any], *, retry: bool = True
) -> Any:
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


async def parse_off_loop(source: Source[Any], body: bytes) -> Any:
    """``source.parse(body)``, in a worker thread when the body is large (parsers are pure)."""
    if len(body) < THREAD_PARSE_BYTES:
        return source.parse(body)
    return await asyncio.to_thread(source.parse, body)

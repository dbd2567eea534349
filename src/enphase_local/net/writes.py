"""Writes reach the gateway at most once: aiohttp must not resend them on its own.

aiohttp resends requests with idempotent methods (GET, PUT, DELETE, ...)
once when a connection drops before the answer (RFC 9112 allows it). For a
PUT of a tariff or an AC Battery sleep setting that means the gateway may
apply the write twice, while we promise "sent exactly once": the caller
reads the setting back to learn whether a lost write took.

The retry loop sits around aiohttp's request handler, and client
middlewares run inside it. `NO_RETRY` is a middleware that turns the two
errors aiohttp would retry on (`ClientOSError`, `ServerDisconnectedError`)
into `WriteConnectionLost`, which it lets through, so the transport sees a
connection error after exactly one sending. Passed per request, it works on
a caller's session too.
"""

from __future__ import annotations

import aiohttp
from aiohttp import ClientHandlerType, ClientRequest, ClientResponse

__all__ = ["NO_RETRY", "WriteConnectionLost"]


class WriteConnectionLost(aiohttp.ClientConnectionError):
    """The connection dropped after a write was (perhaps) received: not to be resent."""


async def _no_retry(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
    try:
        return await handler(request)
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as err:
        raise WriteConnectionLost(f"connection lost during {request.method}: {err}") from err


NO_RETRY = (_no_retry,)

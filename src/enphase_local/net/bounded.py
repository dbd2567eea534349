"""Read an answer body in chunks, never more than a cap, decompressing within the cap.

Why: a gateway sits on a home network with everything else. Read whole, a
100 MB answer costs 300 MB of memory, and a 1 MB gzip bomb decompressed by
aiohttp costs gigabytes and stalls the event loop for seconds. Here the body
is read chunk by chunk (aiohttp's stream pauses the socket between reads),
a declared ``Content-Length`` over the cap is refused before reading, and a
compressed body is inflated with `zlib`'s ``max_length`` so no chunk can
expand past what is left of the cap. Over the cap: `AnswerTooLarge` (an
`EnvoyParseError`), and the caller closes the connection.

Requests ask for ``Accept-Encoding: identity``; a server compressing anyway
is still read safely (gzip and deflate), anything else is refused.
"""

from __future__ import annotations

import zlib

import aiohttp

from ..errors import EnvoyParseError

__all__ = ["CHUNK_BYTES", "AnswerTooLarge", "read_bounded"]

CHUNK_BYTES = 64 * 1024
# zlib wbits: 32 + 15 accepts both zlib ("deflate" as servers send it) and gzip headers
_AUTO_HEADER_WBITS = 32 + 15
_ENCODINGS = ("gzip", "x-gzip", "deflate")


class AnswerTooLarge(EnvoyParseError):
    """The answer is larger than its endpoint's cap: refused, not read further."""

    def __init__(self, path: str, cap: int, seen: str) -> None:
        super().__init__(
            path,
            "",
            f"answer too large ({seen}, the limit for this endpoint is {cap:,} bytes): "
            "a gateway never sends this much; check what answers at this address",
        )
        self.cap = cap


async def read_bounded(response: aiohttp.ClientResponse, *, cap: int, path: str) -> bytes:
    """The body of `response` (decompressed), or `AnswerTooLarge` past `cap` bytes."""
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity", *_ENCODINGS):
        raise EnvoyParseError(
            path, "", f"the answer uses content encoding {encoding!r}, which we do not accept"
        )
    compressed = encoding in _ENCODINGS
    declared = response.content_length
    if not compressed and declared is not None and declared > cap:
        raise AnswerTooLarge(path, cap, f"{declared:,} bytes announced")
    if not compressed and declared is not None:
        # framed by its Content-Length, within the cap: aiohttp reads exactly that many bytes,
        # in one call rather than a chunk iterator (most answers: issue 31's steady update)
        return await response.read()
    inflater = zlib.decompressobj(_AUTO_HEADER_WBITS) if compressed else None
    body = bytearray()
    received = 0
    async for chunk in response.content.iter_chunked(CHUNK_BYTES):
        received += len(chunk)
        if inflater is None:
            body += chunk
        else:
            body += _inflate(inflater, chunk, cap - len(body), path)
        if len(body) > cap:
            raise AnswerTooLarge(path, cap, f"more than {cap:,} bytes")
    if inflater is not None and received and not inflater.eof:
        raise EnvoyParseError(path, "", "the compressed answer ends early (truncated)")
    return bytes(body)


def _inflate(inflater: zlib._Decompress, chunk: bytes, room: int, path: str) -> bytes:
    """Inflate `chunk`, producing at most ``room + 1`` bytes (one more proves the excess).

    When zlib stops at that length with input left over, the output has
    ``room + 1`` bytes, so the caller sees the cap exceeded; the rest is
    never inflated.
    """
    try:
        return inflater.decompress(chunk, room + 1)
    except zlib.error as err:
        raise EnvoyParseError(path, "", f"the compressed answer is corrupt ({err})") from err

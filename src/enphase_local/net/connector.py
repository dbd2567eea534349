"""The aiohttp connector for gateways: connections kept between updates, small TLS buffers.

Why (measured, bench/RESULTS.md (3) and (5b)): a new TLS connection per
update doubled the client CPU of an update (2.6 ms against 1.25 ms on
battery-backup, the handshake and aiohttp's connection set-up), so
connections are kept between updates up to `KEEP_IDLE_S` apart. Gateways
serve HTTPS with openresty (``Server: openresty/1.17.8.1`` in every
capture), whose default ``keepalive_timeout`` is 75 s and
``keepalive_requests`` 100 (the gateway's own settings are not known): a
connection idle for a 60 s interval is still open, one the gateway closed
meanwhile is opened anew, and aiohttp resends a GET once whose kept
connection turned out to be dropped.

Kept connections cost memory: asyncio's `SSLProtocol` allocates a 256 KiB
read buffer per TLS connection (the class attribute ``max_size``), 296 KB
of RSS per idle connection; a smaller buffer only means more reads of a
large answer. Our connections use a subclass with a `TLS_READ_BUFFER`
buffer; nothing global is changed. Certificates pinned by
fingerprint are checked by aiohttp on a context of our own that loads no
certificate-authority store (there is no authority to ask).
"""

from __future__ import annotations

import asyncio
import ssl
from asyncio import sslproto
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ClientRequest
from aiohttp.connector import AddrInfoType

__all__ = ["KEEP_IDLE_S", "TLS_READ_BUFFER", "GatewayConnector", "gateway_session"]

# Under openresty's default keepalive_timeout (75 s): a 60 s update interval reuses it.
KEEP_IDLE_S = 70.0

# Measured RSS per idle TLS connection: 296 KB with asyncio's 256 KiB buffer, 54 KB with
# 16 KiB, 44 KB with 4 KiB; a fleet of 1,000 at 4 KiB: 231 MB against 263 MB at 16 KiB, with
# no CPU cost measurable per update (bench/RESULTS.md (5b)): more reads, each cheap.
TLS_READ_BUFFER = 4 * 1024


class _SmallBufferTLS(sslproto.SSLProtocol):
    """asyncio's TLS protocol with a smaller read buffer (allocated in its ``__init__``)."""

    max_size = TLS_READ_BUFFER


def _pinned_context() -> ssl.SSLContext:
    """TLS for a certificate checked by fingerprint: no authority store, no host name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # aiohttp compares the fingerprint before any request
    context.options |= ssl.OP_NO_COMPRESSION
    context.set_alpn_protocols(("http/1.1",))
    return context


# one for the process: building a context costs little, loading a CA store 29 ms (issue 31)
PINNED_CONTEXT = _pinned_context()


class GatewayConnector(aiohttp.TCPConnector):
    """A `TCPConnector` whose TLS connections use `_SmallBufferTLS` and keep `KEEP_IDLE_S`.

    Overrides two of aiohttp's connector steps (stable since aiohttp 3.0):
    choosing the context of a fingerprint-pinned request, and wrapping the
    socket in TLS, which is done here with the same asyncio calls
    ``loop.create_connection(ssl=...)`` makes, but with our protocol class.
    """

    def __init__(self, **kwargs: Any) -> None:
        if not kwargs.get("force_close"):
            kwargs.setdefault("keepalive_timeout", KEEP_IDLE_S)
        kwargs.setdefault("ssl", False)  # each request passes its own check (net.trust)
        super().__init__(**kwargs)

    def _get_ssl_context(self, req: ClientRequest) -> ssl.SSLContext | None:
        if req.is_ssl() and isinstance(req.ssl, aiohttp.Fingerprint):
            return PINNED_CONTEXT
        context: ssl.SSLContext | None = super()._get_ssl_context(req)
        return context

    async def _wrap_create_connection(
        self,
        *args: Any,
        addr_infos: list[AddrInfoType],
        req: ClientRequest,
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 (aiohttp's signature)
        client_error: type[Exception] = aiohttp.ClientConnectorError,
        **kwargs: Any,
    ) -> tuple[asyncio.Transport, ResponseHandler]:
        wrap = super()._wrap_create_connection
        context = kwargs.pop("ssl", None)
        if not isinstance(context, ssl.SSLContext):
            return await wrap(
                *args, addr_infos=addr_infos, req=req, timeout=timeout,
                client_error=client_error, ssl=context, **kwargs
            )  # fmt: skip
        loop = asyncio.get_running_loop()
        handshake: asyncio.Future[None] = loop.create_future()
        protocol_factory: Callable[[], ResponseHandler] = args[0]
        app = protocol_factory()
        hostname = kwargs.pop("server_hostname", None)
        kwargs.pop("ssl_shutdown_timeout", None)

        def tls() -> _SmallBufferTLS:
            return _SmallBufferTLS(loop, app, context, handshake, server_hostname=hostname)

        raw, _ = await wrap(
            tls, *args[1:], addr_infos=addr_infos, req=req, timeout=timeout,
            client_error=client_error, **kwargs
        )  # fmt: skip
        try:
            async with asyncio.timeout(timeout.sock_connect):
                await handshake
        except BaseException as err:
            raw.close()
            if isinstance(err, ssl.CertificateError):
                raise aiohttp.ClientConnectorCertificateError(req.connection_key, err) from err
            if isinstance(err, ssl.SSLError):
                raise aiohttp.ClientConnectorSSLError(req.connection_key, err) from err
            if isinstance(err, OSError) and not isinstance(err, TimeoutError):
                raise client_error(req.connection_key, err) from err
            raise
        transport = app.transport  # set by connection_made once the handshake is done
        assert isinstance(transport, asyncio.Transport)
        return transport, app


def gateway_session(*, limit: int = 0, **connector: Any) -> aiohttp.ClientSession:
    """A session for many gateways (a fleet): share it between their `Envoy` objects.

    Connections are kept between updates with small TLS buffers
    (`GatewayConnector`); cookies are attached by each gateway's
    authenticator, so the session keeps none. ``limit=0``: no cap across
    gateways (each `Envoy` keeps one request in flight to its gateway).
    Connect a few gateways at a time: 1,000 connected 50 at once left 40 MB
    more RSS behind than 8 at once (freed heap the OS does not get back).
    """
    return aiohttp.ClientSession(
        connector=GatewayConnector(limit=limit, **connector),
        cookie_jar=aiohttp.DummyCookieJar(),
    )

"""One gateway's link: its address, session, certificate trust, limits and connection lifetime.

The state a `net.transport.Transport` sends its requests over, apart from
the request path itself: where the gateway is (`netloc`, `url`), which
session carries the requests and whether it is ours to close, the
certificate each HTTPS request must present (`net.trust`), the in-flight
limit, the update's `Deadline`, and whether a connection is kept between
updates (`between_updates`, `net.connector`).

Nothing here needs a running event loop at construction: the session and
the semaphore are created on first use.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any, Self

import aiohttp
from yarl import URL

from .address import SCHEMES, parse_host
from .backoff import RetryPolicy
from .connector import KEEP_IDLE_S, gateway_session
from .deadline import Deadline
from .exchange import HttpResult, Timeouts
from .stats import TransportStats
from .trust import CertificateTrust

__all__ = ["DEFAULT_RETRY", "DEFAULT_TIMEOUTS", "GatewayLink"]

DEFAULT_TIMEOUTS = Timeouts()
DEFAULT_RETRY = RetryPolicy()

_MAX_URLS = 256  # URLs kept per link (paths asked, each with its query)

# Jitter needs no generator per gateway: a Mersenne Twister holds 2.5 KB (2.5 MB a 1,000 fleet).
_JITTER = random.Random()


class GatewayLink:
    """Where one gateway is and how requests reach it (see the module docstring)."""

    def __init__(
        self,
        host: str,
        *,
        session: aiohttp.ClientSession | None = None,
        scheme: str | None = None,
        keepalive: bool = True,
        max_in_flight: int = 1,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        retry: RetryPolicy = DEFAULT_RETRY,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: random.Random | None = None,
        trust: CertificateTrust | None = None,
    ) -> None:
        self.hostname, self.port, url_scheme = parse_host(host)
        scheme = scheme or url_scheme
        if scheme is not None and scheme not in SCHEMES:
            raise ValueError(f"scheme must be 'https', 'http' or None (detect), not {scheme!r}")
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self._scheme = scheme
        self._detected_info: HttpResult | None = None  # /info as scheme detection read it
        self._session = session
        self._owns_session = session is None
        self.keepalive = keepalive
        self._last_update_end: float | None = None  # clock at the end of the last update
        self._fingerprint: aiohttp.Fingerprint | None = None  # see `_ssl`
        self.max_in_flight = max_in_flight
        self.timeouts = timeouts
        self.retry_policy = retry
        self.clock = clock
        self._sleep = sleep
        self._rng = rng or _JITTER
        self._semaphore: asyncio.Semaphore | None = None
        self._detect_lock: asyncio.Lock | None = None
        self._closed = False
        self.stats = TransportStats()
        self.trust = trust or CertificateTrust()
        self.deadline: Deadline | None = None  # the update's (`Envoy._update`), for its task
        self._urls: dict[tuple[str, str], URL] = {}
        self._base_headers: dict[str, str] = {"Accept-Encoding": "identity"}  # read bounded
        if not keepalive and session is not None:
            self._base_headers["Connection"] = "close"

    # -- addressing -------------------------------------------------------

    @property
    def netloc(self) -> str:
        """``host[:port]`` as it appears in a URL (IPv6 in brackets)."""
        name = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        return name if self.port is None else f"{name}:{self.port}"

    @property
    def scheme(self) -> str | None:
        """``"https"`` or ``"http"``; None until `detect_scheme` has run."""
        return self._scheme

    def url(self, path: str, scheme: str | None = None) -> URL:
        """The URL of `path` (which may carry a query) on this gateway."""
        use = scheme or self._scheme or "https"
        if not path.startswith("/"):
            path = "/" + path
        return URL(f"{use}://{self.netloc}{path}", encoded=True)

    def _url(self, path: str, scheme: str) -> URL:
        """`url`, built once per path and scheme (a URL object per request cost a parse)."""
        key = (scheme, path)
        url = self._urls.get(key)
        if url is None:
            if len(self._urls) >= _MAX_URLS:  # paths with queries could grow it without end
                self._urls.clear()
            url = self._urls[key] = self.url(path, scheme)
        return url

    def _ssl(self) -> ssl.SSLContext | aiohttp.Fingerprint | bool:
        """The trust's ``ssl=``, one `Fingerprint` object per pin.

        aiohttp pools connections by their ``ssl=`` object, and a Fingerprint
        equals only itself: a new one per request meant a new TLS connection
        per request, each left open for the keep-alive time.
        """
        wanted = self.trust.ssl_for_request()
        kept = self._fingerprint
        if not isinstance(wanted, aiohttp.Fingerprint):
            return wanted
        if kept is None or kept.fingerprint != wanted.fingerprint:
            self._fingerprint = kept = wanted
        return kept

    def slot(self) -> asyncio.Semaphore:
        """The in-flight limit itself, for opening a long-lived response (``/stream/meter``).

        Hold it while the request goes out and its headers come back, not while
        the events are read: a stream is one slow answer, not many requests.
        """
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.max_in_flight)
        return self._semaphore

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:  # the fleet's session, for one gateway (no cookie jar either)
            self._session = gateway_session(
                limit=self.max_in_flight, force_close=not self.keepalive
            )
        return self._session

    def begin_update(self, left_s: float) -> Deadline:
        """The update's `Deadline` (its reads may take `left_s` seconds in all), for this task.

        Its reads share one timer (`net.deadline`); `end_update` drops it.
        """
        deadline = self.deadline = Deadline(asyncio.get_running_loop().time() + left_s)
        return deadline

    def end_update(self, deadline: Deadline) -> None:
        deadline.close()
        if self.deadline is deadline:
            self.deadline = None

    # -- lifetime -----------------------------------------------------------

    async def between_updates(self) -> None:
        """Connection policy at the end of an update: keep it unless updates are far apart.

        A new TLS connection per update doubled the client CPU of an update
        (bench/RESULTS.md (3)), so our session keeps its connection
        `KEEP_IDLE_S` (under the gateway's 75 s) with a small TLS buffer
        (`net.connector`). After an update that came more than that after
        the previous one (by the injected clock) the session is closed at
        once, as it would never be reused, and reopened by the next update.
        A caller's session is the caller's policy (`gateway_session` for a fleet).
        """
        now = self.clock()
        last, self._last_update_end = self._last_update_end, now
        if not self._owns_session or self._session is None:
            return
        if last is not None and now - last > KEEP_IDLE_S:
            session, self._session = self._session, None
            await session.close()

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Close the session if this transport created it; a caller's session is left open."""
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None if self._owns_session else self._session

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.netloc!r}, scheme={self._scheme!r})"

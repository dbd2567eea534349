"""HTTP to one gateway: timeouts, retries, one request at a time, errors (over a `GatewayLink`).

Why so careful: gateways are slow and fragile (gateway.md section 6).
Overlapping requests or quick retries can freeze or reboot them, so a
`Transport` never has more than `max_in_flight` requests (default 1) in
flight, retries only reads, only after failures that may pass (connection
errors, timeouts, 5xx), and waits with jittered exponential backoff between
tries. Every aiohttp or asyncio error is translated at this boundary into
`EnvoyConnectionError` / `EnvoyTimeoutError`; every HTTP status is returned
as an `HttpResult` for the caller to judge, except that 401/403 are first
handed to the `Authenticator`, which may renew credentials and ask for one
more try.

On a hostile network (docs/security.md): every HTTPS request is checked
against the certificate trusted for the gateway (`net.trust`), a bearer
token or session cookie never leaves over plain HTTP, answers are read
within a cap per endpoint (`net.bounded`), redirects are not followed, and
writes are never resent by aiohttp either (`net.writes`).

The gateway's address, session, trust and connection lifetime are
`net.link.GatewayLink`'s, which `Transport` extends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any, NoReturn

import aiohttp
import orjson

from ..errors import EnvoyConnectionError, EnvoyParseError
from ..sources.registry import DEFAULT_MAX_BYTES, Speed
from .address import SCHEMES, carries_secret, parse_host
from .bounded import read_bounded
from .deadline import Deadline
from .exchange import Authenticator, HttpResult, Timeouts
from .failures import clear_text_refusal, translate
from .link import GatewayLink
from .stats import PathStats, TransportStats
from .trust import CertificateTrust, Verify, fetch_certificate
from .writes import NO_RETRY

__all__ = [
    "CertificateTrust",
    "HttpResult",
    "PathStats",
    "Timeouts",
    "Transport",
    "TransportStats",
    "Verify",
    "carries_secret",
    "parse_host",
]

_LOGGER = logging.getLogger("enphase_local.transport")

# An authenticator may ask for a new try at most this often per request: one
# for a digest challenge, one for a stale nonce or a renewed session.
_MAX_AUTH_ROUNDS = 3


# aiohttp sets up no timer of its own: the read's limit is kept by a `Deadline`
_NO_AIOHTTP_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=None, sock_read=None)


class Transport(GatewayLink):
    """Requests to one gateway. Use one per gateway; close it when done (or ``async with``).

    Its address, session, trust and connection lifetime are `GatewayLink`'s;
    what is here is the request path: scheme detection, authentication
    rounds, retries, one exchange and what its failure means.
    """

    async def detect_scheme(self) -> str:
        """Find out whether the gateway speaks HTTPS (firmware 7+) or HTTP, and remember it.

        Asks ``/info`` (public on every firmware) over HTTPS, then over HTTP.
        Any HTTP answer counts: only the scheme is being discovered.
        """
        if self._scheme is not None:
            return self._scheme
        if self._detect_lock is None:
            self._detect_lock = asyncio.Lock()
        async with self._detect_lock:
            known = self.scheme  # another task may have detected it while we waited
            if known is not None:
                return known
            failures: list[str] = []
            for scheme in SCHEMES:
                try:
                    answer = await self._exchange(
                        "GET", "/info", Speed.FAST, headers={}, json=None, scheme=scheme
                    )
                except EnvoyConnectionError as err:
                    failures.append(f"{scheme}: {type(err.__cause__).__name__}")
                    continue
                _LOGGER.debug("gateway %s speaks %s", self.netloc, scheme)
                self._scheme = scheme
                self._detected_info = answer
                return scheme
            raise EnvoyConnectionError(
                f"the gateway at {self.netloc} answered neither HTTPS nor HTTP "
                f"({', '.join(failures)}): check the address and that it is powered and on "
                "the network (it restarts services daily shortly after 23:00)"
            )

    def take_detected_info(self) -> HttpResult | None:
        """The ``/info`` answer scheme detection just read (once), so it is not asked twice."""
        answer, self._detected_info = self._detected_info, None
        return answer

    # -- requests -----------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        speed: Speed,
        auth: Authenticator | None,
        json: Any = None,
        retry: bool = True,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> HttpResult:
        """Send one request with authentication; return the answer whatever its status.

        Pass ``retry=False`` for writes: a write that may have reached the
        gateway must never be sent twice blindly. An answer over `max_bytes`
        raises `EnvoyParseError` ("answer too large") unread.
        """
        result: HttpResult | None = None
        for round_ in range(_MAX_AUTH_ROUNDS):
            headers: dict[str, str] = {}
            if auth is not None:
                headers.update(await auth.headers(self, method, path))
            result = await self.send(
                method,
                path,
                speed=speed,
                headers=headers,
                json=json,
                retry=retry,
                max_bytes=max_bytes,
            )
            if auth is None:
                return result
            if result.status not in (401, 403):
                auth.accepted(result)
                return result
            if not await auth.handle_refusal(self, result, sent=headers, attempt=round_):
                return result
            _LOGGER.debug("%s %s: credentials renewed, asking again", method, path)
        assert result is not None  # the loop ran at least once
        return result

    async def send(
        self,
        method: str,
        path: str,
        *,
        speed: Speed,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        retry: bool = True,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> HttpResult:
        """One request without authentication handling, retried per the policy when allowed.

        Authenticators use this for their own round trips (``/auth/check_jwt``).
        """
        if self._closed:
            raise EnvoyConnectionError("this transport is closed: create a new one")
        scheme = self._scheme or await self.detect_scheme()
        attempts = self.retry_policy.attempts if retry else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                result = await self._exchange(
                    method,
                    path,
                    speed,
                    headers=headers or {},
                    json=json,
                    scheme=scheme,
                    retried=attempt > 0,
                    max_bytes=max_bytes,
                )
            except EnvoyConnectionError as err:
                if last:
                    raise
                reason = type(err.__cause__ or err).__name__
            else:
                if result.status < 500 or last:
                    return result
                reason = f"HTTP {result.status}"
            delay = self.retry_policy.delay(attempt, self._rng)
            _LOGGER.debug("%s %s failed (%s): retry in %.2f s", method, path, reason, delay)
            await self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _exchange(
        self,
        method: str,
        path: str,
        speed: Speed,
        *,
        headers: Mapping[str, str],
        json: Any,
        scheme: str,
        retried: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> HttpResult:
        """Exactly one HTTP exchange, under the in-flight limit, with error translation.

        Its time limit is kept by the update's `Deadline` when this task has
        one (`deadline`), else by one of its own: no aiohttp timer, no task.
        """
        if self._closed:
            raise EnvoyConnectionError("this transport is closed: create a new one")
        if scheme == "http" and carries_secret(headers):
            raise clear_text_refusal(self.netloc, path)
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.max_in_flight)
        session = self._get_session()
        send_headers = {**self._base_headers, **headers} if headers else self._base_headers
        data: bytes | None = None
        if json is not None:
            data = orjson.dumps(json)
            send_headers = {**send_headers, "Content-Type": "application/json"}
        timeout_s = self.timeouts.for_speed(speed)
        stats = self.stats.for_path(path)
        deadline = self.deadline
        own = deadline is None or not deadline.owned()
        if deadline is None or own:
            deadline = Deadline.for_read()
        async with self._semaphore:
            stats.requests += 1
            stats.retries += int(retried)
            stats.last_at = self.clock()
            started = time.perf_counter()
            deadline.start_read(timeout_s)
            try:
                if scheme == "https" and self.trust.learning:
                    self.trust.observe(
                        await fetch_certificate(self.hostname, self.port or 443, timeout_s)
                    )
                async with session.request(
                    method,
                    self._url(path, scheme),
                    headers=send_headers,
                    data=data,
                    ssl=self._ssl() if scheme == "https" else False,
                    allow_redirects=False,
                    auto_decompress=False,
                    # aiohttp resends PUT/DELETE on a dropped connection by itself: never a write
                    middlewares=NO_RETRY if method.upper() != "GET" else None,
                    timeout=_NO_AIOHTTP_TIMEOUT,  # the deadline keeps the time
                ) as response:
                    try:
                        body = await read_bounded(response, cap=max_bytes, path=path)
                    except EnvoyParseError:
                        response.close()  # drop the connection and what it still holds
                        raise
                    status, answer_headers = response.status, response.headers
            except (asyncio.CancelledError, TimeoutError, EnvoyParseError, EnvoyConnectionError,
                    aiohttp.ClientError) as err:  # fmt: skip
                self._failed(err, deadline, stats, started, (method, path, scheme, timeout_s))
                raise  # unreachable: `_failed` raises
            finally:
                deadline.end_read()
                if own:
                    deadline.close()
        elapsed = time.perf_counter() - started
        stats.record(elapsed, status, failed=status >= 400)
        if scheme == "https" and path == "/info" and status == 200:
            self.trust.bind_info(body, self.netloc)  # before any credential is sent
        _LOGGER.debug("%s %s -> %d in %.3f s", method, path, status, elapsed)
        return HttpResult(status, body, answer_headers, elapsed, path)

    def _failed(
        self,
        err: BaseException,
        deadline: Deadline,
        stats: PathStats,
        started: float,
        what: tuple[str, str, str, float],
    ) -> NoReturn:
        """Record a failed exchange and raise what it means (`net.failures`)."""
        method, path, scheme, timeout_s = what
        if isinstance(err, asyncio.CancelledError):
            if not deadline.expired(err):
                raise err  # cancelled by someone else: not ours to judge
            err = TimeoutError()  # the deadline's cut, as `asyncio.timeout` reports it
        if isinstance(err, EnvoyConnectionError):
            self._record_failure(stats, started, method, path, type(err).__name__)
            raise err  # the certificate could not be fetched: already said
        failure = translate(
            err, netloc=self.netloc, method=method, path=path, scheme=scheme, timeout_s=timeout_s
        )
        assert failure is not None  # each type `_exchange` catches is translated
        self._record_failure(stats, started, method, path, failure.reason)
        if failure.error is err:
            raise err
        raise failure.error from err

    def _record_failure(
        self, stats: PathStats, started: float, method: str, path: str, reason: str
    ) -> None:
        elapsed = time.perf_counter() - started
        stats.record(elapsed, None, failed=True)
        _LOGGER.debug("%s %s -> %s after %.3f s", method, path, reason, elapsed)

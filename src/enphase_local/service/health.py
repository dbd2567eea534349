"""Each gateway's health, one word: connected, stale, unreachable, auth_failed, certificate_changed.

Why derived here and not in the library: `Envoy.update()` rarely raises for
a gateway gone away. It keeps the last data of every source, marks it stale
and returns a snapshot whose ``errors`` say why. Whether the gateway still
*answers* is read from its transport statistics instead: an update whose
exchanges all failed (no connection, timeout, HTTP 5xx) is silence, and
silence longer than ``unreachable_after_s`` (3 intervals by default) is
`unreachable`, whatever the snapshot looks like.

An update that asks nothing (every source between its reads, or backing
off after failures) is no news either way; but a gateway that died just
after its last answer would then stay `connected` for as long as nothing
happens to be due. So the collector asks one cheap question (`/info`) when
the gateway has been `unheard_for` the silence limit less an interval:
whether a gateway answers never depends on a request being due.

Each bad state is logged once when it starts, with what to do, and once when
it ends, with how long it lasted: a collector that runs for years must not
write the same line every interval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["ADVICE", "BAD_STATES", "Silence", "advice", "ended", "reason"]

# "ClientConnectorError: " / "(TimeoutError)": a class name tells a reader nothing
_CLASS_NAME = re.compile(r"\(?\b[A-Z][A-Za-z]*(?:Error|Exception)\b\)?:?\s*")

BAD_STATES = ("stale", "unreachable", "auth_failed", "certificate_changed")

ADVICE = {
    "stale": "it answers but its power data is old; this usually passes by itself",
    "unreachable": "check that the gateway is powered and on the network at {host}",
    "auth_failed": "get a new token with `enphase token {host}` (or fix the username/password)",
    "certificate_changed": "if the gateway was replaced or reset, trust it with "
    "`enphase trust {host}`; otherwise something else answers at {host}",
}


def advice(state: str, host: str) -> str:
    """What a user can do about `state`, naming the gateway's address."""
    return ADVICE.get(state, "").format(host=host)


def reason(err: BaseException) -> str:
    """An error as a user reads it: its message, never a Python class name alone."""
    text = _CLASS_NAME.sub("", str(err)).strip(" :;")
    return text or (type(err).__doc__ or "the gateway failed").strip().splitlines()[0]


def ended(state: str, seconds: float) -> str:
    """The end of a bad state, with how long it lasted (``unreachable ended after 4 min``)."""
    if seconds < 120:
        span = f"{seconds:.0f} s"
    elif seconds < 7200:
        span = f"{seconds / 60:.0f} min"
    else:
        span = f"{seconds / 3600:.1f} h"
    return f"{state} ended after {span}"


@dataclass(slots=True)
class Silence:
    """How long a gateway has given no good answer, from its transport's statistics.

    `observe` after each update (`stats` is ``envoy.stats``): a successful
    exchange since the last look is an answer; only failed exchanges are
    silence; no exchange at all (nothing was due) says nothing either way,
    which `unheard_for` measures.
    `failed` notes an update that ended without a client (a refused connect).
    """

    answered_at: float | None = None
    silent_since: float | None = None
    heard_at: float | None = None  # the last exchange of any outcome
    _source: Any = None
    _ok: int = 0
    _failures: int = 0

    def observe(self, source: Any, stats: Any, now: float) -> None:
        if source is not self._source:
            self._source, self._ok, self._failures = source, 0, 0
        ok, failures = stats.requests - stats.failures, stats.failures
        if ok > self._ok:
            self.answered_at, self.silent_since = now, None
        elif failures > self._failures and self.silent_since is None:
            self.silent_since = now
        if ok > self._ok or failures > self._failures:
            self.heard_at = now
        self._ok, self._failures = ok, failures

    def failed(self, now: float) -> None:
        self.heard_at = now
        if self.silent_since is None:
            self.silent_since = now

    def unheard_for(self, now: float) -> float:
        """Seconds without any exchange while the gateway is thought to answer (else 0).

        Already silent, there is nothing to find out: the engine's own spaced
        retries (`engine.schedule.retry_delay`) tell when it answers again,
        and the collector adds no request to a failing gateway.
        """
        if self.silent_since is not None or self.heard_at is None:
            return 0.0
        return max(0.0, now - self.heard_at)

    def silent_for(self, now: float) -> float:
        """Seconds since the last good answer (0 while the gateway answers)."""
        if self.silent_since is None:
            return 0.0
        start = self.answered_at if self.answered_at is not None else self.silent_since
        return max(0.0, now - start)

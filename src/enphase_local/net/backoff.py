"""Exponential backoff with full jitter, and the retry policy of the transport.

Why full jitter: a gateway that restarts (daily shortly after 23:00, or after
a firmware push) comes back to every client at once. Spreading each retry
uniformly over ``[0, min(cap, base * 2**attempt)]`` keeps clients from
retrying in lockstep and keeps a fragile gateway from being hammered.

The random source is injected so that tests can assert exact delays.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["RetryPolicy", "backoff_delay"]

# 2**60 seconds is beyond any cap anyone will configure; stop growing there
# so huge attempt numbers never overflow a float.
_MAX_EXPONENT = 60


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry).

    The delay is uniform in ``[0, min(cap, base * 2**attempt)]``.
    """
    if attempt < 0:
        raise ValueError("attempt is 0-based and cannot be negative")
    if base < 0 or cap < 0:
        raise ValueError("base and cap must not be negative")
    ceiling = min(cap, base * 2.0 ** min(attempt, _MAX_EXPONENT))
    return rng.uniform(0.0, ceiling)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently the transport retries a read.

    `attempts` counts every try, the first included: 3 means one request and
    at most two retries; 1 turns retries off. Only connection errors,
    timeouts and 5xx answers are retried, and never writes.
    """

    attempts: int = 3
    base_s: float = 0.5
    cap_s: float = 10.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts counts the first try too: it must be at least 1")
        if self.base_s < 0 or self.cap_s < 0:
            raise ValueError("base_s and cap_s must not be negative")

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        return backoff_delay(retry, base=self.base_s, cap=self.cap_s, rng=rng)

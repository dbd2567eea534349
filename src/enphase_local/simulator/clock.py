"""The simulator's clock: real time, accelerated time, or time set by tests.

Every time-dependent behaviour of the simulator (solar curve, counters,
inverter reports, token expiry, outage window, relay delay) reads
`SimClock.now()`, so a test can replay a whole day in milliseconds and a
demo can run a day in minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["SimClock"]


class SimClock:
    """Epoch seconds that run at `speed` times real time from `start`, or only when moved.

    - ``SimClock()``: real time.
    - ``SimClock(start=t, speed=60)``: starts at `t`, one real second is a simulated minute.
    - ``SimClock(start=t, speed=0)``: frozen; tests move it with `advance` or `set`.
    """

    __slots__ = ("_anchor_real", "_anchor_sim", "_real", "_speed")

    def __init__(
        self,
        start: float | None = None,
        speed: float = 1.0,
        *,
        real_time: Callable[[], float] = time.time,
    ) -> None:
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        self._real = real_time
        self._anchor_real = real_time()
        self._anchor_sim = self._anchor_real if start is None else float(start)
        self._speed = float(speed)

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        """Simulated epoch seconds."""
        if self._speed == 0:
            return self._anchor_sim
        return self._anchor_sim + (self._real() - self._anchor_real) * self._speed

    def __call__(self) -> float:
        return self.now()

    def set(self, when: float) -> None:
        """Jump to `when` (epoch seconds); time then runs on from there at the same speed."""
        self._anchor_real = self._real()
        self._anchor_sim = float(when)

    def advance(self, seconds: float) -> None:
        """Move forward by `seconds` (negative values are refused: counters never run back)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.set(self.now() + seconds)

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        self.set(self.now())
        self._speed = float(speed)

"""Time limits for one task's requests on one timer: the update's, and each read's.

Why (issue 31 item 4): a steady update used to set up, for every read, an
`asyncio.wait_for` (a task of its own on Python 3.11) for the update's
budget and an aiohttp `ClientTimeout` (a timer context and a timer) for the
read's own limit. Those were most of what a kept-alive request cost beyond
aiohttp itself. A `Deadline` holds both limits for the task that made it:

- `end`: the whole update's (the budget, `engine.budget`), loop time;
- a read's: from `start_read(limit_s)` until `end_read()`.

It keeps one `loop.call_at` timer armed at the earliest limit it has seen.
A read that ends in time leaves the timer armed; when it fires it looks at
the limits in force then: past one of them, it cancels the task (as
`asyncio.timeout` does, and `expired` turns that cancellation back into a
timeout); otherwise it re-arms itself at the next limit. An update whose
reads all answer within the first read's limit (the usual case, by far)
arms exactly one timer, and cancels it in `close`.

A read started by another task (the live stream, a caller's request during
an update) never uses it: `Transport` gives such a read a deadline of its
own (`for_read`), as before one timer per read.
"""

from __future__ import annotations

import asyncio
import math

__all__ = ["Deadline"]


class Deadline:
    """The limits of the current task's reads (see the module docstring)."""

    __slots__ = (
        "_armed", "_cancelling", "_depth", "_fired", "_handle", "_loop", "_read_end", "_task",
        "end",
    )  # fmt: skip

    def __init__(self, end: float = math.inf) -> None:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a Deadline belongs to a task: create it inside one")
        self._loop = asyncio.get_running_loop()
        self._task = task
        self._cancelling = task.cancelling()
        self.end = end  # loop time after which nothing more is read (the update's budget)
        self._read_end = math.inf
        self._handle: asyncio.TimerHandle | None = None
        self._armed = math.inf  # when the timer fires (inf: none armed)
        self._fired = False  # this deadline cancelled the task and `expired` has not said so yet
        self._depth = 0  # `enter`ed scopes that turn a cancellation back into a timeout

    @classmethod
    def for_read(cls) -> Deadline:
        """A deadline for one read outside an update: no limit but the read's own."""
        return cls()

    def owned(self) -> bool:
        """Whether the running task is the one this deadline limits."""
        return asyncio.current_task() is self._task

    def limit(self) -> float:
        """The loop time at which the current work must stop (inf: none)."""
        return min(self.end, self._read_end)

    def start_read(self, limit_s: float) -> None:
        """A read starts: it may take `limit_s` seconds, and never past `end`."""
        self._read_end = self._loop.time() + limit_s
        self._arm()

    def end_read(self) -> None:
        """The read is over: its limit no longer applies (the timer stays armed, see above)."""
        self._read_end = math.inf

    def enter(self) -> None:
        """Code between reads (a retry's back-off) that handles `expired` may be cut short too."""
        self._depth += 1

    def leave(self) -> None:
        self._depth -= 1

    def passed(self) -> bool:
        """Whether `end` (the update's limit) has come."""
        return self._loop.time() >= self.end

    def expired(self, error: BaseException) -> bool:
        """`error` is the cancellation this deadline caused: handle it as a timeout.

        Like `asyncio.Timeout.__aexit__`: a cancellation asked for by someone
        else as well (the task itself being cancelled) stays a cancellation.
        """
        if not self._fired or not isinstance(error, asyncio.CancelledError):
            return False
        self._fired = False
        return self._task.uncancel() <= self._cancelling

    def close(self) -> None:
        """No more reads: drop the timer."""
        if self._handle is not None:
            self._handle.cancel()
        self._handle, self._armed = None, math.inf

    def _arm(self) -> None:
        when = self.limit()
        if when >= self._armed or when == math.inf:
            return  # the armed timer comes first and looks again when it fires
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._loop.call_at(when, self._fire)
        self._armed = when

    def _fire(self) -> None:
        self._handle, self._armed = None, math.inf
        if self._loop.time() < self.limit():
            self._arm()  # armed for an earlier read that ended in time: wait for this one's
            return
        # Cut only what is ready to hear it: a read, or a scope that `enter`ed. Elsewhere the
        # task goes on, and its next read starts past its limit and is cut at once.
        if (self._depth or self._read_end != math.inf) and not self._task.done():
            self._fired = True
            self._task.cancel()

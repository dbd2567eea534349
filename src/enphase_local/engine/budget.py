"""A deadline per update: a hanging gateway costs one bounded update, not minutes.

When every endpoint hangs, reading them one after the other at their own
timeouts (with retries) took 314 s for one update, about 12 minutes on a
battery site. `UpdateBudget` bounds an update as a whole:

- every read gets at most the time left less a reserve (`run`), so the whole
  update ends within `total_s` (by default 2.5 times the slow timeout,
  `default_budget`): the reserve (a tenth of the budget, at most half a
  second) pays for what follows the last read, the snapshot and closing a
  cancelled connection, which made an update on a 15.0 s budget return
  after 15.03 s;
- after `STOP_AFTER` consecutive sources failed to connect or timed out,
  the gateway is not answering: the rest are not asked (`stopped` says why)
  and keep their last data, marked stale with the time it was read;
- after the first such failure, reads are no longer retried within this
  update (`retry`): retries are for a lost packet, not a hung gateway.

It measures real time through an injected monotonic clock (the event loop's
by default): the schedule's clock may be a simulated one, but a timeout is
always real.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from ..errors import EnvoyConnectionError, EnvoyError, EnvoyHTTPError, EnvoyTimeoutError

__all__ = [
    "BUDGET_FACTOR",
    "STOP_AFTER",
    "Cutter",
    "UpdateBudget",
    "bounded_by_budget",
    "default_budget",
]

T = TypeVar("T")
P = ParamSpec("P")

BUDGET_FACTOR = 2.5  # the budget, in slowest single timeouts
STOP_AFTER = 2  # consecutive unreachable sources before an update stops asking
RESERVE_SHARE = 0.1  # of the budget, kept for the work after the reads ...
RESERVE_MAX_S = 0.5  # ... but never more than this


def default_budget(slowest_timeout_s: float) -> float:
    """The default total budget of one update: 2.5 times the slowest single timeout."""
    return BUDGET_FACTOR * slowest_timeout_s


@dataclass(slots=True)
class UpdateBudget:
    """Time and patience left for one update."""

    total_s: float
    monotonic: Callable[[], float]
    started: float = 0.0
    gentle: bool = False  # in the nightly restart window: no retries at all
    unreachable_in_row: int = 0
    stopped: str | None = None
    failures: list[EnvoyError] = field(default_factory=list)  # this update's read errors

    @classmethod
    def start(
        cls,
        total_s: float,
        monotonic: Callable[[], float] | None = None,
        *,
        gentle: bool = False,
    ) -> UpdateBudget:
        clock = monotonic or asyncio.get_running_loop().time
        return cls(total_s, clock, clock(), gentle)

    def remaining(self) -> float:
        return self.total_s - (self.monotonic() - self.started)

    def reserve(self) -> float:
        """Time kept back from the reads for building the snapshot after them."""
        return min(RESERVE_MAX_S, RESERVE_SHARE * self.total_s)

    def retry(self) -> bool:
        """Whether reads may be retried now (not in the nightly window, not once hanging)."""
        return not self.gentle and self.unreachable_in_row == 0

    def left(self) -> float:
        """Seconds the reads may still take (the reserve kept back)."""
        return self.remaining() - self.reserve()

    async def run(self, read: Awaitable[T], deadline: Cutter | None = None) -> T:
        """`read`, cut at the time left (less the reserve): `EnvoyTimeoutError` when out.

        With the update's `deadline` (`net.deadline.Deadline`, its `end` set
        from `left`), the cut is its timer, shared by every read of the
        update; without one, `asyncio.wait_for` (a task and a timer per read).
        """
        try:
            if self.left() <= 0:
                raise TimeoutError
            if deadline is None:
                return await asyncio.wait_for(read, timeout=self.left())
            deadline.enter()
            try:
                return await read
            except asyncio.CancelledError as err:
                if deadline.expired(err):
                    raise TimeoutError from None
                raise
            except EnvoyTimeoutError:
                if deadline.passed():  # the read was cut by the update's end, not its own
                    raise TimeoutError from None
                raise
            finally:
                deadline.leave()
        except TimeoutError:
            if asyncio.iscoroutine(read):
                read.close()  # never started: no "was never awaited" warning
            self.stopped = (
                f"the update's time budget ({self.total_s:g} s) ran out: "
                "the gateway is answering too slowly"
            )
            raise EnvoyTimeoutError(self.stopped) from None

    def record(self, error: BaseException | None) -> None:
        """Count a read's outcome; stop the update after `STOP_AFTER` unreachable in a row.

        Unreachable: no connection, a timeout, or a 5xx after the transport's
        retries (a rebooting gateway answers 503 to everything).
        """
        away = isinstance(error, EnvoyConnectionError) or (
            isinstance(error, EnvoyHTTPError) and error.status >= 500
        )
        if not away:
            self.unreachable_in_row = 0
            return
        self.unreachable_in_row += 1
        if self.unreachable_in_row >= STOP_AFTER and self.stopped is None:
            kind = "timed out" if isinstance(error, EnvoyTimeoutError) else "failed"
            self.stopped = (
                f"{self.unreachable_in_row} reads in a row {kind}: the gateway is not "
                "answering, the rest were not asked"
            )


class Cutter(Protocol):
    """The update's deadline as the budget sees it (`net.deadline.Deadline`)."""

    def enter(self) -> None: ...
    def leave(self) -> None: ...
    def expired(self, error: BaseException) -> bool: ...
    def passed(self) -> bool: ...


class _Budgeted(Protocol):
    host: str
    update_budget_s: float


S = TypeVar("S", bound=_Budgeted)


def bounded_by_budget(
    what: str,
) -> Callable[
    [Callable[Concatenate[S, P], Coroutine[Any, Any, T]]],
    Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
]:
    """A method of a client that ends within its ``update_budget_s``, or raises a timeout.

    Updates have had a budget since issue 11; connecting and probing did
    not, and a gateway that answered `/info` and then hung made the probe
    ask a dozen sources at their own timeouts, with retries: minutes before
    anything failed. Bounded, a connect fails in time with one clear error,
    and the next `update()` tries again. Nested bounded calls share the
    outer deadline (the outer one expires first).
    """

    def wrap(
        method: Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
    ) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
        async def bounded(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
            limit = self.update_budget_s
            deadline = asyncio.timeout(limit)
            try:
                async with deadline:
                    return await method(self, *args, **kwargs)
            except TimeoutError:
                if not deadline.expired():
                    raise
                raise EnvoyTimeoutError(
                    f"{what} {self.host} took longer than {limit:g} s (update_budget_s): the "
                    "gateway answers too slowly or stopped answering; try again in a few "
                    "minutes"
                ) from None

        functools.update_wrapper(bounded, method)  # name and docstring stay the method's
        return bounded

    return wrap

"""`net.deadline.Deadline`: the update's and each read's limits on one timer (issue 31 item 4).

Every wait here ends on an event or on the deadline under test itself; the
limits are far apart (0.05 s against 60 s), so a busy machine changes nothing.
"""

from __future__ import annotations

import asyncio
import math

import pytest

from enphase_local.net.deadline import Deadline


class TimerCount:
    """Count `loop.call_at` calls made for a `Deadline` (the loop's own timers go on)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch) -> None:
        self.deadline_timers = 0
        real = loop.call_at

        def call_at(when: float, callback: object, *args: object, **kw: object) -> object:
            if isinstance(getattr(callback, "__self__", None), Deadline):
                self.deadline_timers += 1
            return real(when, callback, *args, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(loop, "call_at", call_at)


async def test_reads_that_answer_in_time_share_one_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    timers = TimerCount(asyncio.get_running_loop(), monkeypatch)
    deadline = Deadline(asyncio.get_running_loop().time() + 60)
    for _ in range(5):
        deadline.start_read(10.0)
        await asyncio.sleep(0)  # a read that answers at once
        deadline.end_read()
    deadline.close()
    assert timers.deadline_timers == 1


async def test_a_stuck_read_is_cut_at_its_own_limit() -> None:
    deadline = Deadline()  # no update limit: only the read's
    deadline.start_read(0.05)
    with pytest.raises(asyncio.CancelledError) as caught:
        await asyncio.Event().wait()
    assert deadline.expired(caught.value)  # the deadline's doing: a timeout to the caller
    deadline.end_read()
    deadline.close()


async def test_the_update_limit_cuts_a_read_whose_own_limit_is_later() -> None:
    loop = asyncio.get_running_loop()
    deadline = Deadline(loop.time() + 0.05)
    deadline.start_read(60.0)
    started = loop.time()
    with pytest.raises(asyncio.CancelledError) as caught:
        await asyncio.Event().wait()
    assert deadline.expired(caught.value) and deadline.passed()
    assert loop.time() - started < 30  # the update's 0.05 s, not the read's 60 s
    deadline.close()


async def test_a_timer_armed_for_an_earlier_read_waits_for_the_current_one() -> None:
    """The first read armed the timer at its limit; the second, started later, may run longer.

    The read limits are 0.2 s apart in start time and the timer fires at the
    first's: the second read must still be running then, and be cut at its own.
    """
    loop = asyncio.get_running_loop()
    deadline = Deadline()
    deadline.start_read(0.3)
    first_limit = deadline.limit()
    deadline.end_read()
    await asyncio.sleep(0.2)
    deadline.start_read(0.3)
    second_limit = deadline.limit()
    assert second_limit > first_limit
    with pytest.raises(asyncio.CancelledError) as caught:
        await asyncio.Event().wait()
    assert loop.time() >= second_limit
    assert deadline.expired(caught.value)
    deadline.close()


async def test_someone_elses_cancellation_stays_a_cancellation() -> None:
    deadline_made = asyncio.Event()
    holder: list[Deadline] = []

    async def reader() -> None:
        deadline = Deadline()
        holder.append(deadline)
        deadline.start_read(60.0)
        deadline_made.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError as err:
            assert not deadline.expired(err)
            raise
        finally:
            deadline.close()

    task = asyncio.create_task(reader())
    await deadline_made.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_outside_a_read_or_scope_the_task_is_not_cancelled() -> None:
    """Bookkeeping between reads is never interrupted: the next read starts already late."""
    loop = asyncio.get_running_loop()
    deadline = Deadline(loop.time() + 0.05)
    deadline.start_read(60.0)
    deadline.end_read()
    await asyncio.sleep(0.1)  # past the update's limit, in no read: goes on
    assert deadline.passed() and deadline.limit() < math.inf
    deadline.start_read(60.0)  # the next read is cut at once
    with pytest.raises(asyncio.CancelledError) as caught:
        await asyncio.Event().wait()
    assert deadline.expired(caught.value)
    deadline.close()

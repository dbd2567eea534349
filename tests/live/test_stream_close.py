"""`MeterStream.close()` must not swallow its caller's cancellation (Ctrl-C in `watch`/`demo`).

asyncio.run turns the first Ctrl-C into a cancellation of the main task; if that lands
while `close()` waits for the stream's reader task to stop, a blanket
``suppress(CancelledError)`` ate it and the live view went on. Deterministic: the
reader takes "a moment" to stop that ends on an event, and the caller is cancelled
inside that moment.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from enphase_local.live.stream import MeterStream


async def _slow_reader(release: asyncio.Event) -> None:
    try:
        await asyncio.Event().wait()  # reading the stream, until cancelled
    except asyncio.CancelledError:
        await release.wait()  # closing its connection takes a moment
        raise


async def test_close_passes_on_a_cancellation_of_its_caller() -> None:
    stream = MeterStream(cast(Any, None))  # close() never touches the link
    release = asyncio.Event()
    stream._task = asyncio.create_task(_slow_reader(release))
    await asyncio.sleep(0)  # the reader is reading
    closing = asyncio.create_task(stream.close())
    await asyncio.sleep(0)  # close() has cancelled the reader and waits for it
    assert not closing.done()
    closing.cancel()  # Ctrl-C: the caller is cancelled while it waits
    release.set()
    await asyncio.gather(closing, return_exceptions=True)
    assert closing.cancelled()
    assert stream._task is None


async def test_close_swallows_only_the_readers_own_cancellation() -> None:
    stream = MeterStream(cast(Any, None))
    release = asyncio.Event()
    release.set()
    stream._task = asyncio.create_task(_slow_reader(release))
    await asyncio.sleep(0)
    await stream.close()  # returns normally: the reader was cancelled, not the caller
    await stream.close()  # and twice is safe

"""MQTT commands in order: one write per gateway and control at a time, spaced, newest wins.

Why a queue and not a task per message: a burst of commands (a slider
dragged in Home Assistant, a script in a loop, a hostile client) became one
gateway write each, 40 writes over 40 s for 40 messages. Here, per gateway
and control:

- at most one write is in flight, and the next starts no sooner than
  `spacing_s` after the previous one ended;
- one command waits; a newer one replaces it, and the replaced one gets the
  result ``superseded`` (nothing was sent for it);
- every command gets exactly one result (a confirmed storage write may later
  get one more, ``reverted``, see below).

Writes to the same gateway also go one at a time across controls: the three
storage settings share one tariff document that each write reads, changes and
sends back whole, so two at once would undo each other.

``reverted``: `verify_after_s` after a confirmed storage write the value is
read again, and reported ``reverted`` only if it changed *and* no newer
command for that control came in since (each accepted command bumps the
control's generation). Why: a newer command changes the value on purpose;
reporting that as a revert blamed the Enphase cloud for our own write. Whether
the cloud is named is the control layer's decision (`control.storage`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..control import Control, Outcome, WriteResult
from ..errors import EnvoyError
from .mqtt_commands import STORAGE_CONTROLS, Command, result_doc, run_command

__all__ = ["CommandQueue", "Report"]

_LOG = logging.getLogger("enphase_local.service.mqtt")

Report = Callable[[str, str, dict[str, Any], WriteResult | None], Awaitable[None]]
"""How a result leaves the queue: (serial, control, result document, write result or None)."""


@dataclass(slots=True)
class _Waiting:
    command: Command
    generation: int
    control: Control


@dataclass(slots=True)
class _Slot:
    """One gateway's one control: the waiting command, its generation, the last write's end."""

    waiting: _Waiting | None = None
    generation: int = 0
    last_end: float | None = None
    worker: asyncio.Task[None] | None = field(default=None, repr=False)


class CommandQueue:
    """Runs commands per (gateway, control): spaced, one in flight, newest replacing waiting."""

    def __init__(
        self,
        report: Report,
        *,
        spacing_s: float,
        verify_after_s: float | None,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._report = report
        self._spacing_s = spacing_s
        self._verify_after_s = verify_after_s
        self._clock = clock
        self._sleep = sleep
        self._slots: dict[tuple[str, str], _Slot] = {}
        self._gateway_locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, serial: str, control: Control, command: Command) -> None:
        """Queue `command` (synchronous: the order of arrival is the order of generations)."""
        slot = self._slots.setdefault((serial, command.control), _Slot())
        slot.generation += 1
        replaced = slot.waiting
        if replaced is not None:
            doc = result_doc(
                command.control,
                "superseded",
                "replaced by a newer command before it was sent; nothing was sent for this one",
                requested=replaced.command.value,
            )
            self._spawn(self._report(serial, command.control, doc, None))
        slot.waiting = _Waiting(command, slot.generation, control)
        if slot.worker is None or slot.worker.done():
            slot.worker = self._spawn(self._work(serial, command.control, slot))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:
                _LOG.debug("MQTT command task ended with an error", exc_info=True)

    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _work(self, serial: str, name: str, slot: _Slot) -> None:
        while slot.waiting is not None:
            if slot.last_end is not None:
                wait = slot.last_end + self._spacing_s - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            item, slot.waiting = slot.waiting, None
            async with self._gateway_locks.setdefault(serial, asyncio.Lock()):
                try:
                    doc, result = await run_command(item.control, item.command)
                except Exception as err:  # a bug must still end in a result, not silence
                    _LOG.exception("MQTT command %s on %s failed unexpectedly", name, serial)
                    doc = result_doc(name, "failed", f"internal error: {type(err).__name__}")
                    result = None
                slot.last_end = self._clock()
            await self._report(serial, name, doc, result)
            if (
                result is not None
                and result.outcome is Outcome.CONFIRMED
                and name in STORAGE_CONTROLS
                and self._verify_after_s
            ):
                self._spawn(self._verify(serial, name, slot, item, result))

    async def _verify(
        self, serial: str, name: str, slot: _Slot, item: _Waiting, result: WriteResult
    ) -> None:
        """Read a confirmed storage setting again later; ``reverted`` only if nobody asked since."""
        assert self._verify_after_s is not None
        await self._sleep(self._verify_after_s)
        if slot.generation != item.generation:
            _LOG.debug("MQTT: %s on %s: a newer command came; no re-check", name, serial)
            return
        try:
            later = await item.control.verify_later(result)
        except EnvoyError as err:
            _LOG.info("MQTT: could not re-read %s on %s: %s", name, serial, err)
            return
        if later.outcome is not Outcome.REVERTED or slot.generation != item.generation:
            return
        doc = result_doc(name, later.outcome.value, later.message, result=later)
        await self._report(serial, name, doc, later)

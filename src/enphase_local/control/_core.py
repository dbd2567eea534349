"""The one way every write action goes: validate, send once, read back, report.

Each action module (storage, relay, contacts, generator, acb) only builds the
request and says how to read its value back; `ControlCore.write` does the
rest the same way for all of them, so the safety rules hold everywhere:

- a write is sent exactly once (`ControlTarget.request` never retries and
  neither does this layer): repeating a relay or contact write blindly could
  switch it twice;
- a non-2xx answer raises `EnvoyHTTPError` and nothing is read back;
- after a 2xx the value is read back, every `Poll.interval_s` until it shows
  or `Poll.timeout_s` runs out. Read errors while polling do not raise: the
  write was accepted, and the caller must learn that (outcome ``pending``);
- time comes from the injected `clock` and `sleep`, so tests replay minutes
  of polling instantly against the simulator's clock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..capabilities import Capability
from ..errors import EnvoyError, EnvoyFeatureUnavailable, EnvoyHTTPError
from ..firmware import Firmware
from ..sources.registry import Source
from .result import Check, Outcome, WriteRequest, WriteResult
from .target import ControlTarget

__all__ = ["Clock", "ControlCore", "Poll", "Sleep", "show"]

_LOG = logging.getLogger("enphase_local.control")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_SNIPPET = 120
# The largest write body sent: the biggest real one is a whole tariff (about 14 KB in the
# capture set). Each body builder checks its own fields; this is the last line, so a body
# no gateway expects (a field builder's oversight) is refused before a byte is sent.
MAX_WRITE_BYTES = 64 * 1024
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Poll:
    """How long to look for a written value: first look after `first_s`, then every `interval_s`."""

    timeout_s: float
    interval_s: float
    first_s: float = 0.0

    def with_timeout(self, timeout_s: float | None) -> Poll:
        if timeout_s is None:
            return self
        if timeout_s < 0:
            raise ValueError(f"timeout_s must be >= 0, got {timeout_s!r}")
        return dataclasses.replace(self, timeout_s=timeout_s, first_s=min(self.first_s, timeout_s))


@dataclass(frozen=True, slots=True)
class _Seen:
    found: bool  # the requested value was read back
    read: bool  # at least one read-back succeeded
    value: Any
    error: EnvoyError | None


def _check_size(action: str, request: WriteRequest) -> None:
    """Refuse, sending nothing, a body larger than any write a gateway takes."""
    if request.body is None:
        return
    size = len(json.dumps(request.body, separators=(",", ":"), default=str))
    if size > MAX_WRITE_BYTES:
        raise ValueError(
            f"{action}: the request body would be {size:,} bytes, more than the "
            f"{MAX_WRITE_BYTES:,} any gateway write takes; nothing was sent (check the values)"
        )


def show(value: Any) -> str:
    """A value as a person reads it in a message."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(", ", ": "))
    return str(value)


class ControlCore:
    """State and helpers shared by the action mixins: the target, the clock, the write path."""

    def __init__(
        self, target: ControlTarget, *, clock: Clock = time.time, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._target = target
        self._clock = clock
        self._sleep = sleep

    @property
    def firmware(self) -> Firmware:
        return self._target.firmware

    def _require(self, capability: Capability, what: str) -> None:
        """Refuse, before anything is sent, an action the gateway cannot do."""
        if capability not in self._target.capabilities:
            raise EnvoyFeatureUnavailable(
                f"cannot {what}: this gateway does not report {capability.value!r} "
                f"(firmware {self.firmware}); check the hardware, "
                "or re-probe after a firmware update"
            )

    async def _read(self, source: Source[T]) -> T:
        return await self._target.read(source)

    async def write(
        self,
        *,
        action: str,
        request: WriteRequest,
        check: Check[Any],
        requested: Any,
        before: Any,
        poll: Poll,
        dry_run: bool,
        unchanged: Outcome = Outcome.PENDING,
        notes: dict[Outcome, str] | None = None,
    ) -> WriteResult:
        """Send `request` once (unless `dry_run`), then read back until `requested` shows.

        `unchanged` is the outcome when the value read back is still `before`
        (``pending`` for slow relays, ``ignored`` for tariff writes);
        `notes` adds advice to the message per outcome.
        """
        notes = notes or {}
        label = check.label
        _check_size(action, request)
        if dry_run:
            return WriteResult(
                action=action,
                outcome=Outcome.DRY_RUN,
                requested=requested,
                before=before,
                after=None,
                message=(
                    f"dry run: would set {label} from {show(before)} to {show(requested)} "
                    f"with {request.method} {request.path}; nothing was sent"
                ),
                elapsed_s=0.0,
                request=request,
                check=check,
            )
        sent_at = self._clock()
        body = None if request.body is None else dict(request.body)
        response = await self._target.request(request.method, request.path, json=body)
        if not 200 <= response.status < 300:
            text = response.body[:_SNIPPET].decode("utf-8", "replace").strip()
            raise EnvoyHTTPError(
                response.status,
                request.path,
                f"the gateway refused to set {label}: HTTP {response.status} for "
                f"{request.method} {request.path}"
                + (f" ({text})" if text else "")
                + "; check the value, your token's role (owner or installer) and the firmware",
            )
        _LOG.debug("%s: %s %s accepted (%d)", action, request.method, request.path, response.status)
        seen = await self._poll(check, requested, poll, sent_at)
        elapsed = max(0.0, self._clock() - sent_at)
        outcome = self._outcome(seen, before, unchanged)
        message = self._message(label, outcome, before, requested, seen=seen, elapsed=elapsed)
        if notes.get(outcome):
            message = f"{message}. {notes[outcome]}"
        return WriteResult(
            action=action,
            outcome=outcome,
            requested=requested,
            before=before,
            after=seen.value if seen.read else None,
            message=message,
            elapsed_s=round(elapsed, 3),
            request=request,
            sent_at=sent_at,
            check=check,
        )

    async def _poll(self, check: Check[Any], want: Any, poll: Poll, started: float) -> _Seen:
        deadline = started + poll.timeout_s
        if poll.first_s > 0:
            await self._sleep(poll.first_s)
        read, value, error = False, None, None
        while True:
            try:
                value = check.extract(await self._target.read(check.source))
            except EnvoyError as err:
                _LOG.debug("read-back of %s failed: %s", check.key, err)
                error = err
            else:
                read, error = True, None
                if value == want:
                    return _Seen(True, True, value, None)
            remaining = deadline - self._clock()
            if remaining <= 0:
                return _Seen(False, read, value if read else None, error)
            await self._sleep(min(poll.interval_s, remaining))

    @staticmethod
    def _outcome(seen: _Seen, before: Any, unchanged: Outcome) -> Outcome:
        if seen.found:
            return Outcome.CONFIRMED
        if seen.read and seen.error is None and seen.value == before:
            return unchanged
        return Outcome.PENDING

    @staticmethod
    def _message(
        label: str, outcome: Outcome, before: Any, requested: Any, *, seen: _Seen, elapsed: float
    ) -> str:
        took = f"{elapsed:.0f} s"
        if outcome is Outcome.CONFIRMED:
            return f"{label} set from {show(before)} to {show(requested)}, confirmed after {took}"
        if outcome is Outcome.IGNORED:
            return (
                f"the gateway accepted {label} {show(requested)} but ignored it: "
                f"it still reads {show(seen.value)} after {took}"
            )
        if seen.error is not None:
            return (
                f"the gateway accepted {label} {show(requested)}, but reading it back failed "
                f"({seen.error}); read it again later"
            )
        return (
            f"the gateway accepted {label} {show(requested)}, but it still reads "
            f"{show(seen.value)} after {took}; read it again later"
        )

    async def verify_later(self, result: WriteResult, *, wait_s: float = 0.0) -> WriteResult:
        """Read a written value again (after `wait_s`) and say whether it held.

        A confirmed value that now reads differently is ``reverted`` (the
        Enphase cloud overwrites local storage settings within 1 to 2 minutes
        on firmware 8.2.4225 and later); a pending one that now shows is
        ``confirmed``. Read errors raise.
        """
        if result.check is None or result.outcome is Outcome.DRY_RUN or result.sent_at is None:
            raise ValueError("nothing to verify: this result was a dry run, nothing was sent")
        if wait_s > 0:
            await self._sleep(wait_s)
        check = result.check
        value = check.extract(await self._target.read(check.source))
        elapsed = round(max(0.0, self._clock() - result.sent_at), 3)
        label = check.label
        if value == result.requested:
            outcome = Outcome.CONFIRMED
            message = f"{label} still reads {show(value)} {elapsed:.0f} s after the write"
        elif result.outcome in (Outcome.CONFIRMED, Outcome.REVERTED):
            outcome = Outcome.REVERTED
            message = (
                f"{label} was set to {show(result.requested)} but reads {show(value)} again "
                f"{elapsed:.0f} s after the write"
            )
            if check.reverted_note:
                message = f"{message}. {check.reverted_note}"
        else:
            outcome = result.outcome
            message = (
                f"{label} still reads {show(value)} {elapsed:.0f} s after the write, "
                f"not {show(result.requested)}"
            )
        return dataclasses.replace(
            result, outcome=outcome, after=value, message=message, elapsed_s=elapsed
        )

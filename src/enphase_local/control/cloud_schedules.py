"""Charge-from-grid and discharge-to-grid schedules, through the Enphase cloud, read back.

Why apart: schedules are the cloud's own objects (no gateway endpoint
writes them), with their own shape (``HH:MM`` times, days 1..7, a state of
charge limit), so they are validated here before anything is sent, and a
change is confirmed by reading the schedule list back from the cloud: an
added schedule is ``confirmed`` once listed, a deleted one once gone
(``pending`` when the list has not caught up within the wait).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..models.cloud_battery import CloudSchedule, CloudSchedules
from ._core import Poll, show
from .cloud_route import CloudRoute
from .result import Outcome, WriteRequest, WriteResult

__all__ = ["SCHEDULE_POLL", "CloudScheduleActions"]

SCHEDULE_POLL = Poll(timeout_s=20.0, interval_s=5.0, first_s=2.0)
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_TYPES = ("CFG", "DTG", "RBD")
_PATH = "/service/batteryConfig/api/v1/battery/sites/schedules"


def _shape(s: CloudSchedule) -> dict[str, Any]:
    limit = s.limit_percent
    return {
        "type": s.schedule_type.upper(),
        "start": s.start,
        "end": s.end,
        "limit": None if limit is None else int(limit),
        "days": list(s.days),
    }


class CloudScheduleActions(CloudRoute):
    """`add_battery_schedule` and `delete_battery_schedule` (cloud only)."""

    async def add_battery_schedule(
        self,
        schedule_type: str,
        *,
        start: str,
        end: str,
        limit_percent: int,
        days: Sequence[int] = (1, 2, 3, 4, 5, 6, 7),
        timezone: str = "UTC",
        dry_run: bool = False,
        timeout_s: float | None = None,
    ) -> WriteResult:
        """Add a CFG (charge from grid), DTG (discharge to grid) or RBD schedule.

        `start` and `end` are ``HH:MM``, `limit_percent` the state of charge
        to charge to (CFG) or discharge down to (DTG), `days` 1 (Monday) to 7.
        """
        kind = schedule_type.upper()
        if kind not in _TYPES:
            raise ValueError(f"schedule type must be one of CFG, DTG, RBD; got {schedule_type!r}")
        for name, value in (("start", start), ("end", end)):
            if not isinstance(value, str) or not _TIME.match(value):
                raise ValueError(f"{name} must be a time as HH:MM; got {value!r}")
        if isinstance(limit_percent, bool) or not isinstance(limit_percent, int):
            raise ValueError(f"limit must be a whole percent; got {limit_percent!r}")
        if not 0 <= limit_percent <= 100:
            raise ValueError(f"limit must be between 0 and 100 percent; got {limit_percent!r}")
        chosen = sorted(set(days))
        if not chosen or any(isinstance(d, bool) or d not in range(1, 8) for d in chosen):
            raise ValueError(f"days must be 1 (Monday) to 7 (Sunday); got {list(days)!r}")
        wanted = {"type": kind, "start": start, "end": end, "limit": limit_percent, "days": chosen}
        body: dict[str, Any] = {"timezone": timezone, "startTime": start, "endTime": end}
        body.update(limit=limit_percent, scheduleType=kind, days=chosen)

        def present(found: CloudSchedules) -> bool:
            return any(_shape(s) == wanted for s in found.schedules)

        async def send(cloud: Any) -> Any:
            return await cloud.add_schedule(
                schedule_type=kind,
                start=start,
                end=end,
                limit_percent=limit_percent,
                days=chosen,
                timezone=timezone,
            )

        return await self._schedule_write(
            action="add_battery_schedule",
            what=f"{kind} schedule {start}-{end} to {limit_percent} %",
            request=WriteRequest("POST", _PATH, body),
            send=send,
            done=present,
            requested=wanted,
            dry_run=dry_run,
            timeout_s=timeout_s,
        )

    async def delete_battery_schedule(
        self, schedule_id: str, *, dry_run: bool = False, timeout_s: float | None = None
    ) -> WriteResult:
        """Delete the schedule `schedule_id` (from `BatteryCloud.schedules()`)."""
        listed = await self._need_cloud().schedules()
        if not any(s.schedule_id == schedule_id for s in listed.schedules):
            raise ValueError(f"no schedule {schedule_id!r} in the cloud's list")

        def gone(found: CloudSchedules) -> bool:
            return all(s.schedule_id != schedule_id for s in found.schedules)

        return await self._schedule_write(
            action="delete_battery_schedule",
            what=f"deleting schedule {schedule_id}",
            request=WriteRequest("POST", f"{_PATH}/{schedule_id}/delete", {}),
            send=lambda cloud: cloud.delete_schedule(schedule_id),
            done=gone,
            requested=None,
            dry_run=dry_run,
            timeout_s=timeout_s,
        )

    async def _schedule_write(
        self,
        *,
        action: str,
        what: str,
        request: WriteRequest,
        send: Callable[[Any], Awaitable[Any]],
        done: Callable[[CloudSchedules], bool],
        requested: Any,
        dry_run: bool,
        timeout_s: float | None,
    ) -> WriteResult:
        cloud = self._need_cloud()
        before = [_shape(s) for s in (await cloud.schedules()).schedules]
        if dry_run:
            return WriteResult(
                action=action,
                outcome=Outcome.DRY_RUN,
                requested=requested,
                before=before,
                after=None,
                message=f"dry run: would send {what} to the Enphase cloud; nothing was sent",
                elapsed_s=0.0,
                request=request,
                route="cloud",
            )
        poll = SCHEDULE_POLL.with_timeout(timeout_s)
        sent_at = self._clock()
        await send(cloud)
        deadline = sent_at + poll.timeout_s
        await self._sleep(poll.first_s)
        while True:
            found = await cloud.schedules()
            if done(found) or self._clock() >= deadline:
                break
            await self._sleep(min(poll.interval_s, max(0.0, deadline - self._clock())))
        ok = done(found)
        elapsed = round(max(0.0, self._clock() - sent_at), 3)
        after = [_shape(s) for s in found.schedules]
        message = (
            f"{what}: confirmed by the Enphase cloud after {elapsed:.0f} s"
            if ok
            else f"{what}: accepted, but the cloud's list does not show it after {elapsed:.0f} s "
            f"(it reads {show(len(after))} schedules); read it again later"
        )
        return WriteResult(
            action=action,
            outcome=Outcome.CONFIRMED if ok else Outcome.PENDING,
            requested=requested,
            before=before,
            after=after,
            message=message,
            elapsed_s=elapsed,
            request=request,
            sent_at=sent_at,
            route="cloud",
        )

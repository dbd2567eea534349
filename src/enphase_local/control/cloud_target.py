"""What the control layer needs from the Enphase cloud's battery service: the seam to `net`.

Why a protocol: `control` and `net` do not import each other (the layout
rule), and the cloud route must be testable against any object that reads
and writes the cloud's battery settings. `net.battery_cloud.BatteryCloud`
satisfies it; the client or the CLI hands one to `Control.use_cloud`.

Contract: each write method sends one request, once, never retried, and
raises `EnvoyHTTPError` (or `EnvoyAuthError`) when the cloud refuses it; the
reads raise `EnvoyError` subclasses. `serial` is the gateway whose pending
state the control layer watches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ..models.cloud_battery import BatterySettings, CloudSchedules

__all__ = ["CloudBatteryTarget"]


class CloudBatteryTarget(Protocol):
    """The Enphase cloud's battery settings of one gateway's site."""

    @property
    def serial(self) -> str: ...

    async def battery_settings(self) -> BatterySettings: ...

    async def put_battery_settings(self, changes: Mapping[str, Any], what: str) -> Any: ...

    async def put_profile(self, profile: str, reserve_percent: float | None) -> Any: ...

    async def accept_itc_disclaimer(self) -> Any: ...

    async def set_storm_guard(self, enabled: bool, *, evse: bool = False) -> Any: ...

    async def schedules(self) -> CloudSchedules: ...

    async def add_schedule(
        self,
        *,
        schedule_type: str,
        start: str,
        end: str,
        limit_percent: int,
        days: Sequence[int],
        timezone: str,
    ) -> Any: ...

    async def delete_schedule(self, schedule_id: str) -> Any: ...

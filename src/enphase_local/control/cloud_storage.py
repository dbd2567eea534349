"""The storage actions' cloud plans: what to send the Enphase cloud, and how to read it back.

Why apart from `control.storage`: that module chooses the route and keeps
the local tariff write; this one knows the cloud's vocabulary (profiles,
``batteryBackupPercentage``, ``veryLowSoc``, ``chargeFromGrid``), checks a
value against the ranges the cloud gives before anything is sent, and names
the gateway field that shows each setting locally (cloud.md section 1).
"""

from __future__ import annotations

import math
from typing import Any

from ..models.battery import BatteryAggregate
from ..models.cloud_battery import BatterySettings, CloudProfile
from ..models.storage_controller import StorageSchedule
from ..sources.ensemble import ENSEMBLE_SECCTRL
from ..sources.storage_controller import SC_SCHED
from ._core import Poll
from .cloud_route import CLOUD_POLL, CloudRoute, CloudWrite
from .result import Check, CloudCheck, WriteRequest, WriteResult

__all__ = ["MODE_OF_PROFILE", "PROFILE_OF_MODE", "CloudStorageActions"]

PROFILE_OF_MODE = {
    "backup": CloudProfile.BACKUP_ONLY,
    "self-consumption": CloudProfile.SELF_CONSUMPTION,
    "economy": CloudProfile.COST_SAVINGS,
}
MODE_OF_PROFILE = {profile.value: mode for mode, profile in PROFILE_OF_MODE.items()}
_API = "/service/batteryConfig/api/v1"


def _reserve_on_gateway(agg: BatteryAggregate) -> float | None:
    """The reserve the gateway runs with; None where it has no IQ Battery to report it for."""
    return agg.configured_backup_soc_percent if agg.encharge_capacity_wh else None


def _shutdown_on_gateway(agg: BatteryAggregate) -> float | None:
    return agg.very_low_soc_percent


def _grid_charge_in_effect(sched: StorageSchedule) -> bool | None:
    """``/ivp/sc/sched`` "Charge From Grid Allowed": the setting the controller runs with."""
    return sched.charge_from_grid_allowed


def _shown_mode(profile: Any) -> Any:
    return MODE_OF_PROFILE.get(profile, profile) if isinstance(profile, str) else profile


def _percent(value: float, what: str, low: float | None, high: float | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number of percent; got {value!r}")
    low = 0.0 if low is None else low
    high = 100.0 if high is None else high
    if not low <= value <= high:
        raise ValueError(f"{what} must be between {low:g} and {high:g} percent; got {value!r}")
    return float(value)


def _whole(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


class CloudStorageActions(CloudRoute):
    """Mode, reserve, charge from grid, shutdown level and Storm Guard through the cloud."""

    def _cloud_poll(self, timeout_s: float | None) -> Poll:
        return CLOUD_POLL.with_timeout(timeout_s)

    async def _gateway_or_cloud(self, check: CloudCheck, settings: BatterySettings) -> Any:
        value = None if check.local is None else await self._local_value(check.local)
        return value if value is not None else settings.effective(check.cloud_key)

    async def _cloud_mode(
        self, mode: str, *, dry_run: bool, timeout_s: float | None, note: str = ""
    ) -> WriteResult:
        profile = PROFILE_OF_MODE.get(mode, CloudProfile.parse(mode))
        if profile is CloudProfile.UNKNOWN:
            raise ValueError(f"unknown storage mode {mode!r}")
        settings = await self._cloud_settings()
        requested = _shown_mode(profile.value)
        check = CloudCheck("storage mode", "profile", profile.value)  # no gateway field shows it
        plan = CloudWrite(
            action="set_storage_mode",
            requested=requested,
            before=_shown_mode(settings.effective("profile")),
            request=WriteRequest("PUT", f"{_API}/profile", {"profile": profile.value}),
            send=lambda cloud: cloud.put_profile(profile.value, None),
            check=check,
        )
        return await self.cloud_write(
            plan, poll=self._cloud_poll(timeout_s), dry_run=dry_run, note=note
        )

    async def _cloud_reserve(
        self, percent: float, *, dry_run: bool, timeout_s: float | None, note: str = ""
    ) -> WriteResult:
        settings = await self._cloud_settings()
        value = _percent(
            percent,
            "the reserve",
            settings.reserve_min_percent,
            settings.reserve_max_percent,
        )
        profile = settings.effective("profile")
        if profile == CloudProfile.BACKUP_ONLY.value and value != 100:
            raise ValueError(
                "the backup mode (Full Backup) keeps the reserve at 100 %: change the mode first"
            )
        label = "battery reserve (%)"
        local = Check(ENSEMBLE_SECCTRL, _reserve_on_gateway, label)
        check = CloudCheck(label, "batteryBackupPercentage", _whole(value), local)
        body = {"profile": profile, "batteryBackupPercentage": _whole(value)}
        plan = CloudWrite(
            action="set_reserve_soc",
            requested=value,
            before=await self._gateway_or_cloud(check, settings),
            request=WriteRequest("PUT", f"{_API}/profile", body),
            send=lambda cloud: cloud.put_profile(str(profile), value),
            check=check,
        )
        return await self.cloud_write(
            plan, poll=self._cloud_poll(timeout_s), dry_run=dry_run, note=note
        )

    async def _cloud_shutdown(
        self, percent: float, *, dry_run: bool, timeout_s: float | None
    ) -> WriteResult:
        settings = await self._cloud_settings()
        value = _percent(
            percent,
            "the shutdown level",
            settings.very_low_soc_min_percent,
            settings.very_low_soc_max_percent,
        )
        label = "shutdown level (%)"
        local = Check(ENSEMBLE_SECCTRL, _shutdown_on_gateway, label)
        check = CloudCheck(label, "veryLowSoc", _whole(value), local)
        body = {"veryLowSoc": _whole(value)}
        plan = CloudWrite(
            action="set_shutdown_soc",
            requested=value,
            before=await self._gateway_or_cloud(check, settings),
            request=WriteRequest("PUT", f"{_API}/batterySettings", body),
            send=lambda cloud: cloud.put_battery_settings(body, "set the shutdown level"),
            check=check,
        )
        return await self.cloud_write(plan, poll=self._cloud_poll(timeout_s), dry_run=dry_run)

    async def _cloud_charge_from_grid(
        self,
        on: bool,
        *,
        accept_itc_disclaimer: bool,
        window_min: tuple[int, int] | None,
        dry_run: bool,
        timeout_s: float | None,
        note: str = "",
    ) -> WriteResult:
        settings = await self._cloud_settings()
        accept = on and not settings.accepted_itc_disclaimer
        if accept and not accept_itc_disclaimer:
            raise ValueError(
                "charging from the grid needs the ITC disclaimer accepted once for this site "
                "(a US tax-credit condition, shown in the Enphase app): pass "
                "accept_itc_disclaimer=True (--accept-itc-disclaimer) to accept it"
            )
        body: dict[str, Any] = {"chargeFromGrid": on}
        if accept:
            body["acceptedItcDisclaimer"] = True
        if window_min is not None:
            begin, end = window_min
            if not (0 <= begin < 1440 and 0 <= end < 1440):
                raise ValueError("the charge window is minutes after midnight, 0 to 1439")
            body.update(
                chargeBeginTime=begin, chargeEndTime=end, chargeFromGridScheduleEnabled=True
            )
        label = "charge from grid"
        in_effect = Check(SC_SCHED, _grid_charge_in_effect, label)  # the scheduler's own view
        check = CloudCheck(label, "chargeFromGrid", on, in_effect)

        async def send(cloud: Any) -> None:
            if accept:
                await cloud.accept_itc_disclaimer()
            await cloud.put_battery_settings(body, "change charge from grid")

        plan = CloudWrite(
            action="set_charge_from_grid",
            requested=on,
            before=settings.effective("chargeFromGrid"),
            request=WriteRequest("PUT", f"{_API}/batterySettings", body),
            send=send,
            check=check,
        )
        return await self.cloud_write(
            plan, poll=self._cloud_poll(timeout_s), dry_run=dry_run, note=note
        )

    async def set_storm_guard(
        self, on: bool, *, dry_run: bool = False, timeout_s: float | None = None
    ) -> WriteResult:
        """Storm Guard on or off (cloud only: the gateway has no local switch for it)."""
        if not isinstance(on, bool):
            raise ValueError(f"Storm Guard must be True or False; got {on!r}")
        settings = await self._cloud_settings()
        state = "enabled" if on else "disabled"
        check = CloudCheck("Storm Guard", "stormGuardState", state)
        plan = CloudWrite(
            action="set_storm_guard",
            requested=state,
            before=settings.effective("stormGuardState"),
            request=WriteRequest("PUT", f"{_API}/stormGuard/toggle", {"stormGuardState": state}),
            send=lambda cloud: cloud.set_storm_guard(on),
            check=check,
        )
        return await self.cloud_write(plan, poll=self._cloud_poll(timeout_s), dry_run=dry_run)

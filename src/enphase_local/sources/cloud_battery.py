"""The Enphase cloud's battery-configuration answers: pure ``bytes -> model`` parsers.

Why here, beside the gateway's endpoint families: the cloud route exists
because new firmware ignores local storage writes, and its answers are read
with the same care as a gateway's. The service is undocumented and differs
by region (docs cloud.md, section 1), so these parsers are lenient where the
field is: bodies come wrapped in ``{"type", "timestamp", "data"}`` or not,
numbers come as numbers, numeric strings or ``"N/A"`` (None here), and
every unknown key is kept in `BatterySettings.raw`. They are strict about
the shape they need (an object where an object must be) and raise nothing
but `EnvoyParseError`.
"""

from __future__ import annotations

import math
from typing import Any

from ..models.cloud_battery import (
    BatterySettings,
    CloudProfile,
    CloudSchedule,
    CloudSchedules,
    CloudSiteSettings,
    StormGuard,
)
from ._json import Obj, as_obj, json_parser

__all__ = [
    "BATTERY_SETTINGS_PATH",
    "SCHEDULES_PATH",
    "SITE_SETTINGS_PATH",
    "cloud_number",
    "parse_battery_settings",
    "parse_cloud_schedules",
    "parse_site_settings",
    "unwrap",
]

BATTERY_SETTINGS_PATH = "/service/batteryConfig/api/v1/batterySettings"
SITE_SETTINGS_PATH = "/service/batteryConfig/api/v1/siteSettings"
SCHEDULES_PATH = "/service/batteryConfig/api/v1/battery/sites/schedules"


def unwrap(data: Any, where: str = "body") -> Obj:
    """The ``data`` object of a wrapped answer, or the answer itself when it is not wrapped."""
    body = as_obj(data, where)
    inner = body.raw("data")
    if isinstance(inner, dict) and ("type" in body or "timestamp" in body):
        return Obj(inner, f"{where}.data")
    return body


def cloud_number(value: Any) -> float | None:
    """A number as the cloud sends it: a number, a numeric string, or ``"N/A"``/null (None)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _int_or(obj: Obj, key: str) -> int | None:
    number = cloud_number(obj.raw(key))
    return None if number is None else int(number)


def _flag_or(obj: Obj, key: str) -> bool | None:
    value = obj.raw(key)
    if isinstance(value, str) and value.upper() == "N/A":
        return None
    return obj.flag_or(key)


def _accepted(value: Any) -> bool:
    """``acceptedItcDisclaimer``: a timestamp once accepted, or a boolean; null/"" when not."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and bool(value.strip()) and value.lower() != "false"


def _profile_reserves(obj: Obj) -> dict[str, float]:
    raw = obj.raw("previousBatteryBackupPercentage")
    if not isinstance(raw, dict):
        return {}
    out: dict[str, float] = {}
    for name, value in raw.items():
        number = cloud_number(value)
        if number is not None:
            out[str(name)] = number
    return out


def _requested(obj: Obj) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The change on its way (``requestedConfig``) and the gateways that have yet to apply it."""
    raw = obj.raw("requestedConfig")
    if raw is None:
        return {}, ()
    req = as_obj(raw, "requestedConfig")
    pending = req.raw("pendingGateways", obj.raw("pendingGateways"))
    serials: tuple[str, ...] = ()
    if isinstance(pending, list):
        serials = tuple(str(s) for s in pending if isinstance(s, str | int))
    values = {k: v for k, v in req.d.items() if k != "pendingGateways"}
    return values, serials


def battery_settings_from(data: Any) -> BatterySettings:
    """The decoded answer of ``GET /batterySettings`` -> `BatterySettings`."""
    obj = unwrap(data)
    requested, pending = _requested(obj)
    profile_name = obj.text_or("profile")
    storm = obj.raw("stormGuardState")
    return BatterySettings(
        profile=CloudProfile.parse(profile_name),
        profile_name=profile_name,
        reserve_percent=cloud_number(obj.raw("batteryBackupPercentage")),
        reserve_min_percent=cloud_number(obj.raw("batteryBackupPercentageMin")),
        reserve_max_percent=cloud_number(obj.raw("batteryBackupPercentageMax")),
        charge_from_grid=_flag_or(obj, "chargeFromGrid"),
        charge_begin_min=_int_or(obj, "chargeBeginTime"),
        charge_end_min=_int_or(obj, "chargeEndTime"),
        charge_schedule_enabled=_flag_or(obj, "chargeFromGridScheduleEnabled"),
        very_low_soc_percent=cloud_number(obj.raw("veryLowSoc")),
        very_low_soc_min_percent=cloud_number(obj.raw("veryLowSocMin")),
        very_low_soc_max_percent=cloud_number(obj.raw("veryLowSocMax")),
        storm_guard=StormGuard.parse(storm),
        accepted_itc_disclaimer=_accepted(obj.raw("acceptedItcDisclaimer")),
        profile_reserves=_profile_reserves(obj),
        requested=requested,
        pending_gateways=pending,
        raw=dict(obj.d),
    )


parse_battery_settings = json_parser(BATTERY_SETTINGS_PATH)(battery_settings_from)


@json_parser(SITE_SETTINGS_PATH)
def parse_site_settings(data: Any) -> CloudSiteSettings:
    """``GET /siteSettings/{site}`` -> the site's flags."""
    obj = unwrap(data)
    user = obj.child_or("userDetails")
    return CloudSiteSettings(
        has_encharge=_flag_or(obj, "hasEncharge"),
        has_enpower=_flag_or(obj, "hasEnpower"),
        has_acb=_flag_or(obj, "hasAcb"),
        country_code=obj.text_or("countryCode"),
        is_emea=bool(_flag_or(obj, "isEmea")),
        show_charge_from_grid=_flag_or(obj, "showChargeFromGrid"),
        show_full_backup=_flag_or(obj, "showFullBackup"),
        show_savings_mode=_flag_or(obj, "showSavingsMode"),
        is_owner=None if user is None else _flag_or(user, "isOwner"),
    )


def _schedule(item: Obj) -> CloudSchedule:
    days = item.raw("days")
    ident = item.raw("id", item.raw("scheduleId"))
    return CloudSchedule(
        schedule_id=None if ident is None else str(ident),
        schedule_type=item.text("scheduleType"),
        start=item.text("startTime"),
        end=item.text("endTime"),
        limit_percent=cloud_number(item.raw("limit")),
        days=tuple(int(d) for d in days if isinstance(d, int)) if isinstance(days, list) else (),
        timezone=item.text_or("timezone"),
    )


@json_parser(SCHEDULES_PATH)
def parse_cloud_schedules(data: Any) -> CloudSchedules:
    """``GET /battery/sites/{site}/schedules`` -> every schedule (a list, or grouped by type)."""
    if isinstance(data, list):
        items: list[Any] = data
    else:
        obj = unwrap(data)
        found = obj.raw("schedules")
        if isinstance(found, list):
            items = found
        else:  # grouped: {"cfg": {"details": [...]}, "dtg": {...}} or {"cfg": [...]}
            items = []
            for value in obj.d.values():
                inner = value.get("details") if isinstance(value, dict) else value
                if isinstance(inner, list):
                    items.extend(inner)
    schedules = tuple(_schedule(as_obj(item, f"schedules[{i}]")) for i, item in enumerate(items))
    return CloudSchedules(schedules=schedules)

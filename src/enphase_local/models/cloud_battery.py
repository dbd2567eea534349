"""Battery settings as the Enphase cloud's battery-configuration service reports them.

Why a model of the cloud's view: on firmware 8.2.4225 and later the gateway
ignores local storage writes, and the Enphase cloud (Enlighten's
``batteryConfig`` service) is the only route that changes the storage
profile, the reserve, charge from grid and the shutdown level. Its answers
also carry what no gateway endpoint shows: the profile itself, the reserve
each profile keeps, and the change that is still on its way to the gateway
(`BatterySettings.requested`, `BatterySettings.pending_gateways`).

Names follow the house units (``*_percent``, minutes after midnight as
``*_min``); `raw` keeps the decoded ``data`` object so fields this library
does not model are never lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._base import FlexEnum, Model

__all__ = [
    "BatterySettings",
    "CloudProfile",
    "CloudSchedule",
    "CloudSchedules",
    "CloudSiteSettings",
    "StormGuard",
]


class CloudProfile(FlexEnum):
    """The battery profile (the app's "mode"), in the cloud's own vocabulary.

    ``COST_SAVINGS`` is the app's "Savings" (the gateway's ``economy``),
    ``BACKUP_ONLY`` its "Full Backup" (``backup``, reserve pinned at 100).
    """

    SELF_CONSUMPTION = "self-consumption"
    COST_SAVINGS = "cost_savings"
    BACKUP_ONLY = "backup_only"
    AI_OPTIMISATION = "ai_optimisation"
    EXPERT = "expert"
    UNKNOWN = "unknown"


class StormGuard(FlexEnum):
    """Storm Guard: charge the batteries full ahead of a storm alert."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class CloudSiteSettings(Model):
    """Site flags from ``GET /siteSettings/{site}``: what the site has and may do.

    `is_emea` matters for writes: EMEA sites set no ``BP-XSRF-Token`` cookie
    and take the XSRF token from this answer's ``x-csrf-token`` header instead.
    """

    has_encharge: bool | None
    has_enpower: bool | None
    has_acb: bool | None
    country_code: str | None
    is_emea: bool
    show_charge_from_grid: bool | None
    show_full_backup: bool | None
    show_savings_mode: bool | None
    is_owner: bool | None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class BatterySettings(Model):
    """``GET /batterySettings/{site}``: the settings in force and the change on its way.

    Top-level values keep the *old* value for 5 to 15 minutes after a write
    (until the gateway reports in); the new values show under `requested` at
    once, and `pending_gateways` lists the gateway serials that have not
    applied them yet. `effective(key)` is the newest value the cloud knows.
    `accepted_itc_disclaimer` is true once the US ITC disclaimer was accepted
    (the cloud sends a timestamp or a boolean).
    """

    _private: ClassVar[frozenset[str]] = frozenset({"raw"})

    profile: CloudProfile
    profile_name: str | None
    reserve_percent: float | None
    reserve_min_percent: float | None
    reserve_max_percent: float | None
    charge_from_grid: bool | None
    charge_begin_min: int | None
    charge_end_min: int | None
    charge_schedule_enabled: bool | None
    very_low_soc_percent: float | None
    very_low_soc_min_percent: float | None
    very_low_soc_max_percent: float | None
    storm_guard: StormGuard
    accepted_itc_disclaimer: bool
    profile_reserves: Mapping[str, float]
    requested: Mapping[str, Any]
    pending_gateways: tuple[str, ...]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def pending_for(self, serial: str) -> bool:
        """Whether gateway `serial` has yet to apply the requested change."""
        return serial in self.pending_gateways

    def effective(self, key: str) -> Any:
        """The newest value of wire key `key`: requested if a change is on its way, else current."""
        if key in self.requested:
            return self.requested[key]
        return self.raw.get(key)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class CloudSchedule(Model):
    """One charge-from-grid (CFG), discharge-to-grid (DTG) or RBD schedule."""

    schedule_id: str | None
    schedule_type: str
    start: str
    end: str
    limit_percent: float | None
    days: tuple[int, ...]
    timezone: str | None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class CloudSchedules(Model):
    """``GET /battery/sites/{site}/schedules``: every schedule, by type."""

    schedules: tuple[CloudSchedule, ...]

    def of_type(self, schedule_type: str) -> tuple[CloudSchedule, ...]:
        wanted = schedule_type.upper()
        return tuple(s for s in self.schedules if s.schedule_type.upper() == wanted)

"""The battery settings in effect: storage mode, reserve, shutdown level, charge from grid.

Why a section of its own: the tariff file (``/admin/lib/tariff``) holds what
was *asked* locally, and on firmware 8.2.4225 and later it is a stale copy
that the Enphase cloud never rewrites (gateway.md section 5, D8.3.6086). What
the storage controller runs with is in ``/ivp/ensemble/secctrl``
(``configured_backup_soc``, ``VLS_Limit``) and ``/ivp/sc/sched`` ("Charge
From Grid Allowed"). `engine.battery_settings` decides which to believe, once;
every reader (the feature table, MQTT, the CLI) takes this section instead of
choosing again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._base import FlexEnum, Model
from .tariff import StorageMode

__all__ = ["BatterySettings", "SettingsOrigin"]


class SettingsOrigin(FlexEnum):
    """Where a setting was read: the storage controller, or the tariff file."""

    CONTROLLER = "controller"  # secctrl / sc/sched: in effect now
    TARIFF = "tariff"  # /admin/lib/tariff: what was asked (stale from 8.2.4225)
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class BatterySettings(Model):
    """The snapshot's ``battery_settings`` section: each value, and where it was read.

    `origins` names the source of each non-None value (``reserve_soc_percent``
    -> ``controller``); a value the controller does not report yet (its
    sources are read every 30 minutes or so, ``/ivp/sc/sched`` only on
    firmware 8 with IQ Batteries) comes from the tariff, and says so.
    The storage mode always comes from the tariff: no local field reports
    the cloud's profile (cloud.md, "Local read-back").
    """

    storage_mode: StorageMode | None = None
    storage_mode_name: str | None = None  # the gateway's own name of a mode we do not know
    reserve_soc_percent: float | None = None
    shutdown_soc_percent: float | None = None
    charge_from_grid: bool | None = None
    origins: Mapping[str, SettingsOrigin] = field(default_factory=dict)

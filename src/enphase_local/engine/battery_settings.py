"""Which battery settings to believe: the storage controller's, or the tariff file's.

Why here, once: on firmware 8.2.4225 and later the tariff file
(``/admin/lib/tariff``) is a stale copy (D8.3.6086: dated weeks earlier,
never rewritten by the cloud that now owns these settings), so reading the
reserve or charge-from-grid from it shows a value the gateway does not run
with. The controller's own fields are in effect: ``secctrl``
``configured_backup_soc`` (the reserve), ``VLS_Limit`` (the shutdown level)
and ``/ivp/sc/sched`` "Charge From Grid Allowed" (gateway.md sections 3 and
5). Before that firmware the tariff is what the gateway runs with. The
threshold is `sources.tariff.tariff_writes_ignored`, its one home. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from ..firmware import Firmware
from ..models.battery import BatteryAggregate
from ..models.battery_settings import BatterySettings, SettingsOrigin
from ..models.storage_controller import StorageSchedule
from ..models.tariff import Tariff
from ..sources.tariff import tariff_writes_ignored

__all__ = ["compose_battery_settings"]


def _controller(secctrl: BatteryAggregate | None, sched: StorageSchedule | None) -> dict[str, Any]:
    """The controller's values, where it reports them for an IQ Battery bank."""
    out: dict[str, Any] = {}
    if secctrl is not None and secctrl.encharge_capacity_wh:  # all zeros without batteries
        out["reserve_soc_percent"] = secctrl.configured_backup_soc_percent
        out["shutdown_soc_percent"] = secctrl.very_low_soc_percent
    if sched is not None:
        out["charge_from_grid"] = sched.charge_from_grid_allowed
    return {k: v for k, v in out.items() if v is not None}


def compose_battery_settings(
    firmware: Firmware | None,
    tariff: Tariff | None,
    secctrl: BatteryAggregate | None,
    sched: StorageSchedule | None,
) -> BatterySettings | None:
    """The section, or None where neither the tariff nor the controller shows a setting.

    Before 8.2.4225 (or with the firmware unknown) the tariff's values; from it
    the controller's, each falling back to the tariff's where the controller
    does not report it (its sources not read yet, or absent on this site).
    """
    asked: dict[str, Any] = {}
    if tariff is not None:
        asked = {
            "reserve_soc_percent": tariff.reserve_soc_percent,
            "shutdown_soc_percent": tariff.very_low_soc_percent,
            "charge_from_grid": tariff.charge_from_grid,
        }
    in_effect = _controller(secctrl, sched)
    use_controller = firmware is not None and tariff_writes_ignored(firmware)
    values: dict[str, Any] = {}
    origins: dict[str, SettingsOrigin] = {}
    for name in ("reserve_soc_percent", "shutdown_soc_percent", "charge_from_grid"):
        if use_controller and name in in_effect:
            values[name], origins[name] = in_effect[name], SettingsOrigin.CONTROLLER
        elif asked.get(name) is not None:
            values[name], origins[name] = asked[name], SettingsOrigin.TARIFF
    if tariff is not None and tariff.storage_mode is not None:
        origins["storage_mode"] = SettingsOrigin.TARIFF  # no local field shows the profile
    if not origins:
        return None
    return BatterySettings(
        storage_mode=None if tariff is None else tariff.storage_mode,
        storage_mode_name=None if tariff is None else tariff.storage_mode_name,
        origins=origins,
        **values,
    )

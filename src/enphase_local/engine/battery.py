"""Battery views: join the ensemble endpoints (Encharge / IQ Battery) and the AC Battery.

Pure joins over plain models: the inventory's units, their live power, the
gateway's own aggregates (secctrl), production.json's AC Battery bank and
the device inventory's ACB units become the snapshot's ``battery`` and
``acb`` sections.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..models.battery import (
    AcbState,
    AcbStorage,
    AcbSummary,
    AcbUnit,
    BatteryAggregate,
    BatterySummary,
    BatteryUnit,
    EnchargePower,
)
from ..models.ensemble import EnsembleInventory

__all__ = ["summarize_acb", "summarize_encharge"]


def _join_units(
    inventory: EnsembleInventory | None, power: Mapping[str, EnchargePower] | None
) -> dict[str, BatteryUnit]:
    """Units by serial, in inventory order then power-only ones.

    SoC comes from the power endpoint when it has the unit: it is live,
    while the inventory's `percentFull` follows the report rhythm and lags.
    """
    power = power or {}
    units: dict[str, BatteryUnit] = {}
    for unit in inventory.encharge if inventory is not None else ():
        live = power.get(unit.serial)
        units[unit.serial] = BatteryUnit(
            soc_percent=live.soc_percent if live is not None else unit.soc_percent,
            watts=live.watts if live is not None else None,
            temperature_c=unit.temperature_c,
            capacity_wh=unit.capacity_wh,
            communicating=unit.communicating,
            dc_switch_off=unit.dc_switch_off,
        )
    for serial, live in power.items():
        if serial not in units:
            units[serial] = BatteryUnit(
                soc_percent=live.soc_percent,
                watts=live.watts,
                temperature_c=None,
                capacity_wh=None,
            )
    return units


def _weighted_soc(units: Mapping[str, BatteryUnit]) -> float | None:
    """SoC of the bank from its units, weighted by capacity (a plain mean without capacities)."""
    weighted = [
        (u.soc_percent, u.capacity_wh)
        for u in units.values()
        if u.soc_percent is not None and u.capacity_wh
    ]
    if weighted:
        total = sum(cap for _, cap in weighted)
        return sum(soc * cap for soc, cap in weighted) / total
    socs = [u.soc_percent for u in units.values() if u.soc_percent is not None]
    return sum(socs) / len(socs) if socs else None


def summarize_encharge(
    inventory: EnsembleInventory | None,
    power: Mapping[str, EnchargePower] | None,
    secctrl: BatteryAggregate | None,
    *,
    units_live: bool = False,
) -> BatterySummary | None:
    """Join the three ensemble endpoints into the ``battery`` view; any of them may be None.

    The gateway's own aggregates (secctrl) are preferred when they show
    Encharge capacity: they account for reserve and unusable energy the units
    do not report. Otherwise the bank's SoC is the capacity-weighted SoC of
    its units and its energy the sum of theirs. `units_live`: the units' SoC
    (ensemble/power) was read at least as recently as secctrl, which is read
    only every 30 minutes for its reserve and capacities: the bank's SoC and
    energy are then the units', against secctrl's capacity, the SoC rounded
    down as the gateway's ``ENC_agg_soc`` is (92 for units at 100 and 85
    percent, the energy 92.5 percent of the capacity in whole Wh: the captures
    agree). The reserve is the SoC the
    system applies (`adjusted_backup_soc`, which can differ from the
    configured one), else the configured one. None when no source shows an
    Encharge battery at all (a site without batteries still answers secctrl,
    with zeros).
    """
    units = _join_units(inventory, power)
    capacity = secctrl.encharge_capacity_wh if secctrl is not None else None
    trusted = secctrl if secctrl is not None and capacity else None
    if trusted is None and not units:
        return None
    unit_caps = [u.capacity_wh for u in units.values() if u.capacity_wh is not None]
    unit_capacity = sum(unit_caps) if unit_caps else None
    unit_soc = _weighted_soc(units)
    unit_available = None
    if unit_capacity is not None and unit_soc is not None:
        unit_available = unit_capacity * unit_soc / 100
    reserve = None
    if secctrl is not None:
        reserve = secctrl.adjusted_backup_soc_percent
        if reserve is None:
            reserve = secctrl.configured_backup_soc_percent
    reserve_wh = trusted.backup_wh if trusted is not None else None
    if capacity and units_live and unit_soc is not None:
        return BatterySummary(
            soc_percent=float(math.floor(unit_soc + 1e-9)),
            available_wh=float(round(capacity * unit_soc / 100)),  # whole Wh, as the gateway
            capacity_wh=capacity,
            reserve_soc_percent=reserve,
            units=units,
            reserve_wh=reserve_wh,
        )
    if trusted is None:
        return BatterySummary(
            soc_percent=unit_soc,
            available_wh=unit_available,
            capacity_wh=unit_capacity,
            reserve_soc_percent=reserve,
            units=units,
            reserve_wh=reserve_wh,
        )
    return BatterySummary(
        soc_percent=trusted.soc_percent if trusted.soc_percent is not None else unit_soc,
        available_wh=trusted.available_wh if trusted.available_wh is not None else unit_available,
        capacity_wh=capacity,
        reserve_soc_percent=reserve,
        units=units,
        reserve_wh=reserve_wh,
    )


def _common_state(units: tuple[AcbUnit, ...]) -> AcbState:
    states = {u.charge_status for u in units}
    return states.pop() if len(states) == 1 else AcbState.UNKNOWN


def summarize_acb(storage: AcbStorage | None, units: tuple[AcbUnit, ...]) -> AcbSummary | None:
    """Join production.json's ACB bank (`storage`) with the inventory's units.

    The bank values come from production.json; without it, the SoC is the
    mean of the units (AC Batteries all have the same capacity), the state
    is theirs when they agree, and power and energy are unknown. A bank with
    no active unit is ignored (firmware sends an all-zero one). None when
    there is no AC Battery at all.
    """
    by_serial = {u.serial: u for u in units}
    if storage is not None and storage.active_count > 0:
        return AcbSummary(
            watts=storage.watts,
            wh_now=storage.wh_now,
            soc_percent=storage.soc_percent,
            state=storage.state,
            count=max(storage.active_count, len(units)),
            units=by_serial,
        )
    if not units:
        return None
    socs = [u.soc_percent for u in units]
    return AcbSummary(
        watts=None,
        wh_now=None,
        soc_percent=sum(socs) / len(socs),
        state=_common_state(units),
        count=len(by_serial),
        units=by_serial,
    )

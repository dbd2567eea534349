"""Battery models: Encharge units, AC Battery (ACB), and their aggregates.

`AcbStorage` is the AC Battery aggregate that production.json reports in its
``storage[]`` section (the production parser builds it); the per-unit and
Encharge models are built by the ensemble and inventory parsers.

The gateway spreads what one wants to know about the batteries over several
endpoints: `/ivp/ensemble/inventory` (capacity, temperature, a SoC that
follows the 5-minute report rhythm), `/ivp/ensemble/power` (live power and
SoC per unit), `/ivp/ensemble/secctrl` (the aggregates the gateway computes
itself) and `/inventory.json` (the AC Battery units). `summarize_encharge`
and `summarize_acb` join them into the two views the snapshot's JSON
contract exposes (``battery`` and ``acb``), coping with any source missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._base import FlexEnum, Model

if TYPE_CHECKING:  # ensemble.py imports AcbUnit from here: avoid the cycle at run time
    from .ensemble import EnsembleInventory

__all__ = [
    "AcbState",
    "AcbStorage",
    "AcbSummary",
    "AcbUnit",
    "BatteryAggregate",
    "BatterySummary",
    "BatteryUnit",
    "EnchargePower",
    "summarize_acb",
    "summarize_encharge",
]


class AcbState(FlexEnum):
    """State of the AC Battery bank as production.json reports it."""

    IDLE = "idle"
    CHARGING = "charging"
    DISCHARGING = "discharging"
    FULL = "full"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class AcbStorage(Model):
    """AC Battery bank aggregate from production.json ``storage[type=acb]``.

    Only entries with `percentFull` are batteries: a storage entry with an
    `activeCount` but no `percentFull` is not one.
    """

    watts: float  # positive: discharging into the house
    wh_now: float
    soc_percent: float
    state: AcbState
    active_count: int
    reading_time: int | None = None


@dataclass(frozen=True, slots=True)
class AcbUnit(Model):
    """One AC Battery from ``/inventory.json`` (``type: "ACB"``).

    `charge_status` uses the same vocabulary as the bank's `AcbState`. The
    sleep thresholds are the SoC window set through ``/admin/lib/acb_config``.
    """

    serial: str
    soc_percent: float
    max_cell_temp_c: float | None
    sleep_enabled: bool | None
    sleep_min_soc_percent: float | None
    sleep_max_soc_percent: float | None
    charge_status: AcbState
    producing: bool | None
    communicating: bool | None
    last_report: int | None


@dataclass(frozen=True, slots=True)
class EnchargePower(Model):
    """One battery of ``/ivp/ensemble/power``: live power (W, positive: discharging) and SoC."""

    serial: str
    watts: float
    va: float
    soc_percent: float


@dataclass(frozen=True, slots=True)
class BatteryAggregate(Model):
    """The gateway's own battery aggregates from ``/ivp/ensemble/secctrl``.

    Encharge (`ENC_*`/`Enc_*`), AC Battery (`ACB_*`) and combined values
    (`agg_soc`, `Max_energy`). Keys older firmware lacks (`ENC_agg_soh` before
    7.3.466, `VLS_Limit` before 8) are None. A site without batteries answers
    with every value 0.
    """

    soc_percent: float | None = None
    soh_percent: float | None = None
    available_wh: float | None = None
    backup_wh: float | None = None
    max_available_wh: float | None = None
    commissioned_wh: float | None = None
    configured_backup_soc_percent: float | None = None
    adjusted_backup_soc_percent: float | None = None
    acb_soc_percent: float | None = None
    acb_wh: float | None = None
    combined_soc_percent: float | None = None
    combined_max_wh: float | None = None
    very_low_soc_percent: float | None = None

    @property
    def encharge_capacity_wh(self) -> float | None:
        """Encharge capacity the gateway counts (max available, else commissioned); 0: none."""
        if self.max_available_wh:
            return self.max_available_wh
        return self.commissioned_wh


@dataclass(frozen=True, slots=True)
class BatteryUnit(Model):
    """One Encharge battery in the combined view; None where no source gave the value."""

    soc_percent: float | None
    watts: float | None
    temperature_c: float | None
    capacity_wh: float | None


@dataclass(frozen=True, slots=True)
class BatterySummary(Model):
    """The ``battery`` section of the snapshot: Encharge / IQ Battery as a whole, and per unit."""

    soc_percent: float | None
    available_wh: float | None
    capacity_wh: float | None
    reserve_soc_percent: float | None
    units: Mapping[str, BatteryUnit]


@dataclass(frozen=True, slots=True)
class AcbSummary(Model):
    """The ``acb`` section of the snapshot: the AC Battery bank and its units."""

    watts: float | None  # positive: discharging
    wh_now: float | None
    soc_percent: float | None
    state: AcbState
    count: int
    units: Mapping[str, AcbUnit]


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
) -> BatterySummary | None:
    """Join the three ensemble endpoints into the ``battery`` view; any of them may be None.

    The gateway's own aggregates (secctrl) are preferred when they show
    Encharge capacity: they account for reserve and unusable energy the units
    do not report. Otherwise the bank's SoC is the capacity-weighted SoC of
    its units and its energy the sum of theirs. The reserve is the SoC the
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
    if trusted is None:
        return BatterySummary(
            soc_percent=unit_soc,
            available_wh=unit_available,
            capacity_wh=unit_capacity,
            reserve_soc_percent=reserve,
            units=units,
        )
    return BatterySummary(
        soc_percent=trusted.soc_percent if trusted.soc_percent is not None else unit_soc,
        available_wh=trusted.available_wh if trusted.available_wh is not None else unit_available,
        capacity_wh=capacity,
        reserve_soc_percent=reserve,
        units=units,
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

"""Battery models: Encharge units, AC Battery (ACB), and their aggregates.

`AcbStorage` is the AC Battery aggregate that production.json reports in its
``storage[]`` section (the production parser builds it); the per-unit and
Encharge models are built by the ensemble and inventory parsers.

The gateway spreads what one wants to know about the batteries over several
endpoints: `/ivp/ensemble/inventory` (capacity, temperature, a SoC that
follows the 5-minute report rhythm), `/ivp/ensemble/power` (live power and
SoC per unit), `/ivp/ensemble/secctrl` (the aggregates the gateway computes
itself) and `/inventory.json` (the AC Battery units). `engine.battery`
joins them into the two views the snapshot's JSON contract exposes (``battery``
and ``acb``), coping with any source missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ._base import FlexEnum, Model

__all__ = [
    "AcbState",
    "AcbStorage",
    "AcbSummary",
    "AcbUnit",
    "BatteryAggregate",
    "BatterySummary",
    "BatteryUnit",
    "EnchargePower",
]


class AcbState(FlexEnum):
    """State of the AC Battery bank as production.json reports it."""

    IDLE = "idle"
    CHARGING = "charging"
    DISCHARGING = "discharging"
    FULL = "full"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
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


@dataclass(frozen=True, slots=True, eq=False, repr=False)
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


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class EnchargePower(Model):
    """One battery of ``/ivp/ensemble/power``: live power (W, positive: discharging) and SoC."""

    serial: str
    watts: float
    va: float
    soc_percent: float


@dataclass(frozen=True, slots=True, eq=False, repr=False)
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


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class BatteryUnit(Model):
    """One Encharge battery in the combined view; None where no source gave the value."""

    soc_percent: float | None
    watts: float | None
    temperature_c: float | None
    capacity_wh: float | None
    communicating: bool | None = None  # ensemble inventory
    dc_switch_off: bool | None = None  # the unit's DC switch is off (ensemble inventory)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class BatterySummary(Model):
    """The ``battery`` section of the snapshot: Encharge / IQ Battery as a whole, and per unit."""

    soc_percent: float | None
    available_wh: float | None
    capacity_wh: float | None
    reserve_soc_percent: float | None
    units: Mapping[str, BatteryUnit]
    reserve_wh: float | None = None  # energy kept for outages (secctrl ENC_agg_backup_energy)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class AcbSummary(Model):
    """The ``acb`` section of the snapshot: the AC Battery bank and its units."""

    watts: float | None  # positive: discharging
    wh_now: float | None
    soc_percent: float | None
    state: AcbState
    count: int
    units: Mapping[str, AcbUnit]

"""The storage controller's own view: its scheduler and its status (``/ivp/sc/*``).

The tariff file (``/admin/lib/tariff``) says what was *asked*; on firmware
8.2.4225 and later the controller may ignore it (a cloud profile wins), so
what is *in effect* is read here: whether charging from the grid is allowed
now, which scheduler mode runs, and the setpoint the controller commands per
device group (gateway.md section 3, cloud.md "Local read-back").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._base import FlexEnum, Model

__all__ = ["ControllerStatus", "SchedulerMode", "StorageSchedule", "scheduler_mode"]


class SchedulerMode(FlexEnum):
    """The scheduler's mode, from the two-letter code of its ``sched_mode_key`` label."""

    IDLE = "idle"  # ID
    ZERO_NET = "zero_net"  # ZN
    CHARGE_FROM_GRID = "charge_from_grid"  # CG
    DISCHARGE_TO_GRID = "discharge_to_grid"  # DG
    NO_DISCHARGE = "no_discharge"  # ND
    DISCHARGE_TO_LOAD = "discharge_to_load"  # DL
    CHARGE_FROM_PV = "charge_from_pv"  # CP
    UNKNOWN = "unknown"  # HEMS and FCR modes, or a label this library does not know


_CODES = {
    "ID": SchedulerMode.IDLE,
    "ZN": SchedulerMode.ZERO_NET,
    "CG": SchedulerMode.CHARGE_FROM_GRID,
    "DG": SchedulerMode.DISCHARGE_TO_GRID,
    "ND": SchedulerMode.NO_DISCHARGE,
    "DL": SchedulerMode.DISCHARGE_TO_LOAD,
    "CP": SchedulerMode.CHARGE_FROM_PV,
}


def scheduler_mode(label: str | None) -> SchedulerMode:
    """``"CG - Charge From Grid"`` -> `SchedulerMode.CHARGE_FROM_GRID`; others UNKNOWN."""
    if label is None:
        return SchedulerMode.UNKNOWN
    code, sep, _ = label.partition(" - ")
    return _CODES.get(code.strip(), SchedulerMode.UNKNOWN) if sep else SchedulerMode.UNKNOWN


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class StorageSchedule(Model):
    """``/ivp/sc/sched``: what the battery scheduler does, as the controller sees it.

    `charge_from_grid_allowed` is the charge-from-grid setting *in effect*
    (the tariff's may be a stale copy). `mode` may lag a day behind a
    change (gateway.md section 3). `mode_label` is the gateway's own text,
    kept for modes `SchedulerMode` does not name. Energies in Wh.
    """

    mode: SchedulerMode
    mode_label: str | None = None
    charge_from_grid_allowed: bool | None = None
    force_discharge: bool | None = None
    soc_percent: float | None = None
    backup_wh: float | None = None
    very_low_soc_wh: float | None = None
    max_wh: float | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ControllerStatus(Model):
    """``/ivp/sc/status``: the controller's events and commanded setpoints.

    `setpoints` is keyed by device group (``ENC``, ``ACB``, ``PV``, ``SLP``):
    ENC -100 is a full-power charge, 0 idle; PV 100 is uncurtailed (percent
    of nameplate, presumably). `events` are the controller's flags, such as
    ``"PEL Active"`` while the export limit curtails production.
    """

    events: tuple[str, ...] = ()
    setpoints: Mapping[str, float] = field(default_factory=dict)

    @property
    def export_limited(self) -> bool:
        """The power export limit is curtailing production now (``"PEL Active"``)."""
        return "PEL Active" in self.events

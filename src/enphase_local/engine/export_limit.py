"""The snapshot's ``export_limit`` section: the limit in force, from whichever sources answered.

Why a join: the limit (``/ivp/ss/dpel``), the production switch (installer
only) and, once read, the gateway's own curtailment indicator come from
different endpoints with different roles; a section that shows only what
one token may read still says "unknown" (None) for the rest instead of
guessing. `limiting_active` is the one home of the "is it curtailing now"
decision. Pure: no I/O.
"""

from __future__ import annotations

from ..models.export_limit import DynamicExportLimit, ExportLimit, ProductionPower
from ..models.storage_controller import ControllerStatus

__all__ = ["compose_export_limit", "limiting_active"]

UNCURTAILED_SETPOINT = 100.0  # the PV group's setpoint when nothing limits it (cloud.md 2)


def limiting_active(
    dpel: DynamicExportLimit | None,
    events: tuple[str, ...] | None = None,
    pv_setpoint: float | None = None,
) -> bool | None:
    """Whether limiting curtails production now: the gateway's word, else None (unknown).

    ``PEL Active`` among the status events, or a PV setpoint under 100, say
    yes; a disabled limit says no. Without the status read the limit alone
    cannot tell: a zero-export limit bites only while the sun outproduces
    the house and the batteries.
    """
    if events is not None and any(e.strip().lower() == "pel active" for e in events):
        return True
    if pv_setpoint is not None and pv_setpoint < UNCURTAILED_SETPOINT:
        return True
    if dpel is not None and not dpel.enabled:
        return False
    if events is not None or pv_setpoint is not None:
        return False
    return None


def compose_export_limit(
    dpel: DynamicExportLimit | None,
    power: ProductionPower | None,
    *,
    status: ControllerStatus | None = None,
) -> ExportLimit | None:
    """The section, or None when neither the limit nor the switch could be read.

    `status` (``/ivp/sc/status``, where the gateway is read for it) gives the
    controller's events and its PV setpoint: whether limiting bites now.
    """
    if dpel is None and power is None:
        return None
    events = None if status is None else status.events
    pv_setpoint = None if status is None else status.setpoints.get("PV")
    limit = dpel if dpel is not None and dpel.enabled else None
    return ExportLimit(
        enabled=None if dpel is None else dpel.enabled,
        mode=None if limit is None else limit.mode,
        limit_watts=None if limit is None else limit.limit_watts,
        slew_rate=None if limit is None else limit.slew_rate,
        active=limiting_active(dpel, events, pv_setpoint),
        production_forced_off=None if power is None else power.forced_off,
    )

"""The storage controller: ``/ivp/sc/sched`` (its scheduler) and ``/ivp/sc/status`` (its setpoints).

Both are owner endpoints of firmware 8 with IQ Batteries (gateway.md
section 3). They are *described* sources: their `Source` carries the
period and the probe rule, so the engine reads them with no code of its own
(docs/CONTRIBUTING.md, "Adding an endpoint", uses ``/ivp/sc/sched``).

Shapes (cloud.md, one capture each): sched is a flat object with
``acb_current_mode`` (an index into ``sched_mode_key``, a list of labels
such as ``"CG - Charge From Grid"``), ``"Charge From Grid Allowed"``,
``"Force Discharge"``, ``ENC_agg_soc``, ``"Agg Backup Energy"``, ``"Agg VLS
Energy"`` and ``max_energy``. status is large (about 30 KB, mostly meter
samples read by nobody here): only ``events`` (strings) and
``response.groups`` (objects with ``id`` and ``setpoint_val``) are read.
"""

from __future__ import annotations

from typing import Any

from ..capabilities import Capability
from ..models.storage_controller import ControllerStatus, StorageSchedule, scheduler_mode
from ._json import ShapeError, as_obj, json_parser
from .bounds import LIFETIME_WH, Bound, check
from .keys import SourceKey
from .registry import Cadence, ProbeRule, Role, Source, Speed

__all__ = [
    "SC_SCHED",
    "SC_SCHED_PATH",
    "SC_STATUS",
    "SC_STATUS_PATH",
    "parse_sc_sched",
    "parse_sc_status",
]

SC_SCHED_PATH = "/ivp/sc/sched"
SC_STATUS_PATH = "/ivp/sc/status"

_SOC = Bound("state of charge (%)", 0.0, 100.0)
_SETPOINT = Bound("controller setpoint (%)", -1000.0, 1000.0)
# Settings-like: a person (or the cloud) changes them. The scheduler's mode "may lag a
# day" anyway; our own writes force a read-back. The same period as the tariff's.
_CONFIG_PERIOD = 3 * float(Cadence.CONFIG.seconds)
# IQ Batteries on firmware 8: where the battery-cloud read-back needs them (cloud.md).
# No `section`: their content is in no snapshot section yet, and a gateway without them
# (a 404) must not mark the storage settings as failing.
_WITH_BATTERIES = ProbeRule(needs=frozenset({Capability.ENCHARGE}), min_firmware=(8,))


@json_parser(SC_SCHED_PATH)
def parse_sc_sched(data: Any) -> StorageSchedule:
    """``/ivp/sc/sched`` JSON -> `StorageSchedule` (absent keys None)."""
    body = as_obj(data)
    labels = body.items_or("sched_mode_key")
    for i, label in enumerate(labels):
        if not isinstance(label, str):
            raise ShapeError(f"body.sched_mode_key[{i}]: expected a string")
    index = body.integer_or("acb_current_mode")
    label = labels[index] if index is not None and 0 <= index < len(labels) else None
    soc = body.number_or("ENC_agg_soc")
    energies = [body.number_or(k) for k in ("Agg Backup Energy", "Agg VLS Energy", "max_energy")]
    check(soc, _SOC, "body.ENC_agg_soc")
    for name, value in zip(("backup", "VLS", "max"), energies, strict=True):
        check(value, LIFETIME_WH, f"body: {name} energy")
    return StorageSchedule(
        mode=scheduler_mode(label),
        mode_label=label,
        charge_from_grid_allowed=body.flag_or("Charge From Grid Allowed"),
        force_discharge=body.flag_or("Force Discharge"),
        soc_percent=soc,
        backup_wh=energies[0],
        very_low_soc_wh=energies[1],
        max_wh=energies[2],
    )


@json_parser(SC_STATUS_PATH)
def parse_sc_status(data: Any) -> ControllerStatus:
    """``/ivp/sc/status`` JSON -> `ControllerStatus`: events and setpoints by group id."""
    body = as_obj(data)
    events = body.items_or("events")
    for i, event in enumerate(events):
        if not isinstance(event, str):
            raise ShapeError(f"body.events[{i}]: expected a string")
    response = body.child_or("response")
    setpoints: dict[str, float] = {}
    for group in response.objs("groups") if response is not None else ():
        value = group.number_or("setpoint_val")
        check(value, _SETPOINT, f"{group.where}.setpoint_val")
        if value is not None:
            setpoints.setdefault(group.text("id"), value)
    return ControllerStatus(events=tuple(events), setpoints=setpoints)


SC_SCHED = Source(
    key=SourceKey.SC_SCHED,
    path=SC_SCHED_PATH,
    parse=parse_sc_sched,
    role=Role.OWNER,
    cadence=Cadence.CONFIG,
    speed=Speed.FAST,
    doc="battery scheduler: mode, charge from grid in effect, aggregate SoC and energies",
    period=_CONFIG_PERIOD,
    probe=_WITH_BATTERIES,
)

SC_STATUS = Source(
    key=SourceKey.SC_STATUS,
    path=SC_STATUS_PATH,
    parse=parse_sc_status,
    role=Role.OWNER,
    cadence=Cadence.CONFIG,
    speed=Speed.FAST,
    doc="storage controller: events (PEL Active) and setpoints per device group",
    period=_CONFIG_PERIOD,
    probe=_WITH_BATTERIES,
)

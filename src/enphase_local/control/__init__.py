"""The control layer: every owner write action, checked before, confirmed after.

``envoy.control`` is a `Control`. Each action

1. validates its arguments, the gateway's capabilities and (from a fresh
   read) the ids and serials it names, raising `ValueError` or
   `EnvoyFeatureUnavailable` with nothing sent;
2. sends one request, never retried; a non-2xx answer raises `EnvoyHTTPError`;
3. reads the value back, polling where the gateway is slow, and returns a
   `WriteResult` saying ``confirmed``, ``pending`` or ``ignored``.

Every action takes ``dry_run=True`` (return the request without sending it)
and ``timeout_s`` (how long to poll for the value). `Control.verify_later`
re-reads a result later and reports ``reverted`` when the value changed back
(the Enphase cloud does this to storage settings on firmware 8.2.4225+).

Storage settings go by one of two routes (`control.storage`): the gateway's
own API, or, after ``control.use_cloud(BatteryCloud(...))``, the Enphase
cloud's battery service, which is the one that works from firmware 8.2.4225;
``route="auto"`` chooses, and each result says which route it took.

`Control(target, clock=..., sleep=...)` takes the clock and the async sleep
used while polling, so tests replay minutes of polling instantly.
"""

from __future__ import annotations

from .acb import AcbActions
from .cloud_schedules import CloudScheduleActions
from .cloud_target import CloudBatteryTarget
from .contacts import ContactActions
from .export_limit import ExportLimitActions
from .generator import GeneratorActions
from .relay import RelayActions
from .result import Check, Outcome, WriteRequest, WriteResult
from .storage import StorageActions
from .target import ControlTarget, WriteResponse

__all__ = [
    "Check",
    "CloudBatteryTarget",
    "Control",
    "ControlTarget",
    "Outcome",
    "WriteRequest",
    "WriteResponse",
    "WriteResult",
]


class Control(
    StorageActions,
    CloudScheduleActions,
    RelayActions,
    ContactActions,
    GeneratorActions,
    AcbActions,
    ExportLimitActions,
):
    """Owner write actions on one gateway (see the package docstring).

    Storage: `set_storage_mode`, `set_reserve_soc`, `set_charge_from_grid`,
    `set_shutdown_soc`, `set_storm_guard` (each ``route="auto"|"local"|"cloud"``;
    `use_cloud` gives the cloud route). Cloud schedules: `add_battery_schedule`,
    `delete_battery_schedule`.
    Grid relay: `go_off_grid`, `go_on_grid`. Dry contacts: `set_dry_contact`,
    `configure_dry_contact`. Generator: `set_generator_mode`,
    `set_generator_exercise`, `set_charge_from_generator`. AC Battery:
    `set_acb_sleep`, `clear_acb_sleep`. Export limiting (installer token):
    `set_export_limit`, `clear_export_limit`, `set_production`. Later: `verify_later`.
    """

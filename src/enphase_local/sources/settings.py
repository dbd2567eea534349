"""Export and PV limits: ``/ivp/ss/pel_settings`` and ``/ivp/sc/pvlimit``.

The seed lists the export limit as ``/uvp/ss/pel_settings``; real gateways
serve it at ``/ivp/ss/pel_settings``, which is what is used here. Firmware
4.x and 5.x answer both with ``{"error": "404 - Not Found"}`` (or ``{"err":
...}``), which `json_parser` turns into `EnvoyParseError` with
`gateway_error` set.
"""

from __future__ import annotations

from typing import Any

from ..capabilities import Capability
from ..models.settings import PowerExportLimit, PvLimit
from ._json import as_obj, json_parser
from .keys import SourceKey
from .registry import Cadence, Role, Source, Speed

__all__ = [
    "PEL_SETTINGS",
    "PEL_SETTINGS_PATH",
    "PV_LIMIT",
    "PV_LIMIT_PATH",
    "parse_pel_settings",
    "parse_pv_limit",
]

PEL_SETTINGS_PATH = "/ivp/ss/pel_settings"
PV_LIMIT_PATH = "/ivp/sc/pvlimit"


@json_parser(PEL_SETTINGS_PATH)
def parse_pel_settings(data: Any) -> PowerExportLimit:
    """``/ivp/ss/pel_settings`` JSON -> `PowerExportLimit` (absent keys None)."""
    body = as_obj(data)
    return PowerExportLimit(
        enabled=body.flag("PEL"),
        hard=body.flag_or("Hard_PEL"),
        soft=body.flag_or("Soft_PEL"),
        limit_type=body.text_or("Export_Limit_Type"),
        percent=body.flag_or("percent"),
        apparent=body.flag_or("apparent"),
        limit=body.number_or("PEL_Limit"),
        comm_time_loss_ms=body.number_or("Comm_Time_Loss"),
        resp_time_soft_ms=body.number_or("Resp_Time_SoftPEL"),
        resp_time_hard_ms=body.number_or("Resp_Time_HardPEL"),
        deadband=body.number_or("PEL_db"),
    )


@json_parser(PV_LIMIT_PATH)
def parse_pv_limit(data: Any) -> PvLimit:
    """``/ivp/sc/pvlimit`` JSON -> `PvLimit`."""
    body = as_obj(data)
    return PvLimit(enabled=body.flag("enable"), pv_limit_percent=body.number("pv_limit_pct"))


PEL_SETTINGS = Source(
    key=SourceKey.PEL_SETTINGS,
    path=PEL_SETTINGS_PATH,
    parse=parse_pel_settings,
    role=Role.OWNER,
    cadence=Cadence.CONFIG,
    speed=Speed.FAST,
    doc="power export limit: enabled, hard/soft, limit, response times",
    capability=Capability.POWER_EXPORT_LIMIT,
)

PV_LIMIT = Source(
    key=SourceKey.PV_LIMIT,
    path=PV_LIMIT_PATH,
    parse=parse_pv_limit,
    role=Role.OWNER,
    cadence=Cadence.CONFIG,
    speed=Speed.FAST,
    doc="PV production limit in percent",
    capability=Capability.PV_LIMIT,
)

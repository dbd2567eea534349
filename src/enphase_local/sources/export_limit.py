"""Dynamic export limiting and the production switch: ``/ivp/ss/dpel``, ``/ivp/mod/.../power``.

Reads and the bodies that change them (the control layer sends those, see
`control.export_limit`). Facts (cloud.md section 2): ``/ivp/ss/dpel``
answers an owner on some firmware (200 on D8.3.5528) and 401 on others, so
it is an owner source whose refusal is remembered per gateway like any
other; firmware without it answers ``{"err": "404 - Not Found"}``. The
production switch is installer-only everywhere, at the gateway-wide module
id 603980032 (per-inverter eids are refused). Numbers may come as numeric
strings on some firmware: they are read as numbers, anything else fails.
"""

from __future__ import annotations

import math
from typing import Any

from ..capabilities import Capability
from ..models.export_limit import DynamicExportLimit, LimitMode, ProductionPower
from ._json import Obj, ShapeError, as_obj, json_parser
from .keys import SourceKey
from .registry import Cadence, Role, Source, Speed

__all__ = [
    "DPEL",
    "DPEL_PATH",
    "PRODUCTION_POWER",
    "PRODUCTION_POWER_PATH",
    "dpel_disable_body",
    "dpel_enable_body",
    "parse_dpel",
    "parse_production_power",
    "production_power_body",
]

DPEL_PATH = "/ivp/ss/dpel"
PRODUCTION_POWER_PATH = "/ivp/mod/603980032/mode/power"
_FILENAME = "site_settings"
_VERSION = "00.00.01"


def _number(body: Obj, key: str) -> float | None:
    """A number, or a numeric string; None when absent, null or ``"N/A"``."""
    value = body.raw(key)
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in ("", "N/A", "NA"):
            return None
        try:
            number = float(text)
        except ValueError:
            raise ShapeError(f"{body.where}.{key}: expected a number, got a string") from None
        if not math.isfinite(number):
            raise ShapeError(f"{body.where}.{key}: expected a finite number")
        return number
    return body.number_or(key)


@json_parser(DPEL_PATH)
def parse_dpel(data: Any) -> DynamicExportLimit:
    """``/ivp/ss/dpel`` JSON -> `DynamicExportLimit` (only ``enable`` is required)."""
    body = as_obj(data)
    settings = body.child("dynamic_pel_settings")
    export = settings.flag_or("export_limit")
    return DynamicExportLimit(
        enabled=settings.flag("enable"),
        mode=None if export is None else (LimitMode.EXPORT if export else LimitMode.PRODUCTION),
        limit_watts=_number(settings, "limit_value_W"),
        slew_rate=_number(settings, "slew_rate"),
        dynamic=settings.flag_or("enable_dynamic_limiting"),
        filename=body.text_or("filename"),
        version=body.text_or("version"),
    )


@json_parser(PRODUCTION_POWER_PATH)
def parse_production_power(data: Any) -> ProductionPower:
    """The production switch JSON -> `ProductionPower`."""
    body = as_obj(data)
    return ProductionPower(
        forced_off=body.flag("powerForcedOff"),
        pv_forced_off=body.flag_or("pvPowerForcedOff"),
        battery_forced_off=body.flag_or("enchargePowerForcedOff"),
    )


def dpel_enable_body(
    watts: float, *, export: bool, slew_rate: float, current: DynamicExportLimit | None = None
) -> dict[str, Any]:
    """The ``POST /ivp/ss/dpel`` body that sets a limit (`export`: cap the grid, else production).

    ``enable_dynamic_limiting`` stays false (the plain limit the field reports
    describe); filename and version are echoed from `current` when read.
    """
    return {
        "dynamic_pel_settings": {
            "enable": True,
            "export_limit": export,
            "limit_value_W": float(watts),
            "slew_rate": float(slew_rate),
            "enable_dynamic_limiting": False,
        },
        "filename": (current.filename if current and current.filename else _FILENAME),
        "version": (current.version if current and current.version else _VERSION),
    }


def dpel_disable_body(current: DynamicExportLimit | None = None) -> dict[str, Any]:
    """The ``POST /ivp/ss/dpel`` body that turns dynamic limiting off."""
    return {
        "dynamic_pel_settings": {"enable": False},
        "filename": (current.filename if current and current.filename else _FILENAME),
        "version": (current.version if current and current.version else _VERSION),
    }


def production_power_body(on: bool) -> dict[str, Any]:
    """The ``PUT`` body of the production switch: ``[1]`` forces production off, ``[0]`` on."""
    return {"length": 1, "arr": [0 if on else 1]}


DPEL = Source(
    key=SourceKey.DPEL,
    path=DPEL_PATH,
    parse=parse_dpel,
    role=Role.OWNER,  # 200 for owners on some firmware, 401 on others: the refusal is remembered
    cadence=Cadence.CONFIG,
    speed=Speed.FAST,
    doc="dynamic export limit: enabled, export or production, limit W, slew rate",
    section="export_limit",
    capability=Capability.EXPORT_LIMIT,
    # no period nor probe rule: whether to ask depends on CTs, firmware and the token's role
    # (engine.probe.export_limit_followups), the period on the capability (engine.rhythm.plan)
)

PRODUCTION_POWER = Source(
    key=SourceKey.PRODUCTION_POWER,
    path=PRODUCTION_POWER_PATH,
    parse=parse_production_power,
    role=Role.INSTALLER,
    cadence=Cadence.CONFIG,
    speed=Speed.FAST,
    doc="production switch: forced off or not (installer)",
    section="export_limit",
    capability=Capability.PRODUCTION_SWITCH,
)

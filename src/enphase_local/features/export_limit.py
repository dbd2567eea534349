"""Export limiting: the state (snapshot ``export_limit``) and its three controls.

Why a module of its own: these are the entities of the zero-export recipe
(docs/export-limit.md): a number for the limit in watts, a switch for
limiting on or off, and the gateway-wide production switch, each setting
through ``envoy.control`` (`control.export_limit`), which refuses with one
clear line, sending nothing, when the token is not an installer's or the
gateway has no consumption CT. The controls are disabled by default: they
need an installer token, and the production switch may leave the
microinverters off until the next morning (`SWITCH_WARNING`).

The limit's entries exist where the gateway let this token read it
(``/ivp/ss/dpel``): while limiting is off the limit and its mode are
unknown, not absent, so an automation can rely on their entities.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..models.export_limit import LimitMode
from .model import Category, Feature, Kind, Readings
from .read import at, snap

if TYPE_CHECKING:
    from ..control import Control, WriteResult

__all__ = ["EXPORT_LIMIT_CONTROLS", "EXPORT_LIMIT_SENSORS", "LIMIT_MAX_W"]

LIMIT_MAX_W = 100_000.0
"""The number's upper end in Home Assistant: above any home site (the library takes up to 1 MW)."""


def _readable(r: Readings, _key: str) -> bool:
    """The limit was read (``/ivp/ss/dpel`` answered this token)."""
    section = r.snapshot.export_limit
    return section is not None and section.enabled is not None


def _mode(r: Readings) -> str:
    mode = at(r.snapshot, "export_limit.mode")
    return mode if mode in (LimitMode.EXPORT.value, LimitMode.PRODUCTION.value) else "export"


def _as(result: WriteResult, pick: Callable[[dict[str, Any]], Any]) -> WriteResult:
    """The result in the control's own type (the limit in W, or on/off).

    Why: the control layer reports the whole DPEL setting (a dict); a number
    entity, its result document and its state shown right after a command
    need the number (docs/mqtt.md: each value in the control's own type).
    """

    def one(value: Any) -> Any:
        return pick(value) if isinstance(value, dict) else value

    return dataclasses.replace(
        result,
        requested=one(result.requested),
        before=one(result.before),
        after=one(result.after),
    )


def _watts(setting: dict[str, Any]) -> Any:
    return setting.get("limit_watts") if setting.get("enabled") else None


def _enabled(setting: dict[str, Any]) -> Any:
    return setting.get("enabled")


async def _set_limit(c: Control, _k: str, value: Any, r: Readings) -> WriteResult:
    """A new limit keeps the mode in force (export, when limiting is off)."""
    return _as(await c.set_export_limit(float(value), mode=_mode(r)), _watts)


async def _limiting(c: Control, _k: str, value: Any, r: Readings) -> WriteResult:
    """On: the limit in force, else 0 W (zero export); off: limiting cleared."""
    if not value:
        return _as(await c.clear_export_limit(), _enabled)
    limit = at(r.snapshot, "export_limit.limit_watts")
    return _as(await c.set_export_limit(float(limit or 0.0), mode=_mode(r)), _enabled)


async def _production(c: Control, _k: str, value: Any, _r: Readings) -> WriteResult:
    return await c.set_production(bool(value))


def _producing(r: Readings, _key: str) -> bool | None:
    off = at(r.snapshot, "export_limit.production_forced_off")
    return None if off is None else not off


_DIAG: dict[str, Any] = {"category": Category.DIAGNOSTIC}

EXPORT_LIMIT_SENSORS: tuple[Feature, ...] = (
    Feature(
        "export_limit_enabled",
        "Export limiting on",
        Kind.BINARY_SENSOR,
        snap("export_limit.enabled"),
        icon="mdi:transmission-tower-off",
        doc="dynamic power export limiting (DPEL) is on",
    ),
    Feature(
        "export_limit_mode",
        "Export limit mode",
        Kind.SENSOR,
        snap("export_limit.mode"),
        exists=_readable,
        device_class="enum",
        options=(LimitMode.EXPORT.value, LimitMode.PRODUCTION.value),
        doc="export: caps what goes to the grid; production: caps production itself",
        **_DIAG,
    ),
    Feature(
        "export_limit",
        "Export limit in force",
        Kind.SENSOR,
        snap("export_limit.limit_watts"),
        exists=_readable,
        unit="W",
        device_class="power",
        precision=0,
        doc="the limit in force (unknown while limiting is off)",
    ),
    Feature(
        "export_limit_active",
        "Export limiting active",
        Kind.BINARY_SENSOR,
        snap("export_limit.active"),
        icon="mdi:solar-power-variant-outline",
        doc="the gateway curtails production now (PEL Active, or a PV setpoint under 100 %)",
    ),
    Feature(
        "production_forced_off",
        "Production forced off",
        Kind.BINARY_SENSOR,
        snap("export_limit.production_forced_off"),
        device_class="problem",
        doc="the production switch holds all production off (readable by an installer only)",
        **_DIAG,
    ),
)

EXPORT_LIMIT_CONTROLS: tuple[Feature, ...] = (
    Feature(
        "export_limit_watts",
        "Export limit",
        Kind.NUMBER,
        snap("export_limit.limit_watts"),
        set=_set_limit,
        unit="W",
        device_class="power",
        minimum=0,
        maximum=LIMIT_MAX_W,
        step=1,
        exists=_readable,
        enabled_by_default=False,
        icon="mdi:transmission-tower-export",
        doc="set_export_limit(W): 0 stops all export while the house and batteries use the sun",
    ),
    Feature(
        "export_limiting",
        "Export limiting",
        Kind.SWITCH,
        snap("export_limit.enabled"),
        set=_limiting,
        enabled_by_default=False,
        icon="mdi:transmission-tower-off",
        doc="on: the limit in force, else 0 W; off: clear_export_limit()",
    ),
    Feature(
        "production",
        "Production",
        Kind.SWITCH,
        _producing,
        set=_production,
        enabled_by_default=False,
        icon="mdi:solar-power",
        doc="set_production(on): the inverters may stay off until the next morning after it",
    ),
)

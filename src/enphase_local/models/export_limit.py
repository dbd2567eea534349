"""Dynamic export limiting (``/ivp/ss/dpel``) and the production switch, typed.

Why apart from `models.settings`: those are the gateway's static grid-code
limits (``pel_settings``, ``pvlimit``) that an owner only reads; these are
the settings an installer token *changes* to stop exporting when the grid
price goes negative, and the snapshot joins them into one `ExportLimit`
section that says what is in force now.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._base import FlexEnum, Model

__all__ = ["DynamicExportLimit", "ExportLimit", "LimitMode", "ProductionPower"]


class LimitMode(FlexEnum):
    """What a dynamic limit caps: the power sent to the grid, or the site's whole production."""

    EXPORT = "export"  # ``export_limit: true``: production follows house + battery + limit
    PRODUCTION = "production"  # ``export_limit: false``: production itself is capped
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class DynamicExportLimit(Model):
    """``/ivp/ss/dpel``: the dynamic power export limit (DPEL) as the gateway holds it.

    A disabled limit is often just ``{"enable": false}``, so every field but
    `enabled` may be None. `limit_watts` is in watts whatever the mode;
    `slew_rate` is the gateway's own number (how fast it moves towards the
    limit), kept as given. `filename` and `version` are echoed back on writes.
    """

    enabled: bool
    mode: LimitMode | None = None
    limit_watts: float | None = None
    slew_rate: float | None = None
    dynamic: bool | None = None  # enable_dynamic_limiting (a follow-the-meter variant)
    filename: str | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ProductionPower(Model):
    """``/ivp/mod/603980032/mode/power``: whether production is forced off gateway-wide.

    Older firmware answers only ``powerForcedOff``; D8.3.5528 adds the PV and
    battery parts, None when absent.
    """

    forced_off: bool
    pv_forced_off: bool | None = None
    battery_forced_off: bool | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ExportLimit(Model):
    """The snapshot's ``export_limit`` section: the limit in force and whether it bites.

    None means unknown (the source was not readable with this token, or not
    read yet). `active` says limiting is curtailing production now (the
    gateway's ``PEL Active`` event or a PV setpoint under 100 %, when read);
    `production_forced_off` is the production switch, readable with an
    installer token only.
    """

    enabled: bool | None
    mode: LimitMode | None = None
    limit_watts: float | None = None
    slew_rate: float | None = None
    active: bool | None = None
    production_forced_off: bool | None = None

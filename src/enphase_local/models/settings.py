"""Grid export and PV limits: ``/ivp/ss/pel_settings`` and ``/ivp/sc/pvlimit``.

A power export limit (PEL) caps what the site pushes into the grid, as a
grid operator may require. Many gateways answer only ``{"PEL": false}``
(seen from 7.3.466 to 8.2.127); others list every parameter, so all fields
but `enabled` may be None.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._base import Model

__all__ = ["PowerExportLimit", "PvLimit"]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class PowerExportLimit(Model):
    """The power export limit settings.

    `hard` and `soft` say which kinds of limit are active (a hard limit trips
    production off; a soft one curtails it). `limit` is in percent of the
    system's rating when `percent` is true, otherwise in watts (VA when
    `apparent` is true). `limit_type` is ``Aggregate`` (whole site) or a
    per-phase kind. Times are milliseconds; `deadband` is in the unit of
    `limit`.
    """

    enabled: bool
    hard: bool | None = None
    soft: bool | None = None
    limit_type: str | None = None
    percent: bool | None = None
    apparent: bool | None = None
    limit: float | None = None
    comm_time_loss_ms: float | None = None
    resp_time_soft_ms: float | None = None
    resp_time_hard_ms: float | None = None
    deadband: float | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class PvLimit(Model):
    """The PV production limit: when `enabled`, production is capped at `pv_limit_percent`."""

    enabled: bool
    pv_limit_percent: float

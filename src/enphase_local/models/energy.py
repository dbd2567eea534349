"""Energy readings: the shape shared by production, consumption and net consumption.

These are the values the snapshot's JSON contract exposes as
``{watts, wh_today, wh_last_7_days, wh_lifetime, source}``, aggregate and per
phase. Electrical details (volts, amps, apparent and reactive power) are
kept when the source has them (CT-backed readings).
"""

from __future__ import annotations

from dataclasses import dataclass

from ._base import Model

__all__ = ["EnergyReading", "PhaseReadings"]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class EnergyReading(Model):
    """Power now and energy counters of one flow (production, house load or grid).

    Net consumption is signed: import from the grid positive, export negative.
    Counters are None where the source does not give them (for instance the
    net-consumption `whToday` of production.json, which firmware leaves at 0
    is given as 0, but `/api/v1/production` has no per-phase data at all).

    `source` names where the values came from, e.g. ``production.json:eim``,
    ``production.json:inverters``, ``api/v1/production``, ``production.html``,
    ``meters/readings``: the CLI shows it and bug reports need it.
    """

    watts: float
    wh_today: float | None
    wh_last_7_days: float | None
    wh_lifetime: float | None
    source: str
    reading_time: int | None = None
    active_count: int | None = None
    volts: float | None = None
    amps: float | None = None
    apparent_va: float | None = None
    reactive_var: float | None = None
    power_factor: float | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class PhaseReadings(Model):
    """The three flows on one phase (L1, L2 or L3); None where not measured."""

    production: EnergyReading | None = None
    consumption: EnergyReading | None = None
    net_consumption: EnergyReading | None = None

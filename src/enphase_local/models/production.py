"""What ``production.json`` (or ``/production`` when it answers JSON) says, typed.

The gateway reports production twice: the ``inverters`` entry (the sum of the
microinverters' reports, refreshed every 5 to 15 minutes) and, on metered
models, the ``eim`` entry (the production CT, continuous). Consumption comes
as ``total-consumption`` (house load) and ``net-consumption`` (grid, signed).
An entry whose ``activeCount`` is 0 measures nothing (CT absent or disabled)
and is reported as None, so that "no data" never masquerades as "0 W".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._base import Model
from .battery import AcbStorage
from .energy import EnergyReading, PhaseReadings

__all__ = ["PHASE_NAMES", "ProductionReport"]

PHASE_NAMES = ("L1", "L2", "L3")


def _flows(phase: PhaseReadings) -> tuple[EnergyReading | None, ...]:
    return (phase.production, phase.consumption, phase.net_consumption)


def _in_use(reading: EnergyReading | None) -> bool:
    return reading is not None and (reading.watts != 0 or bool(reading.wh_lifetime))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ProductionReport(Model):
    """Production, consumption, per-phase values and the AC Battery from one production body.

    `production` is the eim (CT) reading, present only when that CT is
    active; `inverters` is the microinverters' sum. Use `best_production`
    unless you need one in particular. `phases` keeps every line the gateway
    sent (recent firmware always sends three, the unused ones all zero):
    `used_phases()` tells which carry anything. Lines of inactive entries are
    left out, like the entries themselves.

    On multi-phase sites the aggregate `volts` is what the gateway sends:
    the sum of the phase voltages. Read per-phase `volts` for a real voltage.
    """

    inverters: EnergyReading | None = None
    production: EnergyReading | None = None
    total_consumption: EnergyReading | None = None
    net_consumption: EnergyReading | None = None
    phases: Mapping[str, PhaseReadings] = field(default_factory=dict)
    acb: AcbStorage | None = None
    # production.json lists an eim entry, active or not: the gateway has the
    # metering hardware, whatever /info says (the probe then asks for CTs).
    lists_eim: bool = False

    @property
    def best_production(self) -> EnergyReading | None:
        """The production CT when it is active, else the microinverters' sum."""
        return self.production if self.production is not None else self.inverters

    @property
    def has_consumption(self) -> bool:
        """True when an active consumption CT (total or net) is reported."""
        return self.total_consumption is not None or self.net_consumption is not None

    def used_phases(self) -> tuple[str, ...]:
        """Names of the phases where any flow has non-zero watts or lifetime energy, in order."""
        return tuple(
            name
            for name, phase in sorted(self.phases.items())
            if any(_in_use(flow) for flow in _flows(phase))
        )

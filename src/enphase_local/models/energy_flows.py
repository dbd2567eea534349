"""Where the energy went: the six flows of a site, today and for ever (``Snapshot.energy``).

Home Assistant's energy dashboard, and a homeowner's first question, are
built on exactly these counters: solar made, house used, grid gave and took,
battery stored and returned. The gateway counts some of them (CTs); the
others are derived (`derived` names those). They balance:
solar + grid_import + battery_discharge + generator
= house + grid_export + battery_charge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._base import Model

__all__ = ["ENERGY_FLOWS", "EnergyFlows", "SiteEnergy"]

ENERGY_FLOWS = (
    "solar",
    "house",
    "grid_import",
    "grid_export",
    "battery_charge",
    "battery_discharge",
    "generator",
)
SOURCES_IN = ("solar", "grid_import", "battery_discharge", "generator")
SINKS = ("house", "grid_export", "battery_charge")


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class EnergyFlows(Model):
    """One value (Wh) per flow; None where the site has no such flow or it is not known yet."""

    solar: float | None = None
    house: float | None = None
    grid_import: float | None = None
    grid_export: float | None = None
    battery_charge: float | None = None
    battery_discharge: float | None = None
    generator: float | None = None

    def get(self, name: str) -> float | None:
        value: float | None = getattr(self, name)
        return value

    def residue(self) -> float | None:
        """In - out (Wh): zero within measurement error. None without solar, house or grid."""
        if self.solar is None or self.house is None or self.grid_import is None:
            return None
        into = sum(self.get(n) or 0.0 for n in SOURCES_IN)
        out = sum(self.get(n) or 0.0 for n in SINKS)
        return into - out

    def to_dict(self) -> dict[str, Any]:
        return {name: self.get(name) for name in ENERGY_FLOWS}


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class SiteEnergy(Model):
    """The site's flows since counting began (`lifetime_wh`) and since the site's midnight.

    `today_wh` values are None until the site's time zone is known (never
    the host's), and for a counter first seen after midnight whose value at
    midnight cannot be known. `zone` is the IANA zone days are counted in.
    `gaps_s`: seconds of battery power not integrated (a gap too long to bridge).
    """

    lifetime_wh: EnergyFlows
    today_wh: EnergyFlows
    derived: tuple[str, ...] = ()
    zone: str | None = None
    gaps_s: float = 0.0
    # the derived counters' running state (integrator -> (positive, negative) Wh): what the
    # collector keeps so a restart continues them (`EnergyBook.restore`); not in the contract
    state: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lifetime_wh": self.lifetime_wh.to_dict(),
            "today_wh": self.today_wh.to_dict(),
            "derived": list(self.derived),
            "zone": self.zone,
            "gaps_s": self.gaps_s,
        }

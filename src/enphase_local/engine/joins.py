"""Join the sources that describe the same devices into snapshot sections: pure, no I/O.

Meters (configuration + readings), inverters (basic list + details),
batteries (inventory + power + aggregate), the AC Battery (production report
+ device inventory), the generator (state, mode, configuration, schedule)
and dry contacts (status + settings).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models.battery import AcbSummary, BatterySummary
from ..models.dry_contacts import DryContact, join_dry_contacts
from ..models.ensemble import DeviceInventory, EnsembleInventory
from ..models.generator import GeneratorConfig, GeneratorState
from ..models.inverters import DeviceData, Inverter
from ..models.meters import Meter, join_meters
from ..models.production import ProductionReport
from ..models.snapshot import Generator, InverterView
from ..sources.keys import SourceKey
from .battery import summarize_acb, summarize_encharge

__all__ = [
    "compose_acb",
    "compose_battery",
    "compose_contacts",
    "compose_generator",
    "compose_inverters",
    "compose_meters",
    "generator_present",
]


def compose_meters(configs: Any, readings: Any) -> dict[str, Meter]:
    if configs is None:
        return {}
    return dict(join_meters(configs, readings or ()))


def compose_inverters(
    basic: Mapping[str, Inverter] | None, detail: DeviceData | None
) -> dict[str, InverterView]:
    out: dict[str, InverterView] = {}
    details = detail.inverters if detail is not None else {}
    for serial, inv in (basic or {}).items():
        out[serial] = InverterView.of(inv, details.get(serial))
    for serial, det in details.items():
        if serial not in out:
            out[serial] = InverterView.of(None, det)
    return out


def compose_battery(
    inventory: EnsembleInventory | None,
    power: Any,
    secctrl: Any,
    read_at: Mapping[SourceKey, float] | None = None,
) -> BatterySummary | None:
    """The ``battery`` view; `read_at` says whether the units' SoC is newer than secctrl's."""
    read_at = read_at or {}
    power_at = read_at.get(SourceKey.ENSEMBLE_POWER)
    secctrl_at = read_at.get(SourceKey.ENSEMBLE_SECCTRL)
    live = power_at is not None and (secctrl_at is None or power_at >= secctrl_at)
    return summarize_encharge(inventory, power, secctrl, units_live=live)


def compose_acb(
    report: ProductionReport | None, devices: DeviceInventory | None
) -> AcbSummary | None:
    return summarize_acb(report.acb if report else None, devices.acb if devices else ())


def generator_present(state: GeneratorState | None, config: GeneratorConfig | None) -> bool:
    """A generator is there when its state says so or it has a configuration: the one rule."""
    return (state is not None and state.present) or config is not None


def compose_generator(state: Any, mode: Any, config: Any, schedule: Any) -> Generator | None:
    if not generator_present(state, config):
        return None
    return Generator(state, mode, config, schedule)


def compose_contacts(statuses: Any, settings: Any) -> dict[str, DryContact]:
    if statuses is None:
        return {}
    return dict(join_dry_contacts(statuses, settings or {}))

"""Join the sources that describe the same devices into snapshot sections: pure, no I/O.

The two joins of raw models (`join_meters`: CT configuration + readings by
eid; `join_dry_contacts`: contact status + settings by id) live here beside
their siblings, not in models/: models hold shapes, the engine joins them.
Meters (configuration + readings), inverters (basic list + details),
batteries (inventory + power + aggregate), the AC Battery (production report
+ device inventory), the generator (state, mode, configuration, schedule)
and dry contacts (status + settings).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..models.battery import AcbSummary, BatteryAggregate, BatterySummary, EnchargePower
from ..models.dry_contacts import (
    DryContact,
    DryContactSettings,
    DryContactState,
    DryContactStatus,
)
from ..models.ensemble import DeviceInventory, EnsembleInventory
from ..models.generator import GeneratorConfig, GeneratorMode, GeneratorSchedule, GeneratorState
from ..models.inverters import DeviceData, Inverter
from ..models.meters import Meter, MeterConfig, MeterReading, meter_keys
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
    "join_dry_contacts",
    "join_meters",
]


def join_meters(
    configs: Iterable[MeterConfig], readings: Iterable[MeterReading]
) -> Mapping[str, Meter]:
    """Pair each configured CT with its reading by eid, keyed by what it measures.

    Readings for eids the configuration does not list are dropped (8.3.x firmware
    adds an all-zero one). When a type appears twice, the later ones
    are keyed ``<type>#2``, ``<type>#3`` in configuration order. Only the first
    reading of an eid counts.
    """
    by_eid: dict[int, MeterReading] = {}
    for reading in readings:
        by_eid.setdefault(reading.eid, reading)
    listed = list(configs)
    keys = meter_keys(c.measurement_type for c in listed)
    out: dict[str, Meter] = {}
    for key, config in zip(keys, listed, strict=True):
        found = by_eid.get(config.eid)
        out[key] = Meter(
            key=key,
            config=config,
            reading=found.for_phases(config.phase_count) if found is not None else None,
        )
    return out


def join_dry_contacts(
    statuses: Mapping[str, DryContactStatus],
    settings: Mapping[str, DryContactSettings],
) -> dict[str, DryContact]:
    """Join the two endpoints by contact id.

    Every id of either side appears once, in the order the status endpoint
    lists them, then any id only the settings know. A contact without a
    status reads ``unknown``; one without settings has `settings` None.
    """
    ids = list(statuses) + [i for i in settings if i not in statuses]
    out: dict[str, DryContact] = {}
    for contact_id in ids:
        status = statuses.get(contact_id)
        out[contact_id] = DryContact(
            id=contact_id,
            status=status.status if status is not None else DryContactState.UNKNOWN,
            settings=settings.get(contact_id),
        )
    return out


def compose_meters(
    configs: Iterable[MeterConfig] | None, readings: Iterable[MeterReading] | None
) -> dict[str, Meter]:
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
    power: Mapping[str, EnchargePower] | None,
    secctrl: BatteryAggregate | None,
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


def compose_generator(
    state: GeneratorState | None,
    mode: GeneratorMode | None,
    config: GeneratorConfig | None,
    schedule: GeneratorSchedule | None,
) -> Generator | None:
    if not generator_present(state, config):
        return None
    return Generator(state, mode, config, schedule)


def compose_contacts(
    statuses: Mapping[str, DryContactStatus] | None,
    settings: Mapping[str, DryContactSettings] | None,
) -> dict[str, DryContact]:
    if statuses is None:
        return {}
    return dict(join_dry_contacts(statuses, settings or {}))

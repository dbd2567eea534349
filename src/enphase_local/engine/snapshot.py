"""Build a `Snapshot` from a `SourceCache`: sections, counters, freshness, errors. No I/O.

Each snapshot section is fed by one or more sources. A section is fresh as of
the snapshot when each of its sources was read now or is not yet due again by
its cadence (its data cannot have changed); otherwise its freshness is the
last successful read of the lagging source. Its error is the latest failure
of any of them. A failed source leaves its last data in place, so a section
is stale rather than missing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from ..capabilities import Capability
from ..firmware import Firmware
from ..models.energy import EnergyReading, PhaseReadings
from ..models.gateway import GatewayInfo
from ..models.meters import CtType, Meter
from ..models.snapshot import GatewaySummary, Snapshot
from ..sources.keys import SourceKey
from ..sources.table import (
    DEVICE_DATA,
    DPEL,
    DRY_CONTACT_SETTINGS,
    DRY_CONTACTS,
    ENSEMBLE_INVENTORY,
    ENSEMBLE_POWER,
    ENSEMBLE_SECCTRL,
    GEN_CONFIG,
    GEN_MODE,
    GEN_SCHEDULE,
    GENERATOR,
    INFO,
    INVENTORY,
    INVERTERS_V1,
    LIVEDATA,
    METERS,
    METERS_READINGS,
    PEL_SETTINGS,
    PRODUCTION_POWER,
    SC_STATUS,
    SOURCES,
    TARIFF,
)
from .balance import cache_flow
from .cache import SourceCache
from .counters import site_ceiling_w
from .diagnosis import inverter_watts, reversal_text
from .energy import EnergyBook, EnergyInputs, battery_samples
from .export_limit import compose_export_limit
from .flows import compose_flows
from .joins import (
    compose_acb,
    compose_battery,
    compose_contacts,
    compose_generator,
    compose_inverters,
    compose_meters,
)
from .probe import is_metered
from .production import fallback_report, late_warning
from .quirks import blank_half_storage_ct, repair_total_consumption
from .recovery import demotion_warning
from .rhythm import SAMPLED
from .schedule import Schedule
from .site_day import SiteZone, without_today

__all__ = [
    "PRODUCTION_SOURCE",
    "SECTIONS",
    "build_snapshot",
    "current_as_of",
    "gateway_summary",
    "not_asked",
]

PRODUCTION_SOURCE = None  # in SECTIONS: whichever source serves production now

_SECTIONS: dict[str, tuple[SourceKey | None, ...]] = {
    "production": (PRODUCTION_SOURCE, SourceKey.METERS_READINGS),
    "meters": (SourceKey.METERS, SourceKey.METERS_READINGS),
    "inverters": (SourceKey.DEVICE_DATA, SourceKey.INVERTERS_V1),
    "battery": (
        SourceKey.ENSEMBLE_INVENTORY,
        SourceKey.ENSEMBLE_POWER,
        SourceKey.ENSEMBLE_SECCTRL,
    ),
    "acb": (PRODUCTION_SOURCE, SourceKey.INVENTORY),
    "enpower": (SourceKey.ENSEMBLE_INVENTORY,),
    "collar": (SourceKey.ENSEMBLE_INVENTORY,),
    "c6cc": (SourceKey.ENSEMBLE_INVENTORY,),
    "generator": (
        SourceKey.GENERATOR,
        SourceKey.GEN_CONFIG,
        SourceKey.GEN_MODE,
        SourceKey.GEN_SCHEDULE,
    ),
    "dry_contacts": (SourceKey.DRY_CONTACTS, SourceKey.DRY_CONTACT_SETTINGS),
    "tariff": (SourceKey.TARIFF,),
    "live": (SourceKey.LIVEDATA,),
    "power_export_limit": (SourceKey.PEL_SETTINGS,),
    "export_limit": (),  # its sources name it (Source.section): dpel, production_power
    "gateway": (SourceKey.INFO,),
    "network": (SourceKey.HOME,),
}


def _with_described(sections: dict[str, tuple[SourceKey | None, ...]]) -> None:
    """Add each source that names its section (`Source.section`) to that section."""
    for source in SOURCES.values():
        if source.section is not None and source.key not in sections[source.section]:
            sections[source.section] += (source.key,)


_with_described(_SECTIONS)
SECTIONS: Mapping[str, tuple[SourceKey | None, ...]] = _SECTIONS


def not_asked(
    sections: Iterable[str] | None,
    plan: Iterable[SourceKey],
    production: Iterable[SourceKey | None],
) -> frozenset[SourceKey]:
    """The planned sources an update limited to `sections` leaves alone (None: none).

    The `production` sources (in use, preferred) are always asked: a snapshot
    has no meaning without production. ValueError names an unknown section.
    """
    if sections is None:
        return frozenset()
    wanted = {"production", *sections}
    unknown = sorted(wanted - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown snapshot section(s) {unknown}: choose from {sorted(SECTIONS)}")
    keys = {key for name in wanted for key in SECTIONS[name]} | set(production)
    return frozenset(key for key in plan if key not in keys)


GUARDED = ("production", "consumption")  # lifetimes that can never decrease


def build_snapshot(
    cache: SourceCache,
    schedule: Schedule,
    plan: Mapping[SourceKey, float],
    gateway: GatewaySummary,
    *,
    now: float,
    site: SiteZone,
    gentle: bool,
    energy: EnergyBook | None = None,
) -> Snapshot:
    """A complete snapshot from what `cache` holds (its counter guards and `energy` advance).

    `site`: the zone "today" is counted in; while it is pending, today's values are None.
    """
    tz, note = site.tz, site.note
    report = cache.production()
    fw = gateway_firmware(cache)
    meters = compose_meters(cache.get(METERS), cache.get(METERS_READINGS))
    meters, warnings = blank_half_storage_ct(meters)
    awaited, gave_up = cache.awaited_production, cache.demoted_because
    if awaited is not None:  # power only until it answers, or waiting is given up
        report = fallback_report(report, meters, counters=bool(gave_up))
        warnings.append(late_warning(awaited, cache.production_key, gave_up))
    if report is not None and fw is not None:
        report = repair_total_consumption(fw, report, meters)
    flows = compose_flows(report, meters, cache.baseline, _phase_count(meters))
    guard = _CounterCheck(cache, flows_measured_at(cache, plan, now), tz, inverter_rating_w(cache))
    counted: list[str] = []  # the guards' warnings, less those a reversed CT explains
    guarded = guard.flows(flows, "", counted)
    if site.pending:  # never the host's day passed off as the site's
        guarded = {name: without_today(reading) for name, reading in guarded.items()}
    # Per-phase lifetimes feed per-phase dashboards as the totals feed the site's: one
    # phase's bad read (a CT channel at zero while the meter's total adds up) is held too.
    phases = {
        phase: dataclasses.replace(
            readings,
            **{
                name: without_today(r) if site.pending else r
                for name, r in guard.flows(readings, f" {phase}", counted).items()
            },
        )
        for phase, readings in flows.phases.items()
    }
    inventory = cache.get(ENSEMBLE_INVENTORY)
    freshness, errors = _freshness_and_errors(cache, schedule, plan, now)
    demoted = demotion_warning(
        cache.production_key, cache.preferred_production, cache.demoted_because
    )
    warnings.extend([demoted] if demoted else [])
    warnings.extend(cache.notes.values())
    details = cache.get(DEVICE_DATA)
    if details is not None and details.skipped:
        warnings.append(
            f"inverters: {len(details.skipped)} unreadable /ivp/pdm/device_data entries "
            f"skipped, the others kept ({details.skipped[0]})"
        )
    warnings.extend([note] if note else [])
    if gentle:
        warnings.append("gateway is in its nightly restart window (about 23:00 local time)")
    get = cache.get
    battery = compose_battery(inventory, get(ENSEMBLE_POWER), get(ENSEMBLE_SECCTRL), cache.read_at)
    acb = compose_acb(report, get(INVENTORY))
    watch = cache.ct_watch
    total = CtType.TOTAL_CONSUMPTION
    total_ct = any(m.measurement_type is total and m.enabled for m in meters.values())
    findings = watch.observe(
        flows.phases,
        inverter_watts(report),
        now,
        consumption_meter="total-consumption" if total_ct else "net-consumption",
        totals=PhaseReadings(production=flows.production, consumption=flows.consumption),
        storage=battery is not None or acb is not None,
    )
    warnings.extend(watch.fold(counted) + [reversal_text(f) for f in findings])
    production = guarded["production"]
    solar = production.watts if production is not None else None
    power_flow = cache_flow(
        cache, meters=meters, battery=battery, acb=acb, solar_watts=solar, now=now
    )
    site_energy = None
    if energy is not None:
        parts = (guarded["production"], guarded["consumption"], meters, power_flow)
        samples = battery_samples(cache.read_at, cache.production_key, battery, acb)
        has_gen = get(GEN_CONFIG) is not None
        inputs = EnergyInputs(guard.measured_at, tz, *parts, *samples, has_gen, not site.pending)
        site_energy = energy.update(inputs)
    return Snapshot(
        taken_at=now,
        gateway=gateway,
        production=guarded["production"],
        consumption=guarded["consumption"],
        net_consumption=flows.net_consumption,
        phases=phases,
        meters=meters,
        inverters=compose_inverters(get(INVERTERS_V1), get(DEVICE_DATA)),
        battery=battery,
        acb=acb,
        enpower=inventory.enpower if inventory else None,
        collar=inventory.collar if inventory else None,
        c6cc=inventory.c6_combiner if inventory else None,
        generator=compose_generator(
            get(GENERATOR),
            get(GEN_MODE),
            get(GEN_CONFIG),
            get(GEN_SCHEDULE),
        ),
        dry_contacts=compose_contacts(get(DRY_CONTACTS), get(DRY_CONTACT_SETTINGS)),
        tariff=get(TARIFF),
        live=get(LIVEDATA),
        power_flow=power_flow,
        energy=site_energy,
        power_export_limit=get(PEL_SETTINGS),
        export_limit=compose_export_limit(get(DPEL), get(PRODUCTION_POWER), status=get(SC_STATUS)),
        freshness=freshness,
        errors=errors,
        warnings=tuple(warnings),
    )


@dataclass(frozen=True, slots=True)
class _CounterCheck:
    """The counter guards of one snapshot: each flow's lifetime held when it cannot be true.

    One guard per flow and phase ("production", "production L1", ...); the
    site's ceiling bounds a phase too, since a phase carries at most the site.
    """

    cache: SourceCache
    measured_at: float
    tz: tzinfo | None
    rated_w: float | None

    def flows(self, holder: Any, label: str, warnings: list[str]) -> dict[str, Any]:
        """`holder`'s production and consumption (None stays None), each through its guard."""
        out: dict[str, EnergyReading | None] = {}
        for name in GUARDED:
            reading: EnergyReading | None = getattr(holder, name)
            if reading is not None:
                ceiling = site_ceiling_w(self.rated_w, house=name == "consumption")
                guard = self.cache.guard(name + label)
                reading, notes = guard.check(reading, self.measured_at, self.tz, ceiling_w=ceiling)
                warnings.extend(notes)
            out[name] = reading
        return out


MICROINVERTER_MAX_W = 450.0  # above the largest microinverter's rating (IQ8X: 384 VA)


def flows_measured_at(cache: SourceCache, plan: Mapping[SourceKey, float], now: float) -> float:
    """When the flows' values were true: the newest read of the sources they come from.

    The counter guards judge a counter's growth against the time elapsed
    between measurements, not between snapshots: a snapshot that serves
    the last data again (its answer set aside, or not due) measured nothing.
    """
    keys = [cache.production_key]
    if SourceKey.METERS_READINGS in plan:
        keys.append(SourceKey.METERS_READINGS)
    times = [cache.read_at[k] for k in keys if k is not None and k in cache.read_at]
    return max(times) if times else now


def inverter_rating_w(cache: SourceCache) -> float | None:
    """The inverters' rated power: their highest reports, or 450 W each if more (None: unknown).

    ``maxReportWatts`` may be a day's highest on some firmware: a cloudy
    morning must not shrink the ceiling, hence the per-inverter floor.
    """
    basic = cache.get(INVERTERS_V1) or {}
    detail = cache.get(DEVICE_DATA)
    details = detail.inverters if detail is not None else {}
    count = max(len(basic), len(details))
    sums = [sum(float(i.max_watts) for i in basic.values())]
    sums.append(sum(float(d.max_watts) for d in details.values()))
    best = max(*sums, count * MICROINVERTER_MAX_W)
    return best if best > 0 else None


def gateway_firmware(cache: SourceCache) -> Firmware | None:
    """The firmware from the last /info read (None before one)."""
    info = cache.get(INFO)
    return None if info is None else info.fw


def current_as_of(
    cache: SourceCache,
    schedule: Schedule,
    plan: Mapping[SourceKey, float],
    key: SourceKey,
    now: float,
) -> float | None:
    """Up to when `key`'s data is known current.

    `now` while its cadence says it cannot have changed (or it was read now),
    else the time of its last successful read; None if never read.
    """
    fetched = cache.read_at.get(key)
    if fetched is None:
        return None
    if fetched >= now:
        return now
    if key in SAMPLED:
        return fetched  # read less often than it changes (engine.rhythm)
    failed = schedule.state(key).failed_at
    if failed is not None and failed > fetched:
        return fetched  # asked since and failed: what we hold is as old as its read
    if key in plan and schedule.next_due(SOURCES[key]) > now:
        return now
    return fetched


def _phase_count(meters: Mapping[str, Meter]) -> int | None:
    for meter in meters.values():
        if meter.config.measurement_type is CtType.PRODUCTION:
            return int(meter.config.phase_count)
    for meter in meters.values():
        return int(meter.config.phase_count)
    return None


def _data_time(key: SourceKey, value: object, fresh: float | None) -> float | None:
    """`fresh`, or earlier when the data says it is older than our read of it.

    ``/ivp/livedata/status`` keeps showing the last figures the live stream
    produced, with their `last_update`, long after the stream stopped: the
    data is as old as that, however recently we asked for it.
    """
    if fresh is None or key is not SourceKey.LIVEDATA or value is None:
        return fresh
    own = getattr(value, "last_update", None)
    return min(fresh, float(own)) if own else fresh


def _freshness_and_errors(
    cache: SourceCache, schedule: Schedule, plan: Mapping[SourceKey, float], now: float
) -> tuple[dict[str, float], dict[str, str]]:
    freshness: dict[str, float] = {}
    errors: dict[str, str] = {}
    for section, keys in SECTIONS.items():
        times: list[float] = []
        problems: list[str] = []
        for maybe in keys:
            key = cache.production_key if maybe is PRODUCTION_SOURCE else maybe
            if key is None:
                continue
            fresh = _data_time(
                key, cache.value(key), current_as_of(cache, schedule, plan, key, now)
            )
            planned = key in plan or key == cache.production_key  # others are never re-read
            if fresh is not None and planned and cache.value(key) is not None:
                times.append(fresh)
            problem = cache.errors.get(key)
            if problem is not None:
                problems.append(problem)
        if times:
            freshness[section] = min(times)
        if problems:
            errors[section] = "; ".join(problems)
    return freshness, errors


def gateway_summary(
    info: GatewayInfo,
    host: str,
    auth_kind: str,
    role: str | None,
    capabilities: frozenset[Capability],
) -> GatewaySummary:
    """The snapshot's ``gateway`` section: identity, and how we are logged in."""
    return GatewaySummary(
        host=host,
        serial=info.serial,
        part_number=info.part_number,
        firmware=info.firmware,
        metered=is_metered(info.imeter, capabilities),
        auth=auth_kind,
        role=role,
    )

"""Build a `Snapshot` from a `SourceCache`: sections, counters, warnings. No I/O.

A failed source leaves its last data in place, so a section is stale rather
than missing; how fresh each section is, and its errors, come from
`engine.freshness`. Sections made of cached answers alone are composed
again only when one of those answers is new (`engine.sections`): a steady
update rebuilds the flows, their counter guards and the energy book, and
hands the other sections on as they were (the same objects).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
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
    ENSEMBLE_INVENTORY,
    GEN_CONFIG,
    INFO,
    LIVEDATA,
    PEL_SETTINGS,
    TARIFF,
)
from .balance import cache_flow
from .cache import SourceCache
from .counters import site_ceiling_w
from .diagnosis import inverter_watts, reversal_text
from .energy import EnergyBook, EnergyInputs, battery_samples
from .flows import compose_flows
from .freshness import freshness_and_errors
from .probe import is_metered
from .production import fallback_report, late_warning
from .quirks import repair_total_consumption
from .recovery import demotion_warning
from .schedule import Schedule
from .sections import Sections, composed_meters
from .site_day import SiteZone, without_today

__all__ = ["build_snapshot", "flows_measured_at", "gateway_firmware", "gateway_summary"]


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
    meters, warnings = composed_meters(cache)
    awaited, gave_up = cache.awaited_production, cache.demoted_because
    if awaited is not None:  # power only until it answers, or waiting is given up
        report = fallback_report(report, meters, counters=bool(gave_up))
        warnings.append(late_warning(awaited, cache.production_key, gave_up))
    if report is not None and fw is not None:
        report = repair_total_consumption(fw, report, meters)
    flows = compose_flows(report, meters, cache.baseline, _phase_count(meters))
    kept = Sections(cache, report)
    guard = _CounterCheck(cache, flows_measured_at(cache, plan, now), tz, kept.rated_w)
    counted: list[str] = []  # the guards' warnings, less those a reversed CT explains
    guarded = guard.flows(flows, "", counted)
    if site.pending:  # never the host's day passed off as the site's
        guarded = {name: without_today(reading) for name, reading in guarded.items()}
    # Per-phase lifetimes feed per-phase dashboards as the totals feed the site's: one
    # phase's bad read (a CT channel at zero while the meter's total adds up) is held too.
    phases = {
        phase: _guarded_phase(readings, guard.flows(readings, f" {phase}", counted), site.pending)
        for phase, readings in flows.phases.items()
    }
    inventory = cache.get(ENSEMBLE_INVENTORY)
    freshness, errors = freshness_and_errors(cache, schedule, plan, now)
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
    battery, acb = kept.battery, kept.acb
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
        inverters=kept.inverters,
        battery=battery,
        acb=acb,
        enpower=inventory.enpower if inventory else None,
        collar=inventory.collar if inventory else None,
        c6cc=inventory.c6_combiner if inventory else None,
        generator=kept.generator,
        dry_contacts=kept.dry_contacts,
        tariff=get(TARIFF),
        live=get(LIVEDATA),
        power_flow=power_flow,
        energy=site_energy,
        power_export_limit=get(PEL_SETTINGS),
        export_limit=kept.export_limit,
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


def gateway_firmware(cache: SourceCache) -> Firmware | None:
    """The firmware from the last /info read (None before one)."""
    info = cache.get(INFO)
    return None if info is None else info.fw


def _guarded_phase(
    readings: PhaseReadings, guarded: dict[str, EnergyReading | None], pending: bool
) -> PhaseReadings:
    """One phase's readings after its guards: the same object when they changed nothing."""
    if pending:
        guarded = {name: without_today(r) for name, r in guarded.items()}
    if all(getattr(readings, name) is r for name, r in guarded.items()):
        return readings
    return dataclasses.replace(readings, **guarded)


def _phase_count(meters: Mapping[str, Meter]) -> int | None:
    for meter in meters.values():
        if meter.config.measurement_type is CtType.PRODUCTION:
            return int(meter.config.phase_count)
    for meter in meters.values():
        return int(meter.config.phase_count)
    return None


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

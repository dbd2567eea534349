"""Turn the client's cached source data into a `Snapshot`: sections, freshness, errors.

Each snapshot section is fed by one or more sources. A section is fresh as of
the snapshot when each of its sources was read now or is not yet due again by
its cadence (its data cannot have changed); otherwise its freshness is the last
successful read of the lagging source. Its error is the latest failure of any
of them. A failed source leaves its last data in
place, so a section is stale rather than missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .compose import (
    compose_acb,
    compose_battery,
    compose_contacts,
    compose_flows,
    compose_generator,
    compose_inverters,
    compose_meters,
)
from .counters import CounterGuard
from .models.meters import CtType
from .models.snapshot import GatewaySummary, Snapshot
from .quirks import repair_total_consumption

if TYPE_CHECKING:
    from .client import Envoy

__all__ = ["SECTIONS", "build_snapshot"]

PRODUCTION = "<production>"  # stands for whichever production source is in use

SECTIONS: dict[str, tuple[str, ...]] = {
    "production": (PRODUCTION, "meters_readings"),
    "meters": ("meters", "meters_readings"),
    "inverters": ("device_data", "inverters_v1"),
    "battery": ("ensemble_inventory", "ensemble_power", "ensemble_secctrl"),
    "acb": (PRODUCTION, "inventory"),
    "enpower": ("ensemble_inventory",),
    "collar": ("ensemble_inventory",),
    "c6cc": ("ensemble_inventory",),
    "generator": ("generator", "gen_config", "gen_mode", "gen_schedule"),
    "dry_contacts": ("dry_contacts", "dry_contact_settings"),
    "tariff": ("tariff",),
    "live": ("livedata",),
    "power_export_limit": ("pel_settings",),
    "gateway": ("info",),
    "network": ("home",),
}

GUARDED = ("production", "consumption")  # lifetimes that can never decrease


def build_snapshot(envoy: Envoy, now: float, tz: ZoneInfo | None, gentle: bool) -> Snapshot:
    """A complete snapshot from what `envoy` holds."""
    info = envoy.info
    report = envoy.data("production")
    if report is not None:
        report = repair_total_consumption(info.fw, report)
    meters = compose_meters(envoy.data("meters"), envoy.data("meters_readings"))
    flows = compose_flows(report, meters, envoy.baseline, _phase_count(meters))
    warnings: list[str] = []
    guarded: dict[str, Any] = {}
    state = envoy.guard_state
    for name in GUARDED:
        reading = getattr(flows, name)
        if reading is None:
            guarded[name] = None
            continue
        guard = state.setdefault(f"guard:{name}", CounterGuard(name))
        guarded[name], notes = guard.check(reading, now, tz)
        warnings.extend(notes)
    inventory = envoy.data("ensemble_inventory")
    freshness, errors = _freshness_and_errors(envoy, now)
    if gentle:
        warnings.append("gateway is in its nightly restart window (about 23:00 local time)")
    return Snapshot(
        taken_at=now,
        gateway=GatewaySummary(
            host=envoy.host,
            serial=info.serial,
            part_number=info.part_number,
            firmware=info.firmware,
            metered=info.imeter,
            auth=envoy.auth_kind,
            role=envoy.role,
        ),
        production=guarded["production"],
        consumption=guarded["consumption"],
        net_consumption=flows.net_consumption,
        phases=flows.phases,
        meters=meters,
        inverters=compose_inverters(envoy.data("inverters_v1"), envoy.data("device_data")),
        battery=compose_battery(
            inventory, envoy.data("ensemble_power"), envoy.data("ensemble_secctrl")
        ),
        acb=compose_acb(report, envoy.data("inventory")),
        enpower=inventory.enpower if inventory else None,
        collar=inventory.collar if inventory else None,
        c6cc=inventory.c6_combiner if inventory else None,
        generator=compose_generator(
            envoy.data("generator"),
            envoy.data("gen_mode"),
            envoy.data("gen_config"),
            envoy.data("gen_schedule"),
        ),
        dry_contacts=compose_contacts(
            envoy.data("dry_contacts"), envoy.data("dry_contact_settings")
        ),
        tariff=envoy.data("tariff"),
        live=envoy.data("livedata"),
        power_export_limit=envoy.data("pel_settings"),
        freshness=freshness,
        errors=errors,
        warnings=tuple(warnings),
    )


def _phase_count(meters: dict[str, Any]) -> int | None:
    for meter in meters.values():
        if meter.config.measurement_type is CtType.PRODUCTION:
            return int(meter.config.phase_count)
    for meter in meters.values():
        return int(meter.config.phase_count)
    return None


def _freshness_and_errors(envoy: Envoy, now: float) -> tuple[dict[str, float], dict[str, str]]:
    freshness: dict[str, float] = {}
    errors: dict[str, str] = {}
    for section, keys in SECTIONS.items():
        times: list[float] = []
        problems: list[str] = []
        for key in keys:
            real = envoy.production_key if key == PRODUCTION else key
            if real is None:
                continue
            fresh = envoy.current_as_of(real, now)
            if fresh is not None and envoy.data(real) is not None:
                times.append(fresh)
            problem = envoy.error(real)
            if problem is not None:
                problems.append(problem)
        if times:
            freshness[section] = min(times)
        if problems:
            errors[section] = "; ".join(problems)
    return freshness, errors

"""Which sources a gateway has, what that means it can do, and how often to ask each.

`candidates` lists the sources worth probing on a firmware; `derive`
turns what answered into `Capability` values; `plan` gives, per source, the
period at which an update should ask it. All pure: the client does the I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .capabilities import Capability
from .firmware import Firmware
from .models.ensemble import DeviceInventory, EnsembleInventory
from .models.generator import GeneratorConfig, GeneratorState
from .models.inverters import DeviceData
from .models.meters import CtType, MeterConfig, MeterState
from .models.production import ProductionReport
from .models.tariff import Tariff
from .sources.registry import Cadence

__all__ = ["base_candidates", "derive", "enabled_cts", "ensemble_candidates", "plan"]

REPORT = float(Cadence.REPORT.seconds)
CONFIG = float(Cadence.CONFIG.seconds)
IDENTITY = float(Cadence.IDENTITY.seconds)
# With CTs giving live power and counters, production.json only re-anchors the
# daily counters: every few minutes is enough (see compose.py).
PRODUCTION_WITH_CT = float(Cadence.REPORT.seconds)


def base_candidates(fw: Firmware, metered: bool) -> list[str]:
    """Sources to probe on every gateway (after the production chain)."""
    keys = ["inverters_v1"]
    if metered:
        keys += ["meters", "meters_readings"]
    if not fw.known or fw.at_least(7):
        keys.append("device_data")
    return keys


def ensemble_candidates(fw: Firmware) -> list[str]:
    """Sources to probe when the gateway may have batteries or a system controller."""
    if fw.known and fw.before(7):
        return []
    return ["ensemble_inventory"]


def enabled_cts(configs: tuple[MeterConfig, ...] | None) -> frozenset[CtType]:
    """CT types configured and enabled."""
    return frozenset(c.measurement_type for c in configs or () if c.state is MeterState.ENABLED)


def derive(data: Mapping[str, Any]) -> frozenset[Capability]:
    """Capabilities from the parsed answers of the probe (source key -> model)."""
    caps: set[Capability] = set()
    report: ProductionReport | None = data.get("production")
    if report is not None:
        caps.add(Capability.PRODUCTION)
        if report.production is not None:
            caps.add(Capability.PRODUCTION_CT)
        if report.total_consumption is not None:
            caps.add(Capability.CONSUMPTION)
        if report.net_consumption is not None:
            caps.add(Capability.NET_CONSUMPTION)
        if len(report.used_phases()) > 1:
            caps.add(Capability.PHASES)
        if report.acb is not None:
            caps.add(Capability.ACB)
    cts = enabled_cts(data.get("meters"))
    if cts and data.get("meters_readings") is not None:
        caps.add(Capability.METERS)
        if CtType.PRODUCTION in cts:
            caps.add(Capability.PRODUCTION_CT)
    if data.get("inverters_v1") or _device_data(data):
        caps.add(Capability.INVERTERS)
    if _details_cover(data):
        caps.add(Capability.INVERTER_DETAILS)
    inv: EnsembleInventory | None = data.get("ensemble_inventory")
    if inv is not None:
        if inv.encharge:
            caps.add(Capability.ENCHARGE)
        if inv.enpower is not None:
            caps.add(Capability.ENPOWER)
            caps.add(Capability.DRY_CONTACTS)
        if inv.collar is not None:
            caps.add(Capability.COLLAR)
        if inv.c6_combiner is not None:
            caps.add(Capability.C6_COMBINER)
    devices: DeviceInventory | None = data.get("inventory")
    if devices is not None:
        caps.add(Capability.DEVICE_INVENTORY)
        if devices.acb:
            caps.add(Capability.ACB)
    gen_state: GeneratorState | None = data.get("generator")
    gen_config: GeneratorConfig | None = data.get("gen_config")
    if (gen_state is not None and gen_state.present) or gen_config is not None:
        caps.add(Capability.GENERATOR)
    tariff: Tariff | None = data.get("tariff")
    if tariff is not None and tariff.storage_mode is not None:
        caps.add(Capability.TARIFF)
    for key, cap in (
        ("livedata", Capability.LIVE_DATA),
        ("pel_settings", Capability.POWER_EXPORT_LIMIT),
        ("pv_limit", Capability.PV_LIMIT),
        ("home", Capability.NETWORK),
    ):
        if data.get(key) is not None:
            caps.add(cap)
    return frozenset(caps)


def _device_data(data: Mapping[str, Any]) -> bool:
    dd: DeviceData | None = data.get("device_data")
    return dd is not None and bool(dd.inverters)


def _details_cover(data: Mapping[str, Any]) -> bool:
    """device_data lists every inverter the basic endpoint knows (it stops at 50)."""
    dd: DeviceData | None = data.get("device_data")
    if dd is None or not dd.inverters:
        return False
    basic = data.get("inverters_v1") or {}
    return set(basic) <= set(dd.inverters)


def plan(
    caps: frozenset[Capability],
    *,
    production_key: str,
    cts: frozenset[CtType],
    ensemble_probed: bool,
) -> dict[str, float]:
    """Source key -> seconds between reads (0: every update) for this gateway.

    The fewest requests that keep every section current: CT readings are the
    live heartbeat; production.json is read on the inverter report rhythm
    (its inverter figures change only then, and CT-backed flows are carried
    forward between reads); batteries' aggregates every update; everything
    configured by people on the CONFIG period.
    """
    out: dict[str, float] = {"info": IDENTITY}
    live_ct = Capability.METERS in caps
    out[production_key] = PRODUCTION_WITH_CT if live_ct else 0.0
    if not live_ct and Capability.PRODUCTION_CT not in caps:
        out[production_key] = REPORT  # inverter figures only change with reports
    if live_ct:
        out["meters_readings"] = 0.0
        out["meters"] = CONFIG
    if Capability.INVERTER_DETAILS in caps:
        out["device_data"] = REPORT
    elif Capability.INVERTERS in caps:
        out["inverters_v1"] = REPORT
    battery = Capability.ENCHARGE in caps
    if ensemble_probed and (battery or Capability.ENPOWER in caps or Capability.COLLAR in caps):
        out["ensemble_inventory"] = REPORT
    if battery or Capability.ACB in caps:
        out["ensemble_secctrl"] = 0.0
    if battery:
        # Per-unit power: live only when no storage CT measures the battery flow.
        out["ensemble_power"] = REPORT if CtType.STORAGE in cts else 0.0
    if Capability.DRY_CONTACTS in caps:
        out["dry_contacts"] = REPORT
        out["dry_contact_settings"] = CONFIG
    if Capability.GENERATOR in caps:
        out["generator"] = REPORT
        out.update(gen_config=CONFIG, gen_mode=CONFIG, gen_schedule=CONFIG)
    if Capability.TARIFF in caps:
        out["tariff"] = CONFIG
    if Capability.DEVICE_INVENTORY in caps and Capability.ACB in caps:
        out["inventory"] = CONFIG
    if Capability.LIVE_DATA in caps:
        out["livedata"] = REPORT
    if Capability.POWER_EXPORT_LIMIT in caps:
        out["pel_settings"] = CONFIG
    if Capability.NETWORK in caps:
        out["home"] = IDENTITY
    return out

"""Which sources a gateway has, what that means it can do, and how often to ask each.

`candidates` lists the sources worth probing on a firmware; `derive`
turns what answered into `Capability` values; `plan` gives, per source, the
period at which an update should ask it. All pure: the client does the I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..capabilities import Capability, SourceStatus
from ..firmware import Firmware
from ..models.ensemble import DeviceInventory, EnsembleInventory
from ..models.generator import GeneratorConfig, GeneratorState
from ..models.inverters import DeviceData
from ..models.meters import CtType, MeterConfig, MeterState
from ..models.production import ProductionReport
from ..models.tariff import Tariff
from ..sources.keys import SourceKey
from ..sources.registry import Cadence
from .joins import generator_present
from .password import PasswordRefusal, judge_password
from .production import REPORT_SOURCES, as_report

__all__ = [
    "PasswordRefusal",
    "asks_meters",
    "base_candidates",
    "base_followups",
    "deferred",
    "derive",
    "device_data_complete",
    "enabled_cts",
    "ensemble_candidates",
    "followups",
    "generator_followups",
    "is_metered",
    "judge_password",
    "lists_eim",
    "plan",
    "plan_after_probe",
]

REPORT = float(Cadence.REPORT.seconds)
# Settings people change (tariff, reserve, CT configuration, export limit,
# contacts, generator) are read every 30 minutes, not every 10: they change a
# few times a year, our own writes force a read-back at once, and the three
# times fewer reads are what keeps a battery site under a third of pyenphase's
# requests (bench/RESULTS.md (1)).
CONFIG = 3 * float(Cadence.CONFIG.seconds)
IDENTITY = float(Cadence.IDENTITY.seconds)
# With CTs giving live power and counters, production.json only re-anchors the
# daily counters, which the CT lifetimes carry forward between reads (flows.py):
# every 15 minutes is enough. Where it also holds an AC Battery bank (power and
# SoC found nowhere else) it keeps the report rhythm.
PRODUCTION_WITH_CT = 3 * REPORT
# The ensemble inventory gives an Enpower's or collar's grid relay state (an
# outage shows there): the report rhythm. Listing batteries only, whose SoC and
# power come live from ensemble/power, it adds temperatures and status flags,
# which follow the units' own reports: every 15 minutes.
BATTERY_INVENTORY = 3 * REPORT


def base_candidates(
    fw: Firmware, metered: bool | None, data: Mapping[SourceKey, Any] | None = None
) -> list[SourceKey]:
    """Sources to probe on every gateway (after the production chain), given what answered.

    device_data comes first: when it lists every inverter, the basic list is
    not asked at all (`base_followups`, asked after the ensemble inventory).
    The CT configuration is asked for when `asks_meters` says a CT may be there.
    """
    keys = []
    if not fw.known or fw.at_least(7):
        keys.append(SourceKey.DEVICE_DATA)
    if asks_meters(fw, metered, data or {}):
        keys.append(SourceKey.METERS)
    return keys


def base_followups(data: Mapping[SourceKey, Any]) -> list[SourceKey]:
    """What the first answers leave to probe: one request fewer for each thing already known.

    The basic inverter list, unless device_data answered with inverters and
    fewer devices than its limit (`device_data_complete`); the CT readings
    only when the configuration lists a CT (an empty list: nothing to read;
    a disabled CT's readings still fill the meters section).
    """
    keys = []
    if not device_data_complete(data.get(SourceKey.DEVICE_DATA)):
        keys.append(SourceKey.INVERTERS_V1)
    if data.get(SourceKey.METERS):
        keys.append(SourceKey.METERS_READINGS)
    return keys


def device_data_complete(dd: DeviceData | None) -> bool:
    """device_data has every microinverter the basic list would give.

    It answered with inverters, lists fewer devices than its limit (so none
    was cut), and left none out: an ``active: false`` unit is still in the
    basic list, and so is one whose entry could not be read.
    """
    if dd is None or not dd.inverters or dd.inactive or dd.skipped:
        return False
    return dd.device_count < dd.device_data_limit


def asks_meters(fw: Firmware, metered: bool | None, data: Mapping[SourceKey, Any]) -> bool:
    """Whether the CT meters may answer: worth a request before the first snapshot.

    Yes when ``/info`` says the model is metered or a production report lists
    an eim (CT) entry, active or not. A missing ``<imeter>`` (None) is
    unknown (metered Envoy-S units on 4.x leave it out, and their production
    report lists eim entries): then a production report read without any, or
    firmware before 4 (no CT endpoints), says there is no CT to ask.
    A gateway without CTs that is asked answers 404 once and is never asked again.
    """
    if metered is True or lists_eim(data):
        return True
    report_read = any(isinstance(data.get(key), ProductionReport) for key in REPORT_SOURCES)
    return metered is None and not report_read and not (fw.known and fw.before(4))


def lists_eim(data: Mapping[SourceKey, Any]) -> bool:
    """A production report read so far lists an eim (CT) entry, active or not."""
    for key in (SourceKey.PRODUCTION_JSON, SourceKey.PRODUCTION_SUMMARY):
        report = data.get(key)
        if isinstance(report, ProductionReport) and report.lists_eim:
            return True
    return False


_CT_CAPABILITIES = frozenset(
    {
        Capability.METERS,
        Capability.PRODUCTION_CT,
        Capability.CONSUMPTION,
        Capability.NET_CONSUMPTION,
    }
)


def is_metered(imeter: bool | None, caps: frozenset[Capability]) -> bool:
    """Whether the gateway meters: ``<imeter>`` true, or the probe found a CT answering.

    ``/info`` may leave ``<imeter>`` out (4.x, 3.x): what the gateway measures
    then decides, so a metered site is never reported as not metered.
    """
    return imeter is True or bool(caps & _CT_CAPABILITIES)


def ensemble_candidates(fw: Firmware) -> list[SourceKey]:
    """Sources to probe when the gateway may have batteries or a system controller."""
    if fw.known and fw.before(7):
        return []
    return [SourceKey.ENSEMBLE_INVENTORY]


_ENSEMBLE_FOLLOWUPS = (
    SourceKey.ENSEMBLE_POWER,
    SourceKey.ENSEMBLE_SECCTRL,
    SourceKey.DRY_CONTACTS,  # only with a system controller (`followups`)
    SourceKey.GEN_CONFIG,  # only where a generator can be switched (`followups`)
    # Storage mode and reserve: Home Assistant creates its entities from the
    # first snapshot, so the tariff is probed, not left for later.
    SourceKey.TARIFF,
)

# Sources whose data nobody needs for the first snapshot (settings people
# change, the network page, the gateway's own live figures): they are not
# probed at connect but read once after the first snapshot, with their own
# cadence. `/home` alone can take a minute on a real gateway. live() tries
# livedata while it is not asked yet (live/reader.available_sources), so it
# needs no probe either; the CT readings give the first snapshot its flows.
_DEFERRED_PERIODS: dict[SourceKey, float] = {
    SourceKey.DRY_CONTACT_SETTINGS: CONFIG,
    SourceKey.PEL_SETTINGS: CONFIG,
    SourceKey.LIVEDATA: CONFIG,
}


def followups(data: Mapping[SourceKey, Any], report: ProductionReport | None) -> list[SourceKey]:
    """Sources worth probing once the first answers and production are known.

    `base_followups` first. A battery, system controller or collar in the
    ensemble inventory brings the ensemble family: dry contacts only with a
    system controller (they live on it, and `derive` grants them with it
    alone); the generator's configuration only with something that can
    switch a generator (system controller, collar, C6 combiner): batteries
    alone cannot. An AC Battery in production.json brings the
    battery aggregate (its device inventory, ``/inventory.json``, takes
    seconds: it is `deferred`). The generator's state, mode and schedule
    wait for its configuration (`generator_followups`). Each key once.
    """
    keys = base_followups(data)
    inventory: EnsembleInventory | None = data.get(SourceKey.ENSEMBLE_INVENTORY)
    if inventory is not None and (inventory.encharge or inventory.enpower or inventory.collar):
        switch = inventory.enpower or inventory.collar or inventory.c6_combiner
        skip = {SourceKey.DRY_CONTACTS} if inventory.enpower is None else set()
        skip |= set() if switch is not None else {SourceKey.GEN_CONFIG}
        keys += [k for k in _ENSEMBLE_FOLLOWUPS if k not in skip]
    if report is not None and report.acb is not None:
        keys.append(SourceKey.ENSEMBLE_SECCTRL)
    return list(dict.fromkeys(keys))


def generator_followups(config: GeneratorConfig | None) -> list[SourceKey]:
    """The generator's state, mode and schedule: only when ``gen_config`` is not ``{}``."""
    if config is None:
        return []
    return [SourceKey.GENERATOR, SourceKey.GEN_MODE, SourceKey.GEN_SCHEDULE]


def deferred(
    fw: Firmware,
    inventory: EnsembleInventory | None,
    read: Mapping[SourceKey, Any],
    report: ProductionReport | None = None,
) -> dict[SourceKey, float]:
    """Sources read after the first snapshot rather than probed (key -> period).

    `report`: the production report in use (an AC Battery in it brings
    ``/inventory.json``, 3 to 8 s on a real gateway). Those already read (a
    re-probe) are left to `plan`, which knows them by their capabilities.
    """
    keys: dict[SourceKey, float] = {}
    if inventory is not None and (inventory.encharge or inventory.enpower or inventory.collar):
        keys.update(_DEFERRED_PERIODS)
        if inventory.enpower is None:  # dry contacts live on the system controller
            keys.pop(SourceKey.DRY_CONTACT_SETTINGS)
    if report is not None and report.acb is not None:
        keys[SourceKey.INVENTORY] = CONFIG
    if fw.at_least(7):
        keys[SourceKey.HOME] = IDENTITY
    return {key: period for key, period in keys.items() if key not in read}


def enabled_cts(configs: tuple[MeterConfig, ...] | None) -> frozenset[CtType]:
    """CT types configured and enabled."""
    return frozenset(c.measurement_type for c in configs or () if c.state is MeterState.ENABLED)


def derive(data: Mapping[SourceKey, Any], report: ProductionReport | None) -> frozenset[Capability]:
    """Capabilities from the parsed answers of the probe and the production report in use."""
    caps: set[Capability] = set()
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
    cts = enabled_cts(data.get(SourceKey.METERS))
    if cts and data.get(SourceKey.METERS_READINGS) is not None:
        caps.add(Capability.METERS)
        if CtType.PRODUCTION in cts:
            caps.add(Capability.PRODUCTION_CT)
    if data.get(SourceKey.INVERTERS_V1) or _device_data(data):
        caps.add(Capability.INVERTERS)
    if _details_cover(data):
        caps.add(Capability.INVERTER_DETAILS)
    inv: EnsembleInventory | None = data.get(SourceKey.ENSEMBLE_INVENTORY)
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
    devices: DeviceInventory | None = data.get(SourceKey.INVENTORY)
    if devices is not None:
        caps.add(Capability.DEVICE_INVENTORY)
        if devices.acb:
            caps.add(Capability.ACB)
    gen_state: GeneratorState | None = data.get(SourceKey.GENERATOR)
    gen_config: GeneratorConfig | None = data.get(SourceKey.GEN_CONFIG)
    if generator_present(gen_state, gen_config):
        caps.add(Capability.GENERATOR)
    tariff: Tariff | None = data.get(SourceKey.TARIFF)
    if tariff is not None and tariff.storage_mode is not None:
        caps.add(Capability.TARIFF)
    for key, cap in (
        (SourceKey.LIVEDATA, Capability.LIVE_DATA),
        (SourceKey.PEL_SETTINGS, Capability.POWER_EXPORT_LIMIT),
        (SourceKey.PV_LIMIT, Capability.PV_LIMIT),
        (SourceKey.HOME, Capability.NETWORK),
    ):
        if data.get(key) is not None:
            caps.add(cap)
    return frozenset(caps)


def _device_data(data: Mapping[SourceKey, Any]) -> bool:
    dd: DeviceData | None = data.get(SourceKey.DEVICE_DATA)
    return dd is not None and bool(dd.inverters)


def _details_cover(data: Mapping[SourceKey, Any]) -> bool:
    """device_data lists every inverter the basic endpoint knows (it stops at 50)."""
    dd: DeviceData | None = data.get(SourceKey.DEVICE_DATA)
    if dd is None or not dd.inverters:
        return False
    basic = data.get(SourceKey.INVERTERS_V1) or {}
    return set(basic) <= set(dd.inverters)


def plan(
    caps: frozenset[Capability],
    *,
    production_key: SourceKey,
    ensemble_probed: bool,
) -> dict[SourceKey, float]:
    """Source key -> seconds between reads (0: every update) for this gateway.

    The fewest requests that keep every section current: CT readings are the
    live heartbeat; production.json is read on the inverter report rhythm
    (its inverter figures change only then), every 15 minutes where CTs carry
    the flows forward between reads; the batteries' units (power and SoC)
    every update; everything configured by people on the CONFIG period.
    """
    out: dict[SourceKey, float] = {SourceKey.INFO: IDENTITY}
    live_ct = Capability.METERS in caps
    with_ct = REPORT if Capability.ACB in caps else PRODUCTION_WITH_CT
    out[production_key] = with_ct if live_ct else 0.0
    if not live_ct and Capability.PRODUCTION_CT not in caps:
        out[production_key] = REPORT  # inverter figures only change with reports
    if live_ct:
        out[SourceKey.METERS_READINGS] = 0.0
        out[SourceKey.METERS] = CONFIG
    if Capability.INVERTER_DETAILS in caps:
        out[SourceKey.DEVICE_DATA] = REPORT
    elif Capability.INVERTERS in caps:
        out[SourceKey.INVERTERS_V1] = REPORT
    battery = Capability.ENCHARGE in caps
    relay = Capability.ENPOWER in caps or Capability.COLLAR in caps
    if ensemble_probed and (battery or relay):
        out[SourceKey.ENSEMBLE_INVENTORY] = REPORT if relay else BATTERY_INVENTORY
    if battery or Capability.ACB in caps:
        # Reserve, capacities and health: settings. The bank's SoC is the units'
        # (ensemble/power, below), the same mean the gateway's agg_soc is.
        out[SourceKey.ENSEMBLE_SECCTRL] = CONFIG
    if battery:
        # Per-unit power and SoC: live, whether or not a storage CT measures the flow
        # (the CT gives the bank's power, not its charge).
        out[SourceKey.ENSEMBLE_POWER] = 0.0
    if Capability.DRY_CONTACTS in caps:
        out[SourceKey.DRY_CONTACTS] = REPORT
        out[SourceKey.DRY_CONTACT_SETTINGS] = CONFIG
    if Capability.GENERATOR in caps:
        out[SourceKey.GENERATOR] = REPORT
        out.update(
            {
                SourceKey.GEN_CONFIG: CONFIG,
                SourceKey.GEN_MODE: CONFIG,
                SourceKey.GEN_SCHEDULE: CONFIG,
            }
        )
    if Capability.TARIFF in caps:
        out[SourceKey.TARIFF] = CONFIG
    if Capability.DEVICE_INVENTORY in caps and Capability.ACB in caps:
        out[SourceKey.INVENTORY] = CONFIG
    if Capability.LIVE_DATA in caps:
        # Its figures are the gateway's, current only while the live stream runs
        # (last_update says when): the CT readings every minute are the live data.
        out[SourceKey.LIVEDATA] = CONFIG
    if Capability.POWER_EXPORT_LIMIT in caps:
        out[SourceKey.PEL_SETTINGS] = CONFIG
    if Capability.NETWORK in caps:
        out[SourceKey.HOME] = IDENTITY
    return out


def plan_after_probe(
    fw: Firmware,
    caps: frozenset[Capability],
    found: tuple[SourceKey | None, Mapping[SourceKey, Any], SourceKey | None],
    status: Mapping[SourceKey, SourceStatus],
) -> tuple[dict[SourceKey, float], dict[SourceKey, float]]:
    """`plan` for what the probe found, and the sources `deferred` to after the first snapshot.

    `found`: the production source in use, what the probe read, and the
    production source awaited (production.json, late at start-up while the
    fallback serves production: deferred too, at the fallback's period; see
    engine.production). The deferred sources are in the plan; a source that
    refused (absent, forbidden) is remembered and not asked again until a re-probe.
    """
    production_key, read, awaited = found
    assert production_key is not None
    out = plan(
        caps,
        production_key=production_key,
        ensemble_probed=bool(ensemble_candidates(fw)),
    )
    later = deferred(
        fw, read.get(SourceKey.ENSEMBLE_INVENTORY), read, as_report(read.get(production_key))
    )
    if awaited is not None:
        out[awaited] = later[awaited] = out[production_key]
    out.update(later)
    for key, st in status.items():
        if st in (SourceStatus.FORBIDDEN, SourceStatus.ABSENT):
            out.pop(key, None)
    return out, later

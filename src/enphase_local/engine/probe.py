"""Which sources a gateway has, and what that means it can do.

`base_candidates` and the follow-ups list the sources worth probing on a
firmware and after the first answers; `derive` turns what answered into
`Capability` values. How often to ask each is `engine.rhythm`'s decision.
All pure: the client does the I/O.
"""

from __future__ import annotations

from ..capabilities import Capability
from ..firmware import Firmware
from ..models.generator import GeneratorConfig
from ..models.inverters import DeviceData
from ..models.meters import CtType, MeterConfig, MeterState
from ..models.production import ProductionReport
from ..sources.keys import SourceKey
from ..sources.registry import Readings
from ..sources.table import (
    DEVICE_DATA,
    ENSEMBLE_INVENTORY,
    GEN_CONFIG,
    GENERATOR,
    INVENTORY,
    INVERTERS_V1,
    METERS,
    METERS_READINGS,
    SOURCES,
    TARIFF,
)
from .joins import generator_present
from .password import PasswordRefusal, judge_password
from .production import REPORT_SOURCES

__all__ = [
    "PasswordRefusal",
    "asks_meters",
    "base_candidates",
    "base_followups",
    "derive",
    "device_data_complete",
    "enabled_cts",
    "ensemble_candidates",
    "followups",
    "generator_followups",
    "is_metered",
    "judge_password",
    "lists_eim",
]


def base_candidates(
    fw: Firmware, metered: bool | None, data: Readings | None = None
) -> list[SourceKey]:
    """Sources to probe on every gateway (after the production chain), given what answered.

    device_data comes first: when it lists every inverter, the basic list is
    not asked at all (`base_followups`, asked after the ensemble inventory).
    The CT configuration is asked for when `asks_meters` says a CT may be there.
    """
    keys = []
    if not fw.known or fw.at_least(7):
        keys.append(SourceKey.DEVICE_DATA)
    if asks_meters(fw, metered, data):
        keys.append(SourceKey.METERS)
    return keys


def base_followups(data: Readings) -> list[SourceKey]:
    """What the first answers leave to probe: one request fewer for each thing already known.

    The basic inverter list, unless device_data answered with inverters and
    fewer devices than its limit (`device_data_complete`); the CT readings
    only when the configuration lists a CT (an empty list: nothing to read;
    a disabled CT's readings still fill the meters section).
    """
    keys = []
    if not device_data_complete(data.get(DEVICE_DATA)):
        keys.append(SourceKey.INVERTERS_V1)
    if data.get(METERS):
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


def asks_meters(fw: Firmware, metered: bool | None, data: Readings | None) -> bool:
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
    if data is None:
        return metered is None and not (fw.known and fw.before(4))
    report_read = any(isinstance(data.value(key), ProductionReport) for key in REPORT_SOURCES)
    return metered is None and not report_read and not (fw.known and fw.before(4))


def lists_eim(data: Readings | None) -> bool:
    """A production report read so far lists an eim (CT) entry, active or not."""
    for key in REPORT_SOURCES:
        report = None if data is None else data.value(key)
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
def followups(data: Readings, report: ProductionReport | None) -> list[SourceKey]:
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
    inventory = data.get(ENSEMBLE_INVENTORY)
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


def enabled_cts(configs: tuple[MeterConfig, ...] | None) -> frozenset[CtType]:
    """CT types configured and enabled."""
    return frozenset(c.measurement_type for c in configs or () if c.state is MeterState.ENABLED)


def derive(data: Readings, report: ProductionReport | None) -> frozenset[Capability]:
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
    cts = enabled_cts(data.get(METERS))
    if cts and data.get(METERS_READINGS) is not None:
        caps.add(Capability.METERS)
        if CtType.PRODUCTION in cts:
            caps.add(Capability.PRODUCTION_CT)
    if data.get(INVERTERS_V1) or _device_data(data):
        caps.add(Capability.INVERTERS)
    if _details_cover(data):
        caps.add(Capability.INVERTER_DETAILS)
    inv = data.get(ENSEMBLE_INVENTORY)
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
    devices = data.get(INVENTORY)
    if devices is not None:
        caps.add(Capability.DEVICE_INVENTORY)
        if devices.acb:
            caps.add(Capability.ACB)
    if generator_present(data.get(GENERATOR), data.get(GEN_CONFIG)):
        caps.add(Capability.GENERATOR)
    tariff = data.get(TARIFF)
    if tariff is not None and tariff.storage_mode is not None:
        caps.add(Capability.TARIFF)
    for source in SOURCES.values():  # those whose answer alone grants one (Source.capability)
        if source.capability is not None and data.value(source.key) is not None:
            caps.add(source.capability)
    return frozenset(caps)


def _device_data(data: Readings) -> bool:
    dd = data.get(DEVICE_DATA)
    return dd is not None and bool(dd.inverters)


def _details_cover(data: Readings) -> bool:
    """device_data lists every inverter the basic endpoint knows (it stops at 50)."""
    dd = data.get(DEVICE_DATA)
    if dd is None or not dd.inverters:
        return False
    basic = data.get(INVERTERS_V1) or {}
    return set(basic) <= set(dd.inverters)

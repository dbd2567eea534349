"""How often to ask each source: the fewest requests that keep every section current.

`plan` gives, per source, the period at which an update asks it, from what
the gateway can do; `deferred` lists the sources read once after the first
snapshot instead of on its path (slow or identity-only ones); `plan_after_probe`
puts both together for what a probe found. Every period is the rhythm at which
the data can change (gateway.md section 6): reading faster only costs the
gateway requests. All pure: the client does the I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..capabilities import Capability, SourceStatus
from ..firmware import Firmware
from ..models.ensemble import EnsembleInventory
from ..models.meters import CtType
from ..models.production import ProductionReport
from ..sources.keys import SourceKey
from ..sources.registry import Cadence, Readings
from ..sources.table import ENSEMBLE_INVENTORY, METERS, SOURCES
from .probe import enabled_cts, ensemble_candidates
from .production import as_report

__all__ = [
    "BATTERY_INVENTORY",
    "BATTERY_UNITS_WITH_CT",
    "CONFIG",
    "IDENTITY",
    "PRODUCTION_WITH_CT",
    "REPORT",
    "SAMPLED",
    "deferred",
    "described",
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
# Per-battery power and SoC (ensemble/power) where a storage CT already gives the
# bank's power with the other flows every minute: the units add their SoC and
# share, which move a fraction of a percent a minute, so the inverters' report
# rhythm is enough (12 requests an hour instead of 60; bench/RESULTS.md, issue 31).
# Without a storage CT they are the battery's only live power: every update.
BATTERY_UNITS_WITH_CT = REPORT
SAMPLED: frozenset[SourceKey] = frozenset({SourceKey.ENSEMBLE_POWER})
"""Sources whose data changes every minute but may be read less often (above):
their data is as fresh as their last read, never "current until the next one"."""

_DEFERRED_PERIODS: dict[SourceKey, float] = {
    SourceKey.DRY_CONTACT_SETTINGS: CONFIG,
    SourceKey.PEL_SETTINGS: CONFIG,
    SourceKey.LIVEDATA: CONFIG,
}


def plan(
    caps: frozenset[Capability],
    *,
    production_key: SourceKey,
    ensemble_probed: bool,
    storage_ct: bool = False,
) -> dict[SourceKey, float]:
    """Source key -> seconds between reads (0: every update) for this gateway.

    The fewest requests that keep every section current: CT readings are the
    live heartbeat; production.json is read on the inverter report rhythm
    (its inverter figures change only then), every 15 minutes where CTs carry
    the flows forward between reads; the batteries' units (power and SoC)
    every update, or on the report rhythm where `storage_ct` (an enabled
    storage CT in ``/ivp/meters``) gives the bank's power every update;
    everything configured by people on the CONFIG period.
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
        # Per-unit power and SoC: live unless a storage CT measures the bank's flow
        # every update; then the units' SoC and share follow on the report rhythm,
        # and the battery section's freshness says how old they are.
        out[SourceKey.ENSEMBLE_POWER] = BATTERY_UNITS_WITH_CT if storage_ct and live_ct else 0.0
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
    if Capability.EXPORT_LIMIT in caps:
        out[SourceKey.DPEL] = CONFIG
    if Capability.PRODUCTION_SWITCH in caps:
        out[SourceKey.PRODUCTION_POWER] = CONFIG
    if Capability.NETWORK in caps:
        out[SourceKey.HOME] = IDENTITY
    return out


def deferred(
    fw: Firmware,
    inventory: EnsembleInventory | None,
    read: Readings,
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


def described(
    fw: Firmware, caps: frozenset[Capability], read: Readings
) -> tuple[dict[SourceKey, float], dict[SourceKey, float]]:
    """The sources that carry their own period and probe rule: (planned, deferred).

    One the gateway may have (`ProbeRule.applies`) is planned at its period if
    it answered already, else deferred: read once after the first snapshot,
    never on its path. No other code names them (docs/CONTRIBUTING.md).
    """
    planned: dict[SourceKey, float] = {}
    later: dict[SourceKey, float] = {}
    for source in SOURCES.values():
        rule, period = source.probe, source.period
        if rule is not None and period is not None and rule.applies(fw, caps):
            (planned if source.key in read else later)[source.key] = period
    return planned, later


def plan_after_probe(
    fw: Firmware,
    caps: frozenset[Capability],
    found: tuple[SourceKey | None, Readings, SourceKey | None],
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
        storage_ct=CtType.STORAGE in enabled_cts(read.get(METERS)),
    )
    later = deferred(fw, read.get(ENSEMBLE_INVENTORY), read, as_report(read.value(production_key)))
    if awaited is not None:
        out[awaited] = later[awaited] = out[production_key]
    own_plan, own_later = described(fw, caps, read)
    later.update(own_later)
    out.update(own_plan)
    out.update(later)
    for key, st in status.items():
        if st in (SourceStatus.FORBIDDEN, SourceStatus.ABSENT):
            out.pop(key, None)
    return out, later

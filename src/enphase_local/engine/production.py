"""Which source serves production: the one home of that decision.

Gateways expose production through up to four endpoints of different
quality: production.json (inverters, CTs, per-phase lines, ACB), ``/production``
(the same without lines), ``/api/v1/production`` (one reading with today's
and the week's counters) and, before 3.9, an HTML table. `production_chain`
orders them for a firmware; `wants_v1` and `prefers_v1` say when v1 beats
production.json's inverter section; `as_report` gives any of their models one
shape.

Why v1 matters without a production CT: the inverter section's lifetime is a
sum of the microinverters' 32-bit joule counters, so it drops by
`INVERTER_WRAP_WH` (2^32 J) each time one wraps, and it has no today or
7-day counters. ``/api/v1/production`` keeps an unwrapped lifetime and both
counters: wherever it is trustworthy, it is the better source.

Why a late production.json does not hold the first snapshot: a real gateway
sometimes answers it in 30 to 70 s while v1 and the CT readings answer in a
fraction of a second. Its first read is cut after a few seconds (`late_after`)
and the first snapshot shows power only (`fallback_report`), from the CTs or v1;
production.json is read once after it, and its counters are the first any
guard sees: v1's and the CTs' lifetimes are other counters than
production.json's on real gateways, and a switch between them would be a
phantom jump or a drop downstream.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ..firmware import Firmware
from ..models.energy import EnergyReading
from ..models.meters import Meter
from ..models.production import ProductionReport
from ..sources.keys import SourceKey
from ..sources.table import SOURCES
from .flows import ct_counters

__all__ = [
    "FALLBACK",
    "INVERTER_WRAP_WH",
    "V1_STALLS_FROM",
    "after_late_answer",
    "as_report",
    "fallback_report",
    "fallback_usable",
    "late_after",
    "late_warning",
    "prefers_v1",
    "production_chain",
    "v1_plausible",
    "wants_v1",
]

INVERTER_WRAP_WH = 2**32 / 3600  # 1,193,046.47 Wh: one microinverter's joule counter wrapping
V1_STALLS_FROM = (8, 2, 4264)  # metered units without CTs: v1's values stall from this build
# How far v1's lifetime may lag the inverter section's and still be the same count
# (the two are refreshed at different moments): 1 kWh or 1 %, whichever is more.
_LAG_WH = 1000.0
_LAG_FRACTION = 0.01

# Sources whose model is a full ProductionReport (others give one EnergyReading).
REPORT_SOURCES = frozenset({SourceKey.PRODUCTION_JSON, SourceKey.PRODUCTION_SUMMARY})


def production_chain(fw: Firmware) -> tuple[SourceKey, ...]:
    """Production sources to try, best first.

    Before 3.9 production exists only as the HTML page. From 7.6 per-phase
    lines come only with ``?details=1``, which the production_json path
    always asks for (older firmware ignores the parameter).
    """
    if fw.known and fw.before(3, 9):
        return (SourceKey.PRODUCTION_HTML, SourceKey.PRODUCTION_V1)
    return (
        SourceKey.PRODUCTION_JSON,
        SourceKey.PRODUCTION_SUMMARY,
        SourceKey.PRODUCTION_V1,
        SourceKey.PRODUCTION_HTML,
    )


def wants_v1(key: SourceKey, report: ProductionReport | None) -> bool:
    """Worth reading ``/api/v1/production`` to judge it: production comes from the inverters.

    With a production CT active, production.json's eim entry is live and
    exact; without one, v1 may be better (see `prefers_v1`).
    """
    return key in REPORT_SOURCES and report is not None and report.production is None


def prefers_v1(
    key: SourceKey,
    report: ProductionReport | None,
    v1: EnergyReading | None,
    *,
    fw: Firmware,
    metered: bool | None,
) -> bool:
    """v1 replaces production.json's inverter section: non-zero, plausible and trustworthy.

    - Zero lifetime: metered units without CTs send v1 all zero.
    - Trustworthy: on metered units (``<imeter>`` true, or production.json
      listing an eim entry) v1 stalls from 8.2.4264; before that, and on
      every non-metered unit, it is sound.
    - Plausible: v1's lifetime is not below the inverter section's (which
      can only be low, by whole wraps); a v1 far below it is stale.

    A site with an AC Battery keeps production.json: its ``storage`` entry
    is the only source of the battery bank, and v1 would replace it.
    """
    if not wants_v1(key, report) or report is None or v1 is None or not v1.wh_lifetime:
        return False
    if report.acb is not None:
        return False
    meters = metered is True or report.lists_eim
    if meters and fw.known and fw.at_least(*V1_STALLS_FROM):
        return False
    return v1_plausible(v1, report.inverters)


def v1_plausible(v1: EnergyReading, inverters: EnergyReading | None) -> bool:
    """v1's lifetime is at least the inverter section's, give or take their refresh lag.

    The inverter section can read whole multiples of `INVERTER_WRAP_WH`
    below the truth (its counters wrap), never above it, so a larger v1 is
    the expected sign of a wrapped inverter section, not a conflict.
    """
    if v1.wh_lifetime is None or v1.wh_lifetime <= 0:
        return False
    if inverters is None or inverters.wh_lifetime is None:
        return True
    lag = max(_LAG_WH, _LAG_FRACTION * inverters.wh_lifetime)
    return v1.wh_lifetime >= inverters.wh_lifetime - lag


def as_report(data: object) -> ProductionReport | None:
    """Any production source's model as a `ProductionReport` (v1 and HTML give one reading)."""
    if isinstance(data, ProductionReport):
        return data
    if isinstance(data, EnergyReading):
        return ProductionReport(inverters=data)
    return None


# -- production.json late at start-up ------------------------------------------------------

FALLBACK = SourceKey.PRODUCTION_V1  # answers in a fraction of a second where production.json lags


def late_after(key: SourceKey, limit_s: float) -> float | None:
    """How long `key`'s first read may take before the fallback serves production (None: no limit).

    Only production.json: the other sources of the chain are either as slow
    (``/production`` is the same report) or the fallback itself.
    """
    return limit_s if key == SourceKey.PRODUCTION_JSON else None


def fallback_usable(v1: object) -> bool:
    """v1 answered with a lifetime: metered units without CTs send it all zero (nothing to show).

    Where it is unusable and no other source serves production, the client
    waits for production.json after all: once, with the slow timeout, no retries.
    """
    return isinstance(v1, EnergyReading) and bool(v1.wh_lifetime)


def after_late_answer(
    report: ProductionReport, v1: EnergyReading | None, *, fw: Firmware, metered: bool | None
) -> SourceKey:
    """production.json answered after the first snapshot: who serves production from now on.

    The probe's own choice (`prefers_v1`), as if production.json had answered in time.
    """
    key = SourceKey.PRODUCTION_JSON
    return FALLBACK if prefers_v1(key, report, v1, fw=fw, metered=metered) else key


def fallback_report(
    report: ProductionReport | None, meters: Mapping[str, Meter], *, counters: bool = False
) -> ProductionReport:
    """The flows while production.json is awaited: power now, no counters.

    Production's watts come from the production CT where one reads (the
    carry-forward puts them in), else from the fallback; the house and grid
    flows from their CTs. No today, 7-day or lifetime figure: the first
    counters a guard sees are production.json's (see the module docstring).
    `counters`: production no longer waits for it (engine.recovery): the
    fallback's own counters, carried forward by the production CT like
    production.json's, since the fallback itself is read only now and then.
    """
    _, watts = ct_counters(meters)
    first = report.best_production if report is not None else None

    def stub(name: str, fallback: EnergyReading | None) -> EnergyReading | None:
        if fallback is not None:
            if counters:
                return fallback
            return dataclasses.replace(
                fallback, wh_today=None, wh_last_7_days=None, wh_lifetime=None
            )
        if name not in watts:
            return None
        return EnergyReading(watts[name], None, None, None, source="meters/readings")

    return ProductionReport(
        production=stub("production", first),
        total_consumption=stub("consumption", None),
        net_consumption=stub("net_consumption", None),
    )


def late_warning(key: SourceKey, fallback: SourceKey | None, gave_up: str | None = None) -> str:
    """What the snapshot says while `key` is awaited and `fallback` serves production.

    `gave_up`: why production no longer waits for `key` (engine.recovery):
    the fallback's own counters are shown meanwhile.
    """
    late = SOURCES[key].path.split("?")[0]
    via = SOURCES[fallback].path if fallback is not None else "nothing else"
    if gave_up:
        return (
            f"production: served by {via}, with its own counters, instead of {late} "
            f"(per-phase lines unavailable) because {gave_up}; {late} is asked again "
            "with backoff and takes over when it answers"
        )
    return (
        f"production: {late} did not answer in time at start-up, so these first figures "
        f"came from the fallback ({via} and the CT readings), power only; {late} follows "
        "(read once after this snapshot, then with backoff) with the counters and phase lines"
    )

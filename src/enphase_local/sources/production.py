"""Production and consumption: ``/production.json?details=1``, ``/production`` and v1.

``production.json`` is the richest source (CT aggregates, per-phase lines,
the AC Battery) but slow on some firmware; ``/production`` answers the same
JSON without lines on firmware 4 and later (before 3.9 it is an HTML page:
see `legacy_html`); ``/api/v1/production`` is small and fast but holds
aggregated production only, and stalls on metered units without CTs.

Entries are chosen by their ``type`` and ``measurementType`` fields, never
by list position, and an entry whose ``activeCount`` is 0 is left out before
its ``measurementType`` is even looked at: firmware 4.x omits that field on
inactive entries. Entries that cannot be classified (no ``type``, unknown
``measurementType``) are skipped, so a new kind of entry does not cost us the
whole report; fields we read are type-checked strictly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..models.battery import AcbState, AcbStorage
from ..models.energy import EnergyReading, PhaseReadings
from ..models.production import PHASE_NAMES, ProductionReport
from ._json import Obj, ShapeError, as_obj, json_parser
from ._wire import (
    ProductionBody,
    ProductionEntry,
    ProductionLine,
    StorageRow,
    StrictProductionBody,
    convert,
    decode,
)
from .bounds import check_energy_reading, energy_reading_plausible, unsigned_energies_plausible
from .keys import SourceKey
from .registry import Cadence, Role, Source, Speed

__all__ = [
    "PRODUCTION_JSON",
    "PRODUCTION_JSON_PATH",
    "PRODUCTION_PATH",
    "PRODUCTION_SUMMARY",
    "PRODUCTION_V1",
    "PRODUCTION_V1_PATH",
    "parse_production",
    "parse_production_json",
    "parse_production_v1",
]

PRODUCTION_JSON_PATH = "/production.json?details=1"
PRODUCTION_PATH = "/production"
PRODUCTION_V1_PATH = "/api/v1/production"

_TOTAL = "total-consumption"
_NET = "net-consumption"
# flow name in PhaseReadings for each kind of eim entry
_FLOW = {"production": "production", _TOTAL: "consumption", _NET: "net_consumption"}


def _reading_time(obj: Obj, default: int | None = None) -> int | None:
    """``readingTime`` in epoch seconds; 0 (never read) becomes None."""
    value = obj.epoch_or("readingTime")
    if value is None:
        return default
    return value or None


# The optional numbers of an entry or line, in the order `_reading` unpacks them.
_OPTIONAL = (
    "whToday",
    "whLastSevenDays",
    "whLifetime",
    "rmsVoltage",
    "rmsCurrent",
    "apprntPwr",
    "reactPwr",
    "pwrFactor",
)


def _reading(obj: Obj, source: str, reading_time: int | None = None) -> EnergyReading:
    """One production.json entry or line as an `EnergyReading`, read the checked way."""
    watts = obj.number("wNow")
    today, week, lifetime, volts, amps, va, var, pf = obj.numbers_or(_OPTIONAL)
    # By position, in field order (a dozen per body: keywords would cost a dict each)
    return EnergyReading(
        watts,
        today,
        week,
        lifetime,
        source,
        _reading_time(obj, reading_time),
        obj.integer_or("activeCount"),
        volts,
        amps,
        va,
        var,
        pf,
    )


def _lines(entry: Obj, source: str, parent: EnergyReading) -> list[EnergyReading]:
    """The per-phase ``lines[]`` of an entry, in phase order (L1, L2, L3)."""
    items = entry.items_or("lines")
    if len(items) > len(PHASE_NAMES):
        raise ShapeError(f"{entry.where}.lines: {len(items)} lines, a gateway has at most 3 phases")
    when = parent.reading_time
    return [_reading(_line(entry, line, i), source, when) for i, line in enumerate(items)]


def _line(entry: Obj, line: Any, i: int) -> Obj:
    """Line `i` of `entry`; its path is spelled out only for an error message."""
    if not isinstance(line, dict):
        as_obj(line, f"{entry.where}.lines[{i}]")  # raises, naming the line
    return Obj(line, "", entry, ("lines", i))


class _Builder:
    """Collects the first active entry of each kind, and their lines per phase."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.inverters: EnergyReading | None = None
        self.eim: dict[str, EnergyReading] = {}
        self.phases: dict[str, dict[str, EnergyReading]] = {}
        self.lists_eim = False

    def add_inverters(self, entry: Obj) -> None:
        # The inverters entry is kept even with activeCount 0: right after
        # boot it is the only production figure there is.
        entry.integer("activeCount")
        if self.inverters is None:
            reading = _reading(entry, f"{self.endpoint}:inverters")
            if not energy_reading_plausible(reading, signed=False):  # bounds
                check_energy_reading(reading, entry.where, signed=False)
            self.inverters = reading

    def add_eim(self, entry: Obj, kind: str | None) -> None:
        """An eim entry of `kind` (production, total- or net-consumption), if active."""
        self.lists_eim = True
        if entry.integer("activeCount") == 0:
            return  # inactive: may lack measurementType (4.x), carries no data
        measured = entry.text_or("measurementType", kind)
        if measured not in _FLOW or measured in self.eim:
            return
        source = f"{self.endpoint}:eim"
        signed = measured == _NET  # bounds: only net consumption may run below zero
        reading = _reading(entry, source)
        if not energy_reading_plausible(reading, signed=signed):
            check_energy_reading(reading, entry.where, signed=signed)
        self.eim[measured] = reading
        for name, line in zip(PHASE_NAMES, _lines(entry, source, reading), strict=False):
            if not energy_reading_plausible(line, signed=signed):  # bounds
                check_energy_reading(line, f"{entry.where}.lines[{name}]", signed=signed)
            self.phases.setdefault(name, {})[_FLOW[measured]] = line

    def build(self, acb: AcbStorage | None) -> ProductionReport:
        return ProductionReport(
            inverters=self.inverters,
            production=self.eim.get("production"),
            total_consumption=self.eim.get(_TOTAL),
            net_consumption=self.eim.get(_NET),
            phases={name: PhaseReadings(**flows) for name, flows in sorted(self.phases.items())},
            acb=acb,
            lists_eim=self.lists_eim,
        )


def _acb(body: Obj) -> AcbStorage | None:
    """The AC Battery aggregate: the first ``storage[]`` entry that has ``percentFull``."""
    for entry in body.objs("storage"):
        if entry.raw("percentFull") is None or entry.text_or("type", "acb") != "acb":
            continue  # an entry without percentFull is not a battery
        return AcbStorage(
            watts=entry.number("wNow"),
            wh_now=entry.number("whNow"),
            soc_percent=entry.number("percentFull"),
            state=AcbState.parse(entry.text_or("state")),
            active_count=entry.integer("activeCount"),
            reading_time=_reading_time(entry),
        )
    return None


def _wire_reading(e: ProductionLine, source: str, default_time: int | None) -> EnergyReading:
    """`_reading` of an entry or line that `_wire_report` converted (wNow present)."""
    when = e.readingTime
    return EnergyReading(
        e.wNow,  # type: ignore[arg-type]  # the caller checked it
        e.whToday,
        e.whLastSevenDays,
        e.whLifetime,
        source,
        default_time if when is None else (when or None),
        e.activeCount,
        e.rmsVoltage,
        e.rmsCurrent,
        e.apprntPwr,
        e.reactPwr,
        e.pwrFactor,
    )


def _wire_report(data: Any, endpoint: str) -> ProductionReport | None:
    """`_report` for the ordinary body, its types checked by msgspec in one C call.

    None when anything is unusual (a type msgspec refuses, a missing count or
    wNow, too many lines, an implausible value): `_report` then reads the body
    the checked way and says what is wrong. Equal results: test_fast_paths.py.
    """
    wire = convert(data, ProductionBody)
    return None if wire is None else _report_from(wire, endpoint, lambda: _acb(as_obj(data)))


class _Unusual(Exception):
    """Something the typed fast path leaves to the checked readers."""


def _typed_report(body: bytes, endpoint: str) -> ProductionReport | None:
    """The body's bytes decoded by msgspec straight into the strict shapes, without
    orjson (see `_wire.decode`); None when they do not fit."""
    wire: StrictProductionBody | None = decode(body, StrictProductionBody)
    if wire is None:
        return None
    try:
        return _report_from(wire, endpoint, lambda: _wire_acb(wire.storage))
    except _Unusual:
        return None


def _wire_acb(storage: list[StorageRow] | None) -> AcbStorage | None:
    """`_acb` of typed rows; `_Unusual` for a battery entry missing a value."""
    for e in storage or ():
        if e.percentFull is None or (e.type is not None and e.type != "acb"):
            continue
        if e.wNow is None or e.whNow is None or e.activeCount is None:
            raise _Unusual
        return AcbStorage(
            watts=e.wNow,
            wh_now=e.whNow,
            soc_percent=e.percentFull,
            state=AcbState.parse(e.state),
            active_count=e.activeCount,
            reading_time=e.readingTime or None,
        )
    return None


def _report_from(
    wire: ProductionBody, endpoint: str, acb: Callable[[], AcbStorage | None]
) -> ProductionReport | None:
    """The report of a typed body; `acb` reads the battery once the entries passed
    (the checked way reads it last, so its error comes only then)."""
    inverters: EnergyReading | None = None
    eim: dict[str, EnergyReading] = {}
    phases: dict[str, dict[str, EnergyReading]] = {}
    eim_source = f"{endpoint}:eim"
    entries: list[tuple[ProductionEntry, str | None]]
    entries = [(e, "production") for e in wire.production if e.type == "eim"]
    entries += [(e, None) for e in wire.consumption or () if e.type is None or e.type == "eim"]
    for e in wire.production:
        if e.type == "inverters":
            if e.activeCount is None or e.wNow is None:
                return None
            if inverters is None:
                if not unsigned_energies_plausible(e.whToday, e.whLastSevenDays, e.whLifetime):
                    return None
                inverters = _wire_reading(e, f"{endpoint}:inverters", None)
    for e, kind in entries:
        if e.activeCount is None:
            return None
        if e.activeCount == 0:
            continue
        measured = kind if e.measurementType is None else e.measurementType
        if measured not in _FLOW or measured in eim:
            continue
        signed = measured == _NET
        lines = e.lines or ()
        if e.wNow is None or len(lines) > len(PHASE_NAMES):
            return None
        # The wire shape held every value to the bounds of a signed reading.
        if not (signed or unsigned_energies_plausible(e.whToday, e.whLastSevenDays, e.whLifetime)):
            return None
        reading = eim[measured] = _wire_reading(e, eim_source, None)
        flow = _FLOW[measured]
        for name, line in zip(PHASE_NAMES, lines, strict=False):
            if line.wNow is None or not (
                signed
                or unsigned_energies_plausible(line.whToday, line.whLastSevenDays, line.whLifetime)
            ):
                return None
            phases.setdefault(name, {})[flow] = _wire_reading(
                line, eim_source, reading.reading_time
            )
    return ProductionReport(
        inverters,
        eim.get("production"),
        eim.get(_TOTAL),
        eim.get(_NET),
        {name: PhaseReadings(**flows) for name, flows in sorted(phases.items())},
        acb(),
        bool(entries),
    )


def _report(data: Any, endpoint: str) -> ProductionReport:
    fast = _wire_report(data, endpoint)
    if fast is not None:
        return fast
    body = as_obj(data)
    builder = _Builder(endpoint)
    body.items("production")  # required: it is what makes this a production document
    for entry in body.objs("production"):
        kind = entry.text_or("type")
        if kind == "inverters":
            builder.add_inverters(entry)
        elif kind == "eim":
            builder.add_eim(entry, "production")
    for entry in body.objs("consumption"):
        if entry.text_or("type", "eim") == "eim":
            builder.add_eim(entry, None)
    return builder.build(_acb(body))


def parse_production_json(body: bytes) -> ProductionReport:
    """``/production.json?details=1`` -> `ProductionReport` (sources ``production.json:*``)."""
    fast = _typed_report(body, "production.json")
    return fast if fast is not None else _parse_production_json(body)


def parse_production(body: bytes) -> ProductionReport:
    """``/production`` answering JSON (firmware 4+) -> `ProductionReport` (``production:*``)."""
    fast = _typed_report(body, "production")
    return fast if fast is not None else _parse_production(body)


@json_parser(PRODUCTION_JSON_PATH)
def _parse_production_json(data: Any) -> ProductionReport:
    return _report(data, "production.json")


@json_parser(PRODUCTION_PATH)
def _parse_production(data: Any) -> ProductionReport:
    return _report(data, "production")


@json_parser(PRODUCTION_V1_PATH)
def parse_production_v1(data: Any) -> EnergyReading:
    """``/api/v1/production`` -> aggregated production (no per-phase data, no consumption)."""
    body = as_obj(data)
    reading = EnergyReading(
        watts=body.number("wattsNow"),
        wh_today=body.number("wattHoursToday"),
        wh_last_7_days=body.number("wattHoursSevenDays"),
        wh_lifetime=body.number("wattHoursLifetime"),
        source="api/v1/production",
    )
    return check_energy_reading(reading, "body", signed=False)  # bounds


PRODUCTION_JSON: Source[ProductionReport] = Source(
    key=SourceKey.PRODUCTION_JSON,
    path=PRODUCTION_JSON_PATH,
    parse=parse_production_json,
    role=Role.OWNER,
    cadence=Cadence.LIVE,
    speed=Speed.SLOW,
    doc="production (inverters and CT), consumption, per-phase lines and the AC Battery",
)

PRODUCTION_SUMMARY: Source[ProductionReport] = Source(
    key=SourceKey.PRODUCTION_SUMMARY,
    path=PRODUCTION_PATH,
    parse=parse_production,
    role=Role.OWNER,
    cadence=Cadence.LIVE,
    speed=Speed.SLOW,
    doc="production and consumption as JSON, without per-phase lines (firmware 4 and later)",
)

PRODUCTION_V1: Source[EnergyReading] = Source(
    key=SourceKey.PRODUCTION_V1,
    path=PRODUCTION_V1_PATH,
    parse=parse_production_v1,
    role=Role.OWNER,
    cadence=Cadence.LIVE,
    speed=Speed.FAST,
    doc="aggregated production only; stalls on metered units without CTs (8.2.4264+)",
)

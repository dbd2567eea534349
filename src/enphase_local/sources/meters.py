"""CT meters: parsers for ``/ivp/meters``, ``/ivp/meters/readings`` and ``/ivp/meters/reports``.

The configuration and readings come back as tuples in the gateway's order;
`enphase_local.engine.joins.join_meters` pairs them by eid. Firmware 5.0.x
without CTs answers ``[]`` to both, which parses as no meters. The readings
parser reads every field it models: the captures from 4.10 to 8.3 all send
them, so a missing one means the body is not what we think it is.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, cast

from ..models.meters import (
    ELECTRICAL_FIELDS,
    CtType,
    MeterChannel,
    MeterConfig,
    MeteringStatus,
    MeterReading,
    MeterReport,
    MeterReportLine,
    MeterState,
    PhaseMode,
    meter_keys,
    per_phase_volts,
)
from ._json import Obj, ShapeError, as_list, as_obj, json_parser, plain_numbers
from ._obj import _INT_MAX, _INT_MIN
from ._wire import (
    MeterConfigRow,
    MeterConfigRows,
    MeterRow,
    MeterRows,
    StrictMeterRows,
    convert,
    decode,
)
from .bounds import check_meter_reading, meter_reading_plausible
from .keys import SourceKey
from .registry import Cadence, Role, Source, Speed

__all__ = [
    "METERS",
    "METERS_PATH",
    "METERS_READINGS",
    "METERS_REPORTS",
    "READINGS_PATH",
    "REPORTS_PATH",
    "parse_meter_readings",
    "parse_meter_reports",
    "parse_meters",
]

METERS_PATH = "/ivp/meters"
READINGS_PATH = "/ivp/meters/readings"
REPORTS_PATH = "/ivp/meters/reports"


def _objs(data: Any) -> list[Obj]:
    return [as_obj(v, f"body[{i}]") for i, v in enumerate(as_list(data))]


def _flags(meter: Obj) -> tuple[str, ...]:
    out: list[str] = []
    for i, flag in enumerate(meter.items_or("statusFlags")):
        if not isinstance(flag, str):
            raise ShapeError(f"{meter.where}.statusFlags[{i}]: expected a string, got {flag!r}")
        out.append(flag)
    return tuple(out)


def _config(m: Obj) -> MeterConfig:
    return MeterConfig(
        eid=m.integer("eid"),
        state=MeterState.parse(m.text_or("state")),
        measurement_type=CtType.parse(m.text_or("measurementType")),
        phase_mode=PhaseMode.parse(m.text_or("phaseMode")),
        phase_count=m.integer("phaseCount"),
        metering_status=MeteringStatus.parse(m.text_or("meteringStatus")),
        status_flags=_flags(m),
    )


_TEXT_OR_NULL = frozenset({str, type(None)})


def _plain_config(m: dict[str, Any]) -> MeterConfig | None:
    """`_config` for the ordinary CT, read directly; None when unusual (`_config` says why)."""
    eid, count, flags = m.get("eid"), m.get("phaseCount"), m.get("statusFlags")
    texts = (m.get("state"), m.get("measurementType"), m.get("phaseMode"), m.get("meteringStatus"))
    if not (
        type(eid) is int
        and type(count) is int
        and _INT_MIN <= eid <= _INT_MAX
        and _INT_MIN <= count <= _INT_MAX
        and _TEXT_OR_NULL.issuperset(map(type, texts))
        and (flags is None or (type(flags) is list and _TEXT.issuperset(map(type, flags))))
    ):
        return None
    state, kind, mode, status = texts
    return MeterConfig(
        eid,
        MeterState.parse(state),
        CtType.parse(kind),
        PhaseMode.parse(mode),
        count,
        MeteringStatus.parse(status),
        tuple(flags) if flags else (),
    )


_TEXT = frozenset({str})


def _wire_configs(data: Any) -> tuple[MeterConfig, ...] | None:
    """The CTs of an ordinary body, typed by msgspec in one C call (see `sources._wire`);
    None when anything is unusual, for the readers above to decide."""
    rows: list[MeterConfigRow] | None = convert(data, MeterConfigRows)
    if rows is None:
        return None
    return tuple(
        MeterConfig(
            m.eid,
            m.state or MeterState.UNKNOWN,
            m.measurementType or CtType.UNKNOWN,
            m.phaseMode or PhaseMode.UNKNOWN,
            m.phaseCount,
            m.meteringStatus or MeteringStatus.UNKNOWN,
            tuple(m.statusFlags) if m.statusFlags else (),
        )
        for m in rows
    )


@json_parser(METERS_PATH)
def parse_meters(data: Any) -> tuple[MeterConfig, ...]:
    """``/ivp/meters`` -> the configured CTs, in the gateway's order (eids unique)."""
    configs = _wire_configs(data)
    if configs is None:
        configs = tuple(
            (_plain_config(m) if type(m) is dict else None) or _config(as_obj(m, f"body[{i}]"))
            for i, m in enumerate(as_list(data))
        )
    eids = [c.eid for c in configs]
    if len(set(eids)) != len(eids):
        raise ShapeError(f"body: duplicate meter eid in {eids}")
    return configs


# The gateway's names of the electrical fields, in `/ivp/meters/readings` and in reports.
_READING_NAMES = {
    "wh_delivered": "actEnergyDlvd",
    "wh_received": "actEnergyRcvd",
    "vah": "apparentEnergy",
    "varh_lagging": "reactEnergyLagg",
    "varh_leading": "reactEnergyLead",
    "watts": "activePower",
    "va": "apparentPower",
    "var": "reactivePower",
    "volts": "voltage",
    "amps": "current",
    "hz": "freq",
    "power_factor": "pwrFactor",
}
_REPORT_NAMES = {
    "wh_delivered": "whDlvdCum",
    "wh_received": "whRcvdCum",
    "vah": "vahCum",
    "varh_lagging": "varhLagCum",
    "varh_leading": "varhLeadCum",
    "watts": "actPower",
    "va": "apprntPwr",
    "var": "reactPwr",
    "volts": "rmsVoltage",
    "amps": "rmsCurrent",
    "hz": "freqHz",
    "power_factor": "pwrFactor",
}
assert set(_READING_NAMES) == set(_REPORT_NAMES) == set(ELECTRICAL_FIELDS)


_READING_KEYS = tuple(_READING_NAMES[name] for name in ELECTRICAL_FIELDS)
_REPORT_KEYS = tuple(_REPORT_NAMES[name] for name in ELECTRICAL_FIELDS)
_VOLTS = ELECTRICAL_FIELDS.index("volts")
_READING_GET = operator.itemgetter(*_READING_KEYS)
_PHASES = ("L1", "L2", "L3")


# The twelve electrical fields as one typed tuple, for mypy to check positional passing.
_Twelve = tuple[float, float, float, float, float, float, float, float, float, float, float, float]


def _twelve(values: list[float], volts: float | None = None) -> _Twelve:
    """The electrical fields read in `ELECTRICAL_FIELDS` order, `volts` replaced when given.

    They are the first fields of every model deriving from `Electrical`, so they
    are passed by position: one bulk read and no keyword matching per value.
    """
    if volts is not None:
        values[_VOLTS] = volts
    return cast(_Twelve, tuple(values))


def _channel(c: Obj, phase: str) -> MeterChannel:
    values = _twelve(c.numbers(_READING_KEYS))
    return MeterChannel(*values, phase=phase, eid=c.integer("eid"), timestamp=c.epoch("timestamp"))


def _plain_channel(c: dict[str, Any], phase: str) -> MeterChannel | None:
    """`_channel` for the ordinary channel, read in C (None when unusual: `_channel` says why).

    Meters list three channels each, and a Meter Collar site five meters: these
    are most of the readings body. Equal to `_channel` (tests/sources/test_meters.py).
    """
    values = plain_numbers(c, _READING_GET)
    eid, timestamp = c.get("eid"), c.get("timestamp")
    if type(timestamp) is float:  # some firmware (the collar's) sends epoch floats
        timestamp = int(timestamp)
    if values is None or type(eid) is not int or type(timestamp) is not int:
        return None
    if not _INT_MIN <= eid <= _INT_MAX:
        return None
    return MeterChannel(*_twelve(values), phase, eid, timestamp)


def _channels(m: Obj) -> tuple[MeterChannel, ...]:
    """The channels of a reading, named L1.. by position."""
    out: list[MeterChannel] = []
    for i, c in enumerate(m.items_or("channels")):
        phase = _PHASES[i] if i < len(_PHASES) else f"L{i + 1}"
        channel = _plain_channel(c, phase) if type(c) is dict else None
        out.append(channel or _channel(m.element("channels", i, c), phase))
    return tuple(out)


def _reading(m: Obj) -> MeterReading:
    channels = _channels(m)
    d = m.d
    values = plain_numbers(d, _READING_GET) or m.numbers(_READING_KEYS)
    eid, timestamp = d.get("eid"), d.get("timestamp")
    if type(eid) is not int or not _INT_MIN <= eid <= _INT_MAX:
        eid = m.integer("eid")  # accepts an integral float, or says what is wrong
    if type(timestamp) is float:
        timestamp = int(timestamp)
    elif type(timestamp) is not int:
        timestamp = m.epoch("timestamp")
    volts_sum = values[_VOLTS]
    volts = per_phase_volts(volts_sum, [c.volts for c in channels])
    return MeterReading(*_twelve(values, volts), eid, timestamp, volts_sum, channels)


# The twelve electrical values of a `ChannelRow` or `MeterRow`, as one tuple.
_WIRE_TWELVE = cast(Callable[[Any], _Twelve], operator.attrgetter(*_READING_KEYS))


def _wire_readings(data: Any) -> tuple[MeterReading, ...] | None:
    """The readings of an ordinary body, typed and bounded by msgspec in one C call
    (see `sources._wire`); None when anything is unusual, for `_reading` to decide."""
    rows: list[MeterRow] | None = convert(data, MeterRows)
    return None if rows is None else _readings_from(rows)


def _typed_readings(body: bytes) -> tuple[MeterReading, ...] | None:
    """The body's bytes decoded by msgspec straight into the strict shapes, without
    orjson (see `_wire.decode`); None when they do not fit."""
    rows: list[MeterRow] | None = decode(body, StrictMeterRows)
    return None if rows is None else _readings_from(rows)


def _readings_from(rows: list[MeterRow]) -> tuple[MeterReading, ...]:
    """The readings of rows msgspec typed and bounded. The twelve values of a meter
    or channel come out of one C call (`_WIRE_TWELVE`), in `ELECTRICAL_FIELDS` order."""
    out: list[MeterReading] = []
    for m in rows:
        rows_of = m.channels or ()
        if len(rows_of) > len(_PHASES):
            names: tuple[str, ...] = tuple(f"L{i + 1}" for i in range(len(rows_of)))
        else:
            names = _PHASES
        channels = tuple([
            MeterChannel(*_WIRE_TWELVE(c), name, c.eid, int(c.timestamp))
            for name, c in zip(names, rows_of, strict=False)  # names: at least as many
        ])  # fmt: skip
        values = list(_WIRE_TWELVE(m))
        volts_sum = m.voltage
        volts = per_phase_volts(volts_sum, [c.volts for c in channels])
        out.append(
            MeterReading(*_twelve(values, volts), m.eid, int(m.timestamp), volts_sum, channels)
        )
    return tuple(out)


def parse_meter_readings(body: bytes) -> tuple[MeterReading, ...]:
    """``/ivp/meters/readings`` -> one reading per meter, channels named L1.. by position.

    Includes any extra entry for an eid `/ivp/meters` does not list: the join drops it.
    """
    fast = _typed_readings(body)
    return fast if fast is not None else _parse_meter_readings(body)


@json_parser(READINGS_PATH)
def _parse_meter_readings(data: Any) -> tuple[MeterReading, ...]:
    """`parse_meter_readings` of the decoded body: the typed shapes, else the checked way."""
    fast = _wire_readings(data)
    if fast is not None:
        return fast
    readings: list[MeterReading] = []
    for m in _objs(data):
        reading = _reading(m)
        if not meter_reading_plausible(reading):  # bounds: messages built only on a "no"
            check_meter_reading(reading, m.where)
        readings.append(reading)
    return tuple(readings)


def _line(c: Obj, phase: str) -> MeterReportLine:
    return MeterReportLine(*_twelve(c.numbers(_REPORT_KEYS)), phase=phase)


def _report(r: Obj) -> MeterReport:
    values = r.child("cumulative").numbers(_REPORT_KEYS)
    lines = tuple(_line(c, f"L{i + 1}") for i, c in enumerate(r.objs("lines")))
    volts_sum = values[_VOLTS]
    volts = per_phase_volts(volts_sum, [line.volts for line in lines])
    return MeterReport(
        *_twelve(values, volts),
        report_type=CtType.parse(r.text_or("reportType")),
        timestamp=r.epoch("createdAt"),
        volts_sum=volts_sum,
        lines=lines,
    )


@json_parser(REPORTS_PATH)
def parse_meter_reports(data: Any) -> dict[str, MeterReport]:
    """``/ivp/meters/reports`` -> report type value (``production``, ``net-consumption``,
    ``total-consumption``; repeats as ``<type>#2``) -> report.
    """
    reports = [_report(r) for r in _objs(data)]
    keys = meter_keys(r.report_type for r in reports)
    return dict(zip(keys, reports, strict=True))


METERS: Source[tuple[MeterConfig, ...]] = Source(
    key=SourceKey.METERS,
    path=METERS_PATH,
    parse=parse_meters,
    role=Role.OWNER,
    cadence=Cadence.CONFIG,
    speed=Speed.FAST,
    doc="CT configuration: eid, what each CT measures, phase mode and count, status",
)

METERS_READINGS: Source[tuple[MeterReading, ...]] = Source(
    key=SourceKey.METERS_READINGS,
    path=READINGS_PATH,
    parse=parse_meter_readings,
    role=Role.OWNER,
    cadence=Cadence.LIVE,
    speed=Speed.FAST,
    doc="live CT readings: power, voltage, current, frequency, lifetime energies, per phase",
)

METERS_REPORTS: Source[dict[str, MeterReport]] = Source(
    key=SourceKey.METERS_REPORTS,
    path=REPORTS_PATH,
    parse=parse_meter_reports,
    role=Role.OWNER,
    cadence=Cadence.LIVE,
    speed=Speed.FAST,
    doc="per measurement type meter reports with per-line values, total consumption included",
)

"""CT meters: parsers for ``/ivp/meters``, ``/ivp/meters/readings`` and ``/ivp/meters/reports``.

The configuration and readings come back as tuples in the gateway's order;
`enphase_local.models.meters.join_meters` pairs them by eid. Firmware 5.0.x
without CTs answers ``[]`` to both, which parses as no meters. The readings
parser reads every field it models: the captures from 4.10 to 8.3 all send
them, so a missing one means the body is not what we think it is.
"""

from __future__ import annotations

from typing import Any

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
from ._json import Obj, ShapeError, as_list, as_obj, json_parser
from .bounds import check_meter_reading
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


@json_parser(METERS_PATH)
def parse_meters(data: Any) -> tuple[MeterConfig, ...]:
    """``/ivp/meters`` -> the configured CTs, in the gateway's order (eids unique)."""
    configs = tuple(_config(m) for m in _objs(data))
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


def _electrical(o: Obj, names: dict[str, str]) -> dict[str, float]:
    return {field: o.number(key) for field, key in names.items()}


def _channel(c: Obj, phase: str) -> MeterChannel:
    return MeterChannel(
        phase=phase,
        eid=c.integer("eid"),
        timestamp=c.epoch("timestamp"),
        **_electrical(c, _READING_NAMES),
    )


def _reading(m: Obj) -> MeterReading:
    channels = tuple(_channel(c, f"L{i + 1}") for i, c in enumerate(m.objs("channels")))
    values = _electrical(m, _READING_NAMES)
    volts_sum = values["volts"]
    values["volts"] = per_phase_volts(volts_sum, [c.volts for c in channels])
    return MeterReading(
        eid=m.integer("eid"),
        timestamp=m.epoch("timestamp"),
        volts_sum=volts_sum,
        channels=channels,
        **values,
    )


@json_parser(READINGS_PATH)
def parse_meter_readings(data: Any) -> tuple[MeterReading, ...]:
    """``/ivp/meters/readings`` -> one reading per meter, channels named L1.. by position.

    Includes any extra entry for an eid `/ivp/meters` does not list: the join drops it.
    """
    return tuple(check_meter_reading(_reading(m), m.where) for m in _objs(data))  # bounds


def _line(c: Obj, phase: str) -> MeterReportLine:
    return MeterReportLine(phase=phase, **_electrical(c, _REPORT_NAMES))


def _report(r: Obj) -> MeterReport:
    values = _electrical(r.child("cumulative"), _REPORT_NAMES)
    lines = tuple(_line(c, f"L{i + 1}") for i, c in enumerate(r.objs("lines")))
    volts_sum = values["volts"]
    values["volts"] = per_phase_volts(volts_sum, [line.volts for line in lines])
    return MeterReport(
        report_type=CtType.parse(r.text_or("reportType")),
        timestamp=r.epoch("createdAt"),
        volts_sum=volts_sum,
        lines=lines,
        **values,
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

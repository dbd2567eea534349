"""Microinverters: parsers for ``/api/v1/production/inverters`` and ``/ivp/pdm/device_data``.

``/ivp/pdm/device_data`` is an object keyed by device eid (as a string), with
two counters beside the devices, ``deviceCount`` and ``deviceDataLimit``.
Devices are microinverters (``devName: "pcu"``) and also CT meters (``eim``),
relays (``nsrb``) and whatever comes next; only ``pcu`` entries are kept.
Firmware 8.3.5289 keeps removed inverters in the list; they show as
``active: false`` and are skipped, so a site's inverter count stays right.
``modGone`` alone says nothing: working units report ``modGone: true`` with
``active: true`` (8.3 with AC Batteries, IQ7+), and dropping them would make
device_data miss inverters the basic endpoint lists, losing every detail.

Should a serial appear twice (a replaced inverter re-registered), the entry
with the latest report wins in both parsers.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ..models.inverters import DEVICE_DATA_LIMIT, DeviceData, Inverter, InverterDetail
from ._json import Obj, ShapeError, as_list, as_obj, json_parser
from .bounds import DEVICE_POWER_W, LIFETIME_WH, check
from .keys import SourceKey
from .registry import Cadence, Role, Source, Speed, device_list_cap

__all__ = [
    "DEVICE_DATA",
    "DEVICE_DATA_PATH",
    "INVERTERS_V1",
    "INVERTERS_V1_PATH",
    "parse_device_data",
    "parse_inverters_v1",
]

INVERTERS_V1_PATH = "/api/v1/production/inverters"
DEVICE_DATA_PATH = "/ivp/pdm/device_data"

R = TypeVar("R", Inverter, InverterDetail)

_COUNTERS = frozenset({"deviceCount", "deviceDataLimit"})
_JOULES_PER_WH = 3600.0
_MILLI = 1000.0


def _keep_latest(out: dict[str, R], serial: str, item: R) -> None:
    current = out.get(serial)
    if current is None or item.last_report >= current.last_report:
        out[serial] = item


@json_parser(INVERTERS_V1_PATH)
def parse_inverters_v1(data: Any) -> dict[str, Inverter]:
    """``/api/v1/production/inverters`` -> serial -> last report."""
    out: dict[str, Inverter] = {}
    for i, value in enumerate(as_list(data)):
        inv = as_obj(value, f"body[{i}]")
        inverter = Inverter(
            serial=inv.text("serialNumber"),
            watts=inv.number("lastReportWatts"),
            max_watts=inv.number("maxReportWatts"),
            last_report=inv.epoch("lastReportDate"),
            dev_type=inv.integer_or("devType"),
        )
        _keep_latest(out, inverter.serial, inverter)
    return out


def _detail(eid: str, dev: Obj) -> InverterDetail:
    channels = dev.items("channels")
    if not channels:
        raise ShapeError(f"{dev.where}.channels: a microinverter without channels")
    first = channels[0]
    if not isinstance(first, dict):
        raise ShapeError(f"{dev.where}.channels[0]: expected an object")
    ch = Obj(first, "", dev, ("channels", 0))
    watts = ch.child("watts")
    energy = ch.child("wattHours")
    last = ch.child("lastReading")
    lifetime = ch.child("lifetime")
    return InverterDetail(
        serial=dev.text("sn"),
        eid=eid,
        watts=watts.number("now"),
        max_watts=watts.number("max"),
        last_report=last.epoch("endDate"),
        report_duration_s=last.integer("duration"),
        wh_last_report=last.number("joulesProduced") / _JOULES_PER_WH,
        dc_volts=last.number("dcVoltageINmV") / _MILLI,
        dc_amps=last.number("dcCurrentINmA") / _MILLI,
        ac_volts=last.number("acVoltageINmV") / _MILLI,
        ac_amps=last.number("acCurrentInmA") / _MILLI,
        hz=last.number("acFrequencyINmHz") / _MILLI,
        temperature_c=last.number("channelTemp"),
        wh_today=energy.number("today"),
        wh_yesterday=energy.number("yesterday"),
        wh_last_7_days=energy.number("week"),
        wh_lifetime=lifetime.number("joulesProduced") / _JOULES_PER_WH,
        rssi=last.integer_or("rssi"),
        issi=last.integer_or("issi"),
    )


@json_parser(DEVICE_DATA_PATH)
def parse_device_data(data: Any) -> DeviceData:
    """``/ivp/pdm/device_data`` -> the active microinverters by serial, and the two counters."""
    body = as_obj(data)
    inverters: dict[str, InverterDetail] = {}
    skipped: list[str] = []
    devices = 0
    for key, value in body.d.items():
        if key in _COUNTERS:
            continue
        if not isinstance(value, dict):
            if key.isdigit():
                raise ShapeError(f"body.{key}: expected a device object, got {value!r:.30}")
            continue  # some other counter or flag a newer firmware added
        devices += 1
        dev = Obj(value, "", body, key)
        if dev.text("devName").lower() != "pcu":
            continue
        dev.flag_or("modGone", False)  # type-checked, but not a reason to drop (see above)
        if not dev.flag_or("active", True):
            continue
        try:  # one malformed entry is skipped, not the whole answer (issue 11)
            detail = _detail(key, dev)
            check(detail.watts, DEVICE_POWER_W, f"{dev.where}.watts.now")
            check(detail.wh_lifetime, LIFETIME_WH, f"{dev.where}.lifetime")
        except (ShapeError, TypeError, ValueError, KeyError) as err:
            skipped.append(str(err) or type(err).__name__)
            continue
        _keep_latest(inverters, detail.serial, detail)
    if skipped and not inverters:
        raise ShapeError(f"no readable microinverter entry: {skipped[0]}")
    return DeviceData(
        inverters=inverters,
        device_count=body.integer_or("deviceCount", devices) or 0,
        device_data_limit=body.integer_or("deviceDataLimit", DEVICE_DATA_LIMIT) or 0,
        skipped=tuple(skipped),
    )


INVERTERS_V1: Source[dict[str, Inverter]] = Source(
    key=SourceKey.INVERTERS_V1,
    path=INVERTERS_V1_PATH,
    parse=parse_inverters_v1,
    role=Role.OWNER,
    cadence=Cadence.REPORT,
    speed=Speed.FAST,
    doc="per-microinverter power of the last report and highest report, every firmware",
    max_bytes=device_list_cap(2048),  # about 150 bytes per inverter on real gateways
)

DEVICE_DATA: Source[DeviceData] = Source(
    key=SourceKey.DEVICE_DATA,
    path=DEVICE_DATA_PATH,
    parse=parse_device_data,
    role=Role.OWNER,
    cadence=Cadence.REPORT,
    speed=Speed.FAST,
    doc="per-microinverter DC/AC values, temperature and energies, up to 50 devices",
    max_bytes=device_list_cap(16384),  # about 2 KB per device on real gateways
)

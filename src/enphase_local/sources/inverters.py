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
from ._obj import _INT_MAX, _INT_MIN
from ._wire import convert, decode
from ._wire_devices import (
    DeviceDataBody,
    InverterRow,
    InverterRows,
    Pcu,
    PcuChannel,
    StrictDeviceDataBody,
)
from .bounds import check_inverter_detail, inverter_detail_plausible
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


def parse_inverters_v1(body: bytes) -> dict[str, Inverter]:
    """``/api/v1/production/inverters`` -> serial -> last report."""
    fast = _typed_inverters(body)
    return fast if fast is not None else _parse_inverters_v1(body)


def _typed_inverters(body: bytes) -> dict[str, Inverter] | None:
    """The body's bytes decoded by msgspec straight into strict shapes, without orjson
    (see `_wire.decode`); None when they do not fit, for the readers below."""
    rows: list[InverterRow] | None = decode(body, InverterRows)
    if rows is None:
        return None
    out: dict[str, Inverter] = {}
    for r in rows:
        inverter = Inverter(
            r.serialNumber, r.lastReportWatts, r.maxReportWatts, r.lastReportDate, r.devType
        )
        _keep_latest(out, r.serialNumber, inverter)
    return out


@json_parser(INVERTERS_V1_PATH)
def _parse_inverters_v1(data: Any) -> dict[str, Inverter]:
    out: dict[str, Inverter] = {}
    for i, value in enumerate(as_list(data)):
        inverter = _plain_inverter(value) if type(value) is dict else None
        if inverter is None:  # something unusual: read it the checked way
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


def _plain_inverter(inv: dict[str, Any]) -> Inverter | None:
    """The ordinary v1 entry read directly (see `_plain_detail`), None when unusual."""
    serial, watts, peak = (
        inv.get("serialNumber"),
        inv.get("lastReportWatts"),
        inv.get("maxReportWatts"),
    )
    date, dev_type = inv.get("lastReportDate"), inv.get("devType")
    if (
        type(serial) is str
        and type(date) is int
        and (type(watts) is int or type(watts) is float)
        and (type(peak) is int or type(peak) is float)
        and (dev_type is None or (type(dev_type) is int and _INT_MIN <= dev_type <= _INT_MAX))
    ):
        return Inverter(serial, float(watts), float(peak), date, dev_type)
    return None


# lastReading's numbers, in this order: joules, mV, mA, mV, mA, mHz, degrees C
_LAST_READING = (
    "joulesProduced",
    "dcVoltageINmV",
    "dcCurrentINmA",
    "acVoltageINmV",
    "acCurrentInmA",
    "acFrequencyINmHz",
    "channelTemp",
)


def _detail(eid: str, dev: Obj) -> InverterDetail:
    channels = dev.items("channels")
    if not channels:
        raise ShapeError(f"{dev.where}.channels: a microinverter without channels")
    first = channels[0]
    if not isinstance(first, dict):
        raise ShapeError(f"{dev.where}.channels[0]: expected an object")
    ch = Obj(first, "", dev, ("channels", 0))
    now, peak = ch.numbers_in("watts", ("now", "max"))
    today, yesterday, week = ch.numbers_in("wattHours", ("today", "yesterday", "week"))
    last = ch.child("lastReading")
    joules, dc_mv, dc_ma, ac_mv, ac_ma, mhz, temperature = last.numbers(_LAST_READING)
    (lifetime_joules,) = ch.numbers_in("lifetime", ("joulesProduced",))
    return InverterDetail(
        serial=dev.text("sn"),
        eid=eid,
        watts=now,
        max_watts=peak,
        last_report=last.epoch("endDate"),
        report_duration_s=last.integer("duration"),
        wh_last_report=joules / _JOULES_PER_WH,
        dc_volts=dc_mv / _MILLI,
        dc_amps=dc_ma / _MILLI,
        ac_volts=ac_mv / _MILLI,
        ac_amps=ac_ma / _MILLI,
        hz=mhz / _MILLI,
        temperature_c=temperature,
        wh_today=today,
        wh_yesterday=yesterday,
        wh_last_7_days=week,
        wh_lifetime=lifetime_joules / _JOULES_PER_WH,
        rssi=last.integer_or("rssi"),
        issi=last.integer_or("issi"),
    )


_NUMBER = frozenset({int, float})  # exact types: a bool is not a number


def _plain_detail(eid: str, dev: dict[str, Any]) -> InverterDetail | None:
    """`_detail` for the ordinary device, with plain indexing: None when anything is unusual.

    A site lists up to 50 inverters of 20 values each, and reading them through
    `Obj` getters was most of this parser's time. This reads the same fields in
    one frame and checks their exact types in C; anything else (a missing key, an
    integral float where an int belongs, an out-of-range integer, a numeric
    string) returns None, and `_detail` then reads the device the checked way,
    to accept it or say precisely what is wrong. Both give equal models
    (tests/sources/test_inverters.py compares them on every capture and on
    generated devices).
    """
    try:
        ch = dev["channels"][0]
        watts, energy, last = ch["watts"], ch["wattHours"], ch["lastReading"]
        numbers = (
            watts["now"],
            watts["max"],
            energy["today"],
            energy["yesterday"],
            energy["week"],
            ch["lifetime"]["joulesProduced"],
            *map(last.__getitem__, _LAST_READING),
        )
        serial, end, duration = dev["sn"], last["endDate"], last["duration"]
        rssi, issi = last.get("rssi"), last.get("issi")
    except (KeyError, IndexError, TypeError, AttributeError):  # AttributeError: no __getitem__
        return None
    if not (
        type(dev["channels"]) is list
        and _NUMBER.issuperset(map(type, numbers))
        and type(serial) is str
        and type(end) is int
        and type(duration) is int
        and _INT_MIN <= duration <= _INT_MAX
        and (rssi is None or (type(rssi) is int and _INT_MIN <= rssi <= _INT_MAX))
        and (issi is None or (type(issi) is int and _INT_MIN <= issi <= _INT_MAX))
    ):
        return None
    now, peak, today, yesterday, week, lifetime, joules, dc_mv, dc_ma, ac_mv, ac_ma, mhz, temp = (
        map(float, numbers)
    )
    # By position, in the model's field order: keywords cost a dict per instance
    # on the way into __init__ (0.8 us of 1.3 us for this model).
    return InverterDetail(
        serial,
        eid,
        now,
        peak,
        end,
        duration,
        joules / _JOULES_PER_WH,
        dc_mv / _MILLI,
        dc_ma / _MILLI,
        ac_mv / _MILLI,
        ac_ma / _MILLI,
        mhz / _MILLI,
        temp,
        today,
        yesterday,
        week,
        lifetime / _JOULES_PER_WH,
        rssi,
        issi,
    )


def _wire_detail(eid: str, ch: PcuChannel, serial: str) -> InverterDetail:
    """`_detail` of a microinverter whose first channel `_wire_device_data` converted."""
    watts, energy, last = ch.watts, ch.wattHours, ch.lastReading
    return InverterDetail(
        serial,
        eid,
        watts.now,
        watts.max,
        last.endDate,
        last.duration,
        last.joulesProduced / _JOULES_PER_WH,
        last.dcVoltageINmV / _MILLI,
        last.dcCurrentINmA / _MILLI,
        last.acVoltageINmV / _MILLI,
        last.acCurrentInmA / _MILLI,
        last.acFrequencyINmHz / _MILLI,
        last.channelTemp,
        energy.today,
        energy.yesterday,
        energy.week,
        ch.lifetime.joulesProduced / _JOULES_PER_WH,
        last.rssi,
        last.issi,
    )


def _counter(data: dict[str, Any], key: str, default: int) -> int | None:
    """`Obj.integer_or` of a counter for the fast path: None when not a plain int."""
    value = data.get(key, default)
    if type(value) is int and _INT_MIN <= value <= _INT_MAX:
        return value
    return None


def _device_data_from(devices: dict[str, Any]) -> DeviceData | None:
    """`parse_device_data` of a body msgspec typed (see `sources._wire`).

    None when anything is unusual: a device of another kind than a
    microinverter or a CT, an inverter the checked way would skip (no channel,
    implausible values), a counter that is not a plain integer. The checked
    way then decides, device by device.
    """
    inverters: dict[str, InverterDetail] = {}
    count = inactive = 0
    for key, dev in devices.items():
        if type(dev) is int:
            if key.isdigit() and key not in _COUNTERS:
                return None
            continue
        count += 1
        if not isinstance(dev, Pcu):
            continue
        if dev.active is False:  # removed: counted, so the basic list is asked (probe)
            inactive += 1
            continue
        if not dev.channels:
            return None
        detail = _wire_detail(key, dev.channels[0], dev.sn)
        if not inverter_detail_plausible(detail):
            return None
        _keep_latest(inverters, detail.serial, detail)
    device_count = _counter(devices, "deviceCount", count)
    limit = _counter(devices, "deviceDataLimit", DEVICE_DATA_LIMIT)
    if device_count is None or limit is None:
        return None
    return DeviceData(inverters, device_count, limit, (), inactive=inactive)


def _wire_device_data(data: Any) -> DeviceData | None:
    """The decoded body through the typed shapes (see `_device_data_from`)."""
    devices: dict[str, Any] | None = convert(data, DeviceDataBody)
    return None if devices is None else _device_data_from(devices)


def _typed_device_data(body: bytes) -> DeviceData | None:
    """The body's bytes decoded by msgspec straight into the strict shapes, without
    orjson: about a third less CPU on this endpoint's 30 to 45 KB (see `_wire.decode`)."""
    devices: dict[str, Any] | None = decode(body, StrictDeviceDataBody)
    return None if devices is None else _device_data_from(devices)


def parse_device_data(body: bytes) -> DeviceData:
    """``/ivp/pdm/device_data`` -> the active microinverters by serial, and the two counters."""
    fast = _typed_device_data(body)
    return fast if fast is not None else _parse_device_data(body)


@json_parser(DEVICE_DATA_PATH)
def _parse_device_data(data: Any) -> DeviceData:
    """`parse_device_data` of the decoded body: the typed shapes, else the checked readers.

    The typed shapes refuse a whole body for one device of a kind they do not
    list (a relay, ``nsrb``); its microinverters then still go `_plain_detail`'s
    way one by one, about a third less CPU than `_detail` for all of them.
    """
    fast = _wire_device_data(data)
    if fast is not None:
        return fast
    body = as_obj(data)
    inverters: dict[str, InverterDetail] = {}
    skipped: list[str] = []
    devices = inactive = 0
    for key, value in body.d.items():
        if key in _COUNTERS:
            continue
        if not isinstance(value, dict):
            if key.isdigit():
                raise ShapeError(f"body.{key}: expected a device object, got {value!r:.30}")
            continue  # some other counter or flag a newer firmware added
        devices += 1
        name, gone, active = value.get("devName"), value.get("modGone", False), value.get("active")
        # The usual active microinverter (flags true, false or absent: no 0/1 or
        # "true" to interpret) goes the fast way; anything else the checked way.
        if name == "pcu" and (gone is True or gone is False) and (active is None or active is True):
            detail = _plain_detail(key, value)
            if detail is not None and inverter_detail_plausible(detail):
                _keep_latest(inverters, detail.serial, detail)
                continue
        dev = Obj(value, "", body, key)
        if dev.text("devName").lower() != "pcu":
            continue
        dev.flag_or("modGone", False)  # type-checked, but not a reason to drop (see above)
        if not dev.flag_or("active", True):
            inactive += 1
            continue
        try:  # one malformed entry is skipped, not the whole answer (issue 11)
            detail = check_inverter_detail(_detail(key, dev), dev.where)
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
        inactive=inactive,
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

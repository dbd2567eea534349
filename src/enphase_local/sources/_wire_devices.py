"""Typed shapes of the device bodies: device_data, the ensemble inventory, v1 inverters.

The same fast path as `sources._wire` (whose rules apply here), for the
bodies that list devices of several kinds: msgspec tells the kinds apart as a
tagged union (on ``devName``, on ``type``), and a kind not listed here sends
the body the checked way.
"""

from __future__ import annotations

import msgspec

from ..models.ensemble import CollarGridState, GridMode
from ._wire import Int64, Scalar, Wire

__all__ = [
    "C6CombinerGroup",
    "C6CombinerRow",
    "C6RgmGroup",
    "C6RgmRow",
    "CollarGroup",
    "CollarRow",
    "DeviceDataBody",
    "Eim",
    "EnchargeGroup",
    "EnchargeRow",
    "EnpowerGroup",
    "EnpowerRow",
    "InventoryBody",
    "InverterRow",
    "InverterRows",
    "Pcu",
    "PcuChannel",
    "StrictDeviceDataBody",
]


# -- /ivp/pdm/device_data ----------------------------------------------------------------


class _Watts(Wire):
    now: float
    max: float


class _WattHours(Wire):
    today: float
    yesterday: float
    week: float


class _LastReading(Wire):
    endDate: Int64  # orjson reads a wider integer as a float: the checked way decides
    duration: Int64
    joulesProduced: float
    dcVoltageINmV: float
    dcCurrentINmA: float
    acVoltageINmV: float
    acCurrentInmA: float
    acFrequencyINmHz: float
    channelTemp: float
    rssi: Int64 | None = None
    issi: Int64 | None = None


class _Lifetime(Wire):
    joulesProduced: float


class PcuChannel(Wire):
    """The channel of a microinverter: every value `InverterDetail` is made of."""

    watts: _Watts
    wattHours: _WattHours
    lastReading: _LastReading
    lifetime: _Lifetime


class Pcu(Wire, tag_field="devName", tag="pcu"):
    """A microinverter of ``/ivp/pdm/device_data`` (devices are told apart by ``devName``)."""

    sn: str
    channels: list[PcuChannel]
    active: bool | None = None
    modGone: bool | None = None


class Eim(Wire, tag_field="devName", tag="eim"):
    """A CT meter of ``/ivp/pdm/device_data``: skipped, so nothing of it is read.
    A device of any other ``devName`` sends the body the checked way."""


DeviceDataBody = dict[str, Pcu | Eim | int]
"""The devices by eid, and the counters (``deviceCount``, ``deviceDataLimit``)."""


# The same, for `decode`: every key the captures hold (8.2.4345, 8.3.5167, 8.3.5169),
# so that msgspec skips nothing. A body with a key not listed here (a newer
# firmware) goes through orjson and the shapes above instead. Unread values are
# `Scalar`: a float type refuses a number beyond a float, as orjson does (`Any`
# would take a 400-digit integer that orjson refuses).


class _StrictWatts(_Watts, forbid_unknown_fields=True):
    nowUsed: Scalar = None


class _StrictWattHours(_WattHours, forbid_unknown_fields=True):
    pass


class _StrictLastReading(_LastReading, forbid_unknown_fields=True):
    eid: Scalar = None
    interval_type: Scalar = None
    flags: Scalar = None
    flags_hex: Scalar = None
    pwrConvErrSecs: Scalar = None
    pwrConvMaxErrCycles: Scalar = None
    joulesUsed: Scalar = None
    leadingVArs: Scalar = None
    laggingVArs: Scalar = None
    l1NAcVoltageInmV: Scalar = None
    l2NAcVoltageInmV: Scalar = None
    l3NAcVoltageInmV: Scalar = None


class _StrictLifetime(_Lifetime, forbid_unknown_fields=True):
    createdTime: Scalar = None
    duration: Scalar = None


class _StrictPcuChannel(PcuChannel, forbid_unknown_fields=True):
    watts: _StrictWatts
    wattHours: _StrictWattHours
    lastReading: _StrictLastReading
    lifetime: _StrictLifetime
    chanEid: Scalar = None
    created: Scalar = None


class _StrictPcu(Pcu, forbid_unknown_fields=True, tag="pcu"):
    channels: list[_StrictPcuChannel]  # type: ignore[assignment]  # the stricter channel


class _EimReading(Wire, forbid_unknown_fields=True):
    eid: Scalar = None
    interval_type: Scalar = None
    endDate: Scalar = None
    duration: Scalar = None
    curr_w: Scalar = None
    wh_dlvd_cum: Scalar = None
    varh_lead_cum: Scalar = None
    varh_lag_cum: Scalar = None
    vah_cum: Scalar = None
    rms_mvolt: Scalar = None
    rms_mamp: Scalar = None
    freq_mhz: Scalar = None
    wh_pos: Scalar = None
    wh_neg: Scalar = None


class _EimLifetime(Wire, forbid_unknown_fields=True):
    createdTime: Scalar = None
    duration: Scalar = None
    wh_dlvd_cum: Scalar = None
    varh_lead_cum: Scalar = None
    varh_lag_cum: Scalar = None
    vah_cum: Scalar = None


class _Scalars(Wire, forbid_unknown_fields=True):
    """``watts`` and ``wattHours`` of a CT channel."""

    now: Scalar = None
    nowUsed: Scalar = None
    max: Scalar = None
    today: Scalar = None
    yesterday: Scalar = None
    week: Scalar = None


class _EimChannel(Wire, forbid_unknown_fields=True):
    chanEid: Scalar = None
    created: Scalar = None
    wattHours: _Scalars | None = None
    watts: _Scalars | None = None
    lastReading: _EimReading | None = None
    lifetime: _EimLifetime | None = None


class _StrictEim(Eim, forbid_unknown_fields=True, tag="eim"):
    sn: Scalar = None
    active: Scalar = None
    modGone: Scalar = None
    channels: list[_EimChannel] | None = None


StrictDeviceDataBody = dict[str, _StrictPcu | _StrictEim | int]
"""`DeviceDataBody` for `decode`."""


# -- /ivp/ensemble/inventory ---------------------------------------------------------------
# Groups are told apart by ``type`` (a msgspec tagged union): a group of any
# other type, or spelled in another case, sends the body the checked way.


class EnchargeRow(Wire):
    serial_num: str
    part_num: str
    percentFull: float
    temperature: float
    encharge_capacity: float
    communicating: bool
    last_rpt_date: int
    maxCellTemp: float | None = None
    admin_state_str: str | None = None
    sleep_enabled: bool | None = None
    led_status: Int64 | None = None
    dc_switch_off: bool | None = None
    reported_enc_grid_state: GridMode | None = None
    phase: str | None = None
    img_pnum_running: str | None = None
    bmu_fw_version: str | None = None
    operating: bool | None = None
    zigbee_dongle_fw_version: str | None = None


class EnpowerRow(Wire):
    serial_num: str
    part_num: str
    temperature: float
    communicating: bool
    last_rpt_date: int
    mains_admin_state: str | None = None
    mains_oper_state: str | None = None
    Enpwr_grid_mode: GridMode | None = None
    Enchg_grid_mode: GridMode | None = None
    Enpwr_relay_state_bm: Int64 | None = None
    admin_state_str: str | None = None
    img_pnum_running: str | None = None
    operating: bool | None = None


class CollarRow(Wire):
    serial_num: str
    part_num: str
    communicating: bool
    temperature: float | None = None
    grid_state: CollarGridState | None = None
    mid_state: str | None = None
    collar_state: str | None = None
    control_error: Int64 | None = None
    last_rpt_date: int | None = None
    admin_state_str: str | None = None
    img_pnum_running: str | None = None


class C6CombinerRow(Wire):
    serial_num: str
    part_num: str
    admin_state_str: str | None = None
    fw_version: str | None = None
    communicating: bool | None = None
    last_rpt_date: int | None = None


class C6RgmRow(Wire):
    serial_num: str
    part_num: str
    fw_version: str | None = msgspec.field(default=None, name="FW Version")
    device_state: Int64 | None = msgspec.field(default=None, name="Device State")
    installed: int | None = None


class EnchargeGroup(Wire, tag_field="type", tag="ENCHARGE"):
    devices: list[EnchargeRow] | None = None


class EnpowerGroup(Wire, tag_field="type", tag="ENPOWER"):
    devices: list[EnpowerRow] | None = None


class CollarGroup(Wire, tag_field="type", tag="COLLAR"):
    devices: list[CollarRow] | None = None


class C6CombinerGroup(Wire, tag_field="type", tag="C6 COMBINER CONTROLLER"):
    devices: list[C6CombinerRow] | None = None


class C6RgmGroup(Wire, tag_field="type", tag="C6 RGM"):
    devices: list[C6RgmRow] | None = None


InventoryBody = list[EnchargeGroup | EnpowerGroup | CollarGroup | C6CombinerGroup | C6RgmGroup]


class InverterRow(Wire, forbid_unknown_fields=True):
    """One microinverter of ``/api/v1/production/inverters``, for `_wire.decode`:
    every key the captures hold (4.2 to 8.3)."""

    serialNumber: str
    lastReportDate: Int64
    lastReportWatts: float
    maxReportWatts: float
    devType: Int64 | None = None


InverterRows = list[InverterRow]

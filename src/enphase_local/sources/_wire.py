"""Typed shapes of the largest bodies, checked in C by msgspec: the parsers' fast path.

Why: reading a decoded body field by field in Python (a dict lookup and a
type test per value) was most of our parse time on production.json, the CT
readings and device_data. ``msgspec.convert`` checks a whole decoded body
against these `msgspec.Struct` shapes in one C call and hands back objects
whose attributes are already the right type; `decode` goes further and reads
the bytes straight into a strict shape, without orjson (on the 18 KB collar
readings: 22 us into the shapes, against 20 us for orjson alone and as much
again to check what it gives).

These shapes are a *fast path only*. They are stricter than the checked
`Obj` readers (an int field takes only a 64-bit int, a float field a float
or an int, never a bool or a string; bounds are msgspec constraints; every
listed field of every entry is checked, read or not), so whatever they accept
the checked path accepts with the same values; whatever they refuse goes the
checked way, which accepts it or raises the error naming the field. Error
messages never come from msgspec, and orjson (`load_json`) stays the judge of
what is valid JSON: `decode` is used only under the conditions it states.
tests/sources/test_fast_paths.py parses every capture, mutated captures and
each edge value in each place both ways, and requires equal results.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from ..models.dry_contacts import DryContactAction, DryContactMode, DryContactState, DryContactType
from ..models.meters import CtType, MeteringStatus, MeterState, PhaseMode
from ._obj import _INT_MAX, _INT_MIN
from .bounds import AMPS, POWER_W, SIGNED_WH, VOLTS, Bound

__all__ = [
    "ChannelRow",
    "ContactSettingsBody",
    "ContactSettingsRow",
    "ContactStatusBody",
    "ContactStatusRow",
    "Int64",
    "MeterConfigRow",
    "MeterConfigRows",
    "MeterRow",
    "MeterRows",
    "ProductionBody",
    "ProductionEntry",
    "ProductionLine",
    "Scalar",
    "StorageRow",
    "StrictMeterRows",
    "StrictProductionBody",
    "Wire",
    "convert",
    "decode",
]


Int64 = Annotated[int, msgspec.Meta(ge=_INT_MIN, le=_INT_MAX)]
"""What `Obj.integer` accepts without conversion: a 64-bit int (a bool is refused)."""


def _within(bound: Bound) -> msgspec.Meta:
    """`bound` as a msgspec constraint: a value outside it sends the body the checked way."""
    return msgspec.Meta(ge=bound.low, le=bound.high)


Power = Annotated[float, _within(POWER_W)]
SignedWh = Annotated[float, _within(SIGNED_WH)]
Volts = Annotated[float, _within(VOLTS)]
Amps = Annotated[float, _within(AMPS)]


class Wire(msgspec.Struct):
    """Base of the shapes: unknown keys are ignored, as the `Obj` readers ignore them."""


def convert(data: Any, shape: Any) -> Any:
    """`data` (decoded JSON) as `shape` (a `Wire` class, or a list or dict of them), or
    None when anything does not fit."""
    holder: Any = _HOLDERS.get(shape)
    if holder is None:
        holder = _HOLDERS[shape] = msgspec.defstruct("Holder", [("value", shape)])
    try:
        return msgspec.convert({"value": data}, holder).value
    except (msgspec.ValidationError, RecursionError):
        return None


def decode(body: bytes, shape: Any) -> Any:
    """`body` decoded by msgspec straight into `shape`, or None when anything does not fit.

    Without orjson, so only for shapes that leave msgspec nothing to skip
    (``forbid_unknown_fields``, every key of the captures listed, the unread
    ones as scalars whose float refuses what orjson refuses) and whose integers
    are `Int64`: a value msgspec skips is not checked, where orjson refuses the
    whole body for it (a number too large for a float), and msgspec reads an
    integer beyond 64 bits exactly, where orjson makes it a float. A body with
    any byte beyond ASCII goes the orjson way (invalid UTF-8, for one).
    An ``{"error": ...}`` answer fits no shape, so `load_json` still words it.
    """
    if not body.isascii():
        return None
    decoder = _DECODERS.get(shape)
    if decoder is None:
        decoder = _DECODERS[shape] = msgspec.json.Decoder(shape)
    try:
        return decoder.decode(body)
    except (msgspec.DecodeError, RecursionError):  # DecodeError: not JSON, or not the shape
        return None


_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}


# msgspec keeps what it works out about a type on Struct classes only: converting
# to ``list[X]`` directly would work it out again on every call (5 us for the
# inventory's union of groups, against 1 us held as a Struct field).
_HOLDERS: dict[Any, Any] = {}


Scalar = float | str | bool | None
"""An unread value in a strict shape for `decode`: its float refuses a number orjson
refuses (`Any` would take a 400-digit integer, which orjson does not)."""


# -- /production.json?details=1 and /production ----------------------------------------


class ProductionLine(Wire):
    """One of the ``lines[]`` of an entry: the values of one phase."""

    activeCount: Int64 | None = None  # the gateway's spellings
    readingTime: Int64 | None = None
    # Bounds that hold for every kind of entry (the loosest: net consumption's);
    # the parser checks the tighter ones of production and total consumption.
    wNow: Power | None = None
    whToday: SignedWh | None = None
    whLastSevenDays: SignedWh | None = None
    whLifetime: SignedWh | None = None
    rmsVoltage: Volts | None = None
    rmsCurrent: Amps | None = None
    apprntPwr: float | None = None
    reactPwr: float | None = None
    pwrFactor: float | None = None


class ProductionEntry(ProductionLine):
    """One entry of ``production[]`` or ``consumption[]`` (lines are read one level deep,
    as the checked readers read them)."""

    type: str | None = None
    measurementType: str | None = None
    lines: list[ProductionLine] | None = None


class ProductionBody(Wire):
    """The entries of a production body (``storage[]`` is read the checked way)."""

    production: list[ProductionEntry]
    consumption: list[ProductionEntry] | None = None


class StorageRow(Wire, forbid_unknown_fields=True):
    """One entry of ``storage[]`` (the AC Battery aggregate), for `decode`."""

    type: str | None = None
    activeCount: Int64 | None = None
    readingTime: Int64 | None = None
    wNow: float | None = None
    whNow: float | None = None
    percentFull: float | None = None
    state: str | None = None


class _StrictLine(ProductionLine, forbid_unknown_fields=True):
    """A line, every key of the captures listed (3.9 to 8.3), for `decode`."""

    vahLifetime: Scalar = None
    vahToday: Scalar = None
    varhLagLifetime: Scalar = None
    varhLagToday: Scalar = None
    varhLeadLifetime: Scalar = None
    varhLeadToday: Scalar = None


class _StrictEntry(_StrictLine, forbid_unknown_fields=True):
    """`ProductionEntry`, strict (a Struct has one base: its fields are repeated)."""

    type: str | None = None
    measurementType: str | None = None
    lines: list[_StrictLine] | None = None


class StrictProductionBody(ProductionBody, forbid_unknown_fields=True):
    """`ProductionBody` for `decode`, ``storage[]`` included."""

    production: list[_StrictEntry]  # type: ignore[assignment]  # stricter
    consumption: list[_StrictEntry] | None = None  # type: ignore[assignment]
    storage: list[StorageRow] | None = None


# -- /ivp/meters and /ivp/meters/readings ----------------------------------------------


class MeterConfigRow(Wire):
    """One CT of ``/ivp/meters``. msgspec reads a `FlexEnum` from a string as calling
    the enum does (an unknown value becomes ``UNKNOWN``); null stays None here."""

    eid: Int64
    phaseCount: Int64
    state: MeterState | None = None
    measurementType: CtType | None = None
    phaseMode: PhaseMode | None = None
    meteringStatus: MeteringStatus | None = None
    statusFlags: list[str] | None = None


class ChannelRow(Wire):
    """One channel of a meter of ``/ivp/meters/readings``, its twelve values in
    `ELECTRICAL_FIELDS` order (the parser takes them with ``astuple``), bounded
    as `bounds.check_meter_reading` bounds a channel."""

    actEnergyDlvd: SignedWh
    actEnergyRcvd: SignedWh
    apparentEnergy: float
    reactEnergyLagg: float
    reactEnergyLead: float
    activePower: Power
    apparentPower: float
    reactivePower: float
    voltage: float
    current: Amps
    freq: float
    pwrFactor: float
    eid: Int64
    timestamp: int | float  # epoch seconds; the collar sends floats


class MeterRow(ChannelRow):
    """One meter of ``/ivp/meters/readings``: a channel's values (its `voltage` the
    sum of the phases, bounded as such) and its channels."""

    voltage: Volts
    channels: list[ChannelRow] | None = None


MeterConfigRows = list[MeterConfigRow]
MeterRows = list[MeterRow]


class _StrictChannelRow(ChannelRow, forbid_unknown_fields=True):
    timestamp: Int64 | float
    instantaneousDemand: Scalar = None


class _StrictMeterRow(MeterRow, forbid_unknown_fields=True):
    timestamp: Int64 | float
    channels: list[_StrictChannelRow] | None = None  # type: ignore[assignment]  # stricter
    instantaneousDemand: Scalar = None


StrictMeterRows = list[_StrictMeterRow]
"""`MeterRows` for `decode`: every key of the captures from 4.10 to 8.3."""


# -- /ivp/ensemble/dry_contacts and /ivp/ss/dry_contact_settings ------------------------


class ContactStatusRow(Wire):
    """One contact of ``/ivp/ensemble/dry_contacts``."""

    id: str
    status: DryContactState | None = None


class ContactStatusBody(Wire):
    dry_contacts: list[ContactStatusRow]


class ContactSettingsRow(Wire):
    """One contact of ``/ivp/ss/dry_contact_settings``. Its integers arrive as floats
    (``"priority": 1.0``) and its flags as strings: the parser takes those in."""

    id: str
    type: DryContactType | None = None
    grid_action: DryContactAction | None = None
    micro_grid_action: DryContactAction | None = None
    gen_action: DryContactAction | None = None
    mode: DryContactMode | None = None
    soc_low: float | None = None
    soc_high: float | None = None
    load_name: str | None = None
    priority: int | float | None = None
    black_s_start: float | None = None
    essential_start_time: int | float | None = None
    essential_end_time: int | float | None = None
    override: bool | str | None = None
    manual_override: bool | str | None = None
    pv_serial_nb: list[str | int] | None = None


class ContactSettingsBody(Wire):
    dry_contacts: list[ContactSettingsRow]

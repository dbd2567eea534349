"""Plausibility bounds per kind of field: a value no gateway can measure is a bad read.

Why: one absurd number (a production of -1.2e11 W after a reboot, 1e300 W
from a corrupted answer, a negative lifetime) passed on becomes a spike that
energy dashboards keep for ever. The parsers check the values they read
against these bounds and refuse the whole answer as an `EnvoyParseError`
(the client then keeps the last good data, marked stale, and asks again):
a body with one impossible value cannot be trusted for the others.

The bounds are deliberately generous: they catch garbage, not unusual
sites. One gateway runs at most about 600 microinverters (about 250 kW);
the limits leave a factor of four or more above that.

| kind            | low     | high   | why                                                |
|-----------------|---------|--------|----------------------------------------------------|
| POWER_W         | -1e6    | 1e6    | site power, W (signed: CTs read a little below 0)  |
| DEVICE_POWER_W  | -1e4    | 1e4    | one microinverter or one battery, W                |
| LIFETIME_WH     | 0       | 1e11   | a monotonic lifetime counter (250 kW for 45 years) |
| SIGNED_WH       | -1e11   | 1e11   | net consumption lifetime (export makes it < 0)     |
| PERIOD_WH       | -1e4    | 1e9    | today / last 7 days (firmware rounding: a bit < 0) |
| VOLTS           | -1      | 1500   | one phase, or the gateway's sum of three           |
| AMPS            | -1e4    | 1e4    | site current, A                                    |

Every kind also refuses NaN and infinities (orjson never produces them from
JSON, but 1e400 overflows to infinity in some decoders, and models are built
by hand in tests and the simulator too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..models.energy import EnergyReading
from ..models.inverters import InverterDetail
from ..models.meters import MeterChannel, MeterReading
from ._json import ShapeError

__all__ = [
    "AMPS",
    "DEVICE_POWER_W",
    "LIFETIME_WH",
    "PERIOD_WH",
    "POWER_W",
    "SIGNED_WH",
    "VOLTS",
    "Bound",
    "ImplausibleValue",
    "check",
    "check_energy_reading",
    "check_inverter_detail",
    "check_meter_reading",
    "energy_reading_plausible",
    "inverter_detail_plausible",
    "meter_reading_plausible",
    "unsigned_energies_plausible",
]


class ImplausibleValue(ShapeError):
    """A value outside its bound. A parser's decorator turns it into `EnvoyParseError`."""


@dataclass(frozen=True, slots=True)
class Bound:
    """The plausible range of one kind of field, and what it is."""

    name: str
    low: float
    high: float


POWER_W = Bound("site power (W)", -1e6, 1e6)
DEVICE_POWER_W = Bound("device power (W)", -1e4, 1e4)
LIFETIME_WH = Bound("lifetime energy (Wh)", 0.0, 1e11)
SIGNED_WH = Bound("net lifetime energy (Wh)", -1e11, 1e11)
PERIOD_WH = Bound("energy of a period (Wh)", -1e4, 1e9)
VOLTS = Bound("voltage (V)", -1.0, 1500.0)
AMPS = Bound("current (A)", -1e4, 1e4)


def check(value: float | None, bound: Bound, where: str) -> None:
    """Raise `ImplausibleValue` (an `EnvoyParseError` once out of the parser) if out of bounds."""
    if value is None:
        return
    if not math.isfinite(value) or not bound.low <= value <= bound.high:
        raise ImplausibleValue(
            f"{where}: {value!r} is not a plausible {bound.name} "
            f"(expected {bound.low:g} to {bound.high:g}): a bad read"
        )


def check_energy_reading(reading: EnergyReading, where: str, *, signed: bool) -> EnergyReading:
    """An `EnergyReading` whose every value is plausible; `signed` for net consumption."""
    period = SIGNED_WH if signed else PERIOD_WH
    check(reading.watts, POWER_W, f"{where}.wNow")
    check(reading.wh_today, period, f"{where}.whToday")
    check(reading.wh_last_7_days, period, f"{where}.whLastSevenDays")
    check(reading.wh_lifetime, SIGNED_WH if signed else LIFETIME_WH, f"{where}.whLifetime")
    check(reading.volts, VOLTS, f"{where}.rmsVoltage")
    check(reading.amps, AMPS, f"{where}.rmsCurrent")
    return reading


def check_inverter_detail(detail: InverterDetail, where: str) -> InverterDetail:
    """`detail`, once its power and lifetime energy are within their bounds."""
    check(detail.watts, DEVICE_POWER_W, f"{where}.watts.now")
    check(detail.wh_lifetime, LIFETIME_WH, f"{where}.lifetime")
    return detail


def _check_channel(part: MeterReading | MeterChannel, where: str) -> None:
    check(part.watts, POWER_W, f"{where}.activePower")
    # Signed: real CTs (8.3.1598 collar) report small negative cumulative energies.
    check(part.wh_delivered, SIGNED_WH, f"{where}.actEnergyDlvd")
    check(part.wh_received, SIGNED_WH, f"{where}.actEnergyRcvd")
    check(part.amps, AMPS, f"{where}.current")


def check_meter_reading(reading: MeterReading, where: str) -> MeterReading:
    """A CT reading (and its channels) whose power, energies and current are plausible."""
    _check_channel(reading, where)
    check(reading.volts_sum, VOLTS, f"{where}.voltage")
    for i, channel in enumerate(reading.channels):
        _check_channel(channel, f"{where}.channels[{i}]")
    return reading


# -- the same tests as a yes/no answer, for the parsers' success path ---------------------
# Parsers read hundreds of values per answer: they ask these first, and call the
# `check_*` functions (which spell out where the bad value is) only on a "no".
# A comparison chain is False for NaN and for infinities beyond the bounds, as
# `check` refuses them.


def energy_reading_plausible(reading: EnergyReading, *, signed: bool) -> bool:
    """True when `check_energy_reading` would pass `reading`."""
    period = SIGNED_WH if signed else PERIOD_WH
    lifetime = SIGNED_WH if signed else LIFETIME_WH
    today, week, life = reading.wh_today, reading.wh_last_7_days, reading.wh_lifetime
    volts, amps = reading.volts, reading.amps
    return (
        POWER_W.low <= reading.watts <= POWER_W.high
        and (today is None or period.low <= today <= period.high)
        and (week is None or period.low <= week <= period.high)
        and (life is None or lifetime.low <= life <= lifetime.high)
        and (volts is None or VOLTS.low <= volts <= VOLTS.high)
        and (amps is None or AMPS.low <= amps <= AMPS.high)
    )


def inverter_detail_plausible(detail: InverterDetail) -> bool:
    """True when `check_inverter_detail` would pass `detail`."""
    return (
        DEVICE_POWER_W.low <= detail.watts <= DEVICE_POWER_W.high
        and LIFETIME_WH.low <= detail.wh_lifetime <= LIFETIME_WH.high
    )


def unsigned_energies_plausible(
    today: float | None, week: float | None, lifetime: float | None
) -> bool:
    """The energy bounds of an unsigned reading, for values already within net consumption's.

    The parsers' typed fast path (`sources._wire`) holds every value of an
    energy entry to the bounds of a signed (net consumption) reading, which are
    the loosest; production and total consumption must also pass these.
    """
    return (
        (today is None or _PERIOD_LOW <= today <= _PERIOD_HIGH)
        and (week is None or _PERIOD_LOW <= week <= _PERIOD_HIGH)
        and (lifetime is None or lifetime >= _LIFETIME_LOW)
    )


_PERIOD_LOW, _PERIOD_HIGH, _LIFETIME_LOW = PERIOD_WH.low, PERIOD_WH.high, LIFETIME_WH.low
assert LIFETIME_WH.high == SIGNED_WH.high  # what the comment above relies on


def meter_reading_plausible(reading: MeterReading) -> bool:
    """True when `check_meter_reading` would pass `reading`."""
    if not VOLTS.low <= reading.volts_sum <= VOLTS.high:
        return False
    w_lo, w_hi, e_lo, e_hi, a_lo, a_hi = _CHANNEL_LIMITS
    for part in (reading, *reading.channels):
        if not (
            w_lo <= part.watts <= w_hi
            and e_lo <= part.wh_delivered <= e_hi
            and e_lo <= part.wh_received <= e_hi
            and a_lo <= part.amps <= a_hi
        ):
            return False
    return True


# What `_check_channel` checks, as one tuple for the loop above.
_CHANNEL_LIMITS = (POWER_W.low, POWER_W.high, SIGNED_WH.low, SIGNED_WH.high, AMPS.low, AMPS.high)

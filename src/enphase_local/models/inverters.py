"""Microinverters: the basic per-inverter report and the detailed device data.

``/api/v1/production/inverters`` exists on every firmware from 3.x and gives
power now and the highest power seen, per serial. ``/ivp/pdm/device_data``
(firmware 8) adds DC and AC electrical values, temperature, energy today,
yesterday and this week, and lifetime energy, but lists at most
`DeviceData.device_data_limit` devices: a larger site must use the basic
endpoint (`DeviceData.covers`).

Both arrive as ``serial -> model`` mappings. Device data values are converted
from the gateway's raw units (mV, mA, mHz, joules) into volts, amps, hertz
and watt-hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ._base import Model

__all__ = ["DEVICE_DATA_LIMIT", "DeviceData", "Inverter", "InverterDetail"]

DEVICE_DATA_LIMIT = 50
"""What the gateway reports as ``deviceDataLimit`` on every firmware seen."""


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Inverter(Model):
    """One microinverter of ``/api/v1/production/inverters``.

    `watts` is the power of its last report (every 5 to 15 minutes), taken at
    `last_report` (epoch seconds); `max_watts` the highest report it has made.
    `dev_type` is None on firmware 3.x, which does not send it.
    """

    serial: str
    watts: float
    max_watts: float
    last_report: int
    dev_type: int | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class InverterDetail(Model):
    """One microinverter of ``/ivp/pdm/device_data``, in real units.

    The electrical values and `wh_last_report` describe the last report
    interval (`report_duration_s` long, ending at `last_report`). `rssi` and
    `issi` are power-line and radio signal strengths, None when absent.
    """

    serial: str
    eid: str
    watts: float
    max_watts: float
    last_report: int
    report_duration_s: int
    wh_last_report: float
    dc_volts: float
    dc_amps: float
    ac_volts: float
    ac_amps: float
    hz: float
    temperature_c: float
    wh_today: float
    wh_yesterday: float
    wh_last_7_days: float
    wh_lifetime: float
    rssi: int | None = None
    issi: int | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class DeviceData(Model):
    """``/ivp/pdm/device_data``: the active microinverters, by serial.

    `device_count` is the gateway's count of every device it lists, meters
    (``eim``) and removed inverters included, so it can exceed
    ``len(inverters)``.
    """

    inverters: Mapping[str, InverterDetail]
    device_count: int
    device_data_limit: int = DEVICE_DATA_LIMIT
    # Entries the parser could not read and left out (each: where, and why): one bad
    # entry must not cost the other inverters. The snapshot reports them as warnings.
    skipped: tuple[str, ...] = ()
    # Microinverters listed ``active: false`` (left out of `inverters`; the basic
    # list still has them, so the probe asks it too: engine/probe.device_data_complete).
    inactive: int = 0

    def covers(self, n_inverters: int) -> bool:
        """True when a site with `n_inverters` fits within the gateway's device data limit.

        When it does not, the gateway leaves inverters out of this endpoint
        and the client should read ``/api/v1/production/inverters`` instead.
        """
        return n_inverters <= self.device_data_limit

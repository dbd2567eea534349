"""Who the gateway is (``/info``) and how it is connected (``/home``).

`GatewayInfo` is the identity read before anything else: the serial, the
firmware (which decides digest or token auth and which endpoints exist) and
whether the model is metered. Old firmware leaves out ``<imeter>``,
``<web-tokens>`` and most build info, so those fields have safe defaults
rather than being required. A missing ``<imeter>`` is ``None`` (unknown):
metered Envoy-S units on 4.x leave it out, so the probe asks for CTs anyway.

`HomeInfo` describes the network interfaces and the power-line / radio
communication levels of each device class, which is what an installer looks
at when inverters stop reporting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..firmware import Firmware
from ._base import FlexEnum, Model

__all__ = [
    "CommLevel",
    "CommLevels",
    "EnchargeCommLevel",
    "GatewayInfo",
    "HomeInfo",
    "InterfaceType",
    "NetworkInterface",
    "PackageInfo",
    "WirelessConnection",
]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class PackageInfo(Model):
    """One firmware package of ``/info`` (``app``, ``kernel``, ``meter``...).

    Fields are None when the package element leaves them out.
    """

    part_number: str | None
    version: str | None
    build: str | None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class GatewayInfo(Model):
    """The ``/info`` document.

    `firmware` is the ``<software>`` text as reported (``D8.3.5167``); use
    `fw` to compare versions numerically. `device_time` and `build_time_gmt`
    are epoch seconds.
    """

    serial: str
    part_number: str | None
    firmware: str
    imeter: bool | None = None  # None: /info does not say (old firmware)
    web_tokens: bool = False
    device_time: int | None = None
    packages: Mapping[str, PackageInfo] = field(default_factory=dict)
    build_id: str | None = None
    build_time_gmt: int | None = None
    release_stage: str | None = None
    release_ver: str | None = None

    @property
    def fw(self) -> Firmware:
        """The firmware as a comparable `Firmware`."""
        return Firmware.parse(self.firmware)


class InterfaceType(FlexEnum):
    """The kind of a network interface in ``/home``."""

    ETHERNET = "ethernet"
    WIFI = "wifi"
    CELLULAR = "cellular"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class NetworkInterface(Model):
    """One interface of ``/home`` ``network.interfaces``.

    `name` is the Linux interface name (``eth0``, ``wlan0``, ``ppp0``).
    `carrier` tells whether the link is up; `ip` is None while unconfigured.
    `status` is given for Wi-Fi only (``connected``, ``connecting``...).
    """

    name: str
    type: InterfaceType
    mac: str | None = None
    ip: str | None = None
    dhcp: bool | None = None
    carrier: bool | None = None
    signal_strength: int | None = None
    signal_strength_max: int | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class CommLevel(Model):
    """How many devices of a class there are and their communication level (0 to 5)."""

    num: int
    level: int


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class EnchargeCommLevel(Model):
    """Encharge batteries talk over two radios; each has its own level."""

    num: int
    level: int
    level_24g: int | None = None
    level_subg: int | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class CommLevels(Model):
    """The ``comm`` section of ``/home``: overall and per device class.

    `pcu` are microinverters, `acb` AC Batteries, `nsrb` the Q-Relays,
    `esub` the ensemble sub-devices (Enpower...). A class the firmware does
    not report is None.
    """

    num: int
    level: int
    pcu: CommLevel | None = None
    acb: CommLevel | None = None
    nsrb: CommLevel | None = None
    esub: CommLevel | None = None
    encharge: tuple[EnchargeCommLevel, ...] = ()


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class WirelessConnection(Model):
    """A wireless link of ``/home`` ``wireless_connection`` (``BLE``, ``zigbee``, ``subghz``)."""

    type: str
    connected: bool | None = None
    signal_strength: int | None = None
    signal_strength_max: int | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class HomeInfo(Model):
    """The ``/home`` document.

    `current_date` and `current_time` are the gateway's local wall clock,
    kept as given (``07/19/2025``, ``21:25``) because the gateway does not say
    which format it uses; `timezone` names its zone. Epochs are seconds.
    `tariff` is the tariff kind (``single_rate``, ``time_of_use``).
    """

    software_build_epoch: int | None
    timezone: str | None
    current_date: str | None
    current_time: str | None
    tariff: str | None
    web_comm: bool | None
    ever_reported_to_enlighten: bool | None
    last_enlighten_report_time: int | None
    primary_interface: str | None
    interfaces: tuple[NetworkInterface, ...] = ()
    comm: CommLevels | None = None
    wireless_connection: tuple[WirelessConnection, ...] = ()

    @property
    def primary(self) -> NetworkInterface | None:
        """The interface named by `primary_interface`, if listed."""
        for interface in self.interfaces:
            if interface.name == self.primary_interface:
                return interface
        return None

"""``/home``: network interfaces and communication levels, readable without auth.

Why read it at all: it names the active network interface (which the
gateway's interface settings need) and shows how well each device class
communicates, the first thing to look at when inverters stop reporting.
It is slow (over a minute on some firmware), so it is read rarely.

``network`` is required: a body without it is not this endpoint's answer.
Everything else may be missing on some firmware and becomes None or empty.
"""

from __future__ import annotations

from typing import Any

from ..capabilities import Capability
from ..models.gateway import (
    CommLevel,
    CommLevels,
    EnchargeCommLevel,
    HomeInfo,
    InterfaceType,
    NetworkInterface,
    WirelessConnection,
)
from ._json import Obj, as_obj, json_parser
from .keys import SourceKey
from .registry import Cadence, Role, Source, Speed

__all__ = ["HOME", "HOME_PATH", "parse_home"]

HOME_PATH = "/home"


def _interface(o: Obj) -> NetworkInterface:
    return NetworkInterface(
        name=o.text("interface"),
        type=InterfaceType.parse(o.text_or("type")),
        mac=o.text_or("mac"),
        ip=o.text_or("ip"),
        dhcp=o.flag_or("dhcp"),
        carrier=o.flag_or("carrier"),
        signal_strength=o.integer_or("signal_strength"),
        signal_strength_max=o.integer_or("signal_strength_max"),
        status=o.text_or("status"),
    )


def _level(o: Obj | None) -> CommLevel | None:
    if o is None:
        return None
    return CommLevel(num=o.integer("num"), level=o.integer("level"))


def _comm(o: Obj) -> CommLevels:
    return CommLevels(
        num=o.integer("num"),
        level=o.integer("level"),
        pcu=_level(o.child_or("pcu")),
        acb=_level(o.child_or("acb")),
        nsrb=_level(o.child_or("nsrb")),
        esub=_level(o.child_or("esub")),
        encharge=tuple(
            EnchargeCommLevel(
                num=e.integer("num"),
                level=e.integer("level"),
                level_24g=e.integer_or("level_24g"),
                level_subg=e.integer_or("level_subg"),
            )
            for e in o.objs("encharge")
        ),
    )


def _wireless(o: Obj) -> WirelessConnection:
    return WirelessConnection(
        type=o.text("type"),
        connected=o.flag_or("connected"),
        signal_strength=o.integer_or("signal_strength"),
        signal_strength_max=o.integer_or("signal_strength_max"),
    )


@json_parser(HOME_PATH)
def parse_home(data: Any) -> HomeInfo:
    """``/home`` JSON -> `HomeInfo`."""
    body = as_obj(data)
    network = body.child("network")
    comm = body.child_or("comm")
    return HomeInfo(
        software_build_epoch=body.epoch_or("software_build_epoch"),
        timezone=body.text_or("timezone"),
        current_date=body.text_or("current_date"),
        current_time=body.text_or("current_time"),
        tariff=body.text_or("tariff"),
        web_comm=network.flag_or("web_comm"),
        ever_reported_to_enlighten=network.flag_or("ever_reported_to_enlighten"),
        last_enlighten_report_time=network.epoch_or("last_enlighten_report_time"),
        primary_interface=network.text_or("primary_interface"),
        interfaces=tuple(_interface(i) for i in network.objs("interfaces")),
        comm=None if comm is None else _comm(comm),
        wireless_connection=tuple(_wireless(w) for w in body.objs("wireless_connection")),
    )


HOME = Source(
    key=SourceKey.HOME,
    path=HOME_PATH,
    parse=parse_home,
    role=Role.PUBLIC,
    cadence=Cadence.IDENTITY,
    speed=Speed.SLOW,
    doc="network interfaces, primary interface, communication levels per device class",
    capability=Capability.NETWORK,
)

"""``/inventory.json?deleted=1``: microinverters, AC Batteries, Q-relays and submodules.

Groups are recognised by their ``type`` field (``PCU``, ``ACB``, ``NSRB``,
``ESUB``); others are skipped. Epochs arrive as numeric strings here
(``"installed": "1750786534"``), which `Obj.epoch` reads. This is the only
source of per-unit AC Battery data. The endpoint is slow (about 20 s on
recent firmware) and changes only when devices are added or removed, so it
is read rarely.
"""

from __future__ import annotations

from typing import Any

from ..models.battery import AcbState, AcbUnit
from ..models.ensemble import DeviceInventory, InventoryDevice, QRelay, RelayState
from ._json import Obj, ShapeError, devices_by_group, json_parser
from .keys import SourceKey
from .registry import Cadence, Role, Source, Speed, device_list_cap

__all__ = ["INVENTORY", "parse_inventory"]

PATH = "/inventory.json?deleted=1"


def _status(d: Obj) -> tuple[str, ...]:
    out: list[str] = []
    for i, value in enumerate(d.items_or("device_status")):
        if not isinstance(value, str):
            raise ShapeError(f"{d.where}.device_status[{i}]: expected a string, got {value!r}")
        out.append(value)
    return tuple(out)


def _device(d: Obj) -> InventoryDevice:
    return InventoryDevice(
        serial=d.text("serial_num"),
        part_number=d.text("part_num"),
        installed=d.epoch_or("installed"),
        last_report=d.epoch_or("last_rpt_date"),
        producing=d.flag_or("producing"),
        communicating=d.flag_or("communicating"),
        provisioned=d.flag_or("provisioned"),
        operating=d.flag_or("operating"),
        phase=d.text_or("phase"),
        device_status=_status(d),
        firmware=d.text_or("img_pnum_running"),
        deleted=d.flag_or("deleted"),
    )


def _acb(d: Obj) -> AcbUnit:
    return AcbUnit(
        serial=d.text("serial_num"),
        soc_percent=d.number("percentFull"),
        max_cell_temp_c=d.number_or("maxCellTemp"),
        sleep_enabled=d.flag_or("sleep_enabled"),
        sleep_min_soc_percent=d.number_or("sleep_min_soc"),
        sleep_max_soc_percent=d.number_or("sleep_max_soc"),
        charge_status=AcbState.parse(d.text_or("charge_status")),
        producing=d.flag_or("producing"),
        communicating=d.flag_or("communicating"),
        last_report=d.epoch_or("last_rpt_date"),
    )


def _qrelay(d: Obj) -> QRelay:
    return QRelay(
        serial=d.text("serial_num"),
        part_number=d.text("part_num"),
        relay=RelayState.parse(d.text_or("relay")),
        forced=d.flag_or("forced"),
        reason=d.text_or("reason"),
        line1_connected=d.flag_or("line1-connected"),
        line2_connected=d.flag_or("line2-connected"),
        line3_connected=d.flag_or("line3-connected"),
        communicating=d.flag_or("communicating"),
        last_report=d.epoch_or("last_rpt_date"),
        firmware=d.text_or("img_pnum_running"),
        device_status=_status(d),
    )


@json_parser(PATH)
def parse_inventory(data: Any) -> DeviceInventory:
    """``/inventory.json?deleted=1`` -> devices by kind, in the order the gateway lists them."""
    groups = devices_by_group(data, {"PCU": _device, "ACB": _acb, "NSRB": _qrelay, "ESUB": _device})
    return DeviceInventory(
        pcu=tuple(groups["PCU"]),
        acb=tuple(groups["ACB"]),
        nsrb=tuple(groups["NSRB"]),
        esub=tuple(groups["ESUB"]),
    )


INVENTORY: Source[DeviceInventory] = Source(
    key=SourceKey.INVENTORY,
    path=PATH,
    parse=parse_inventory,
    role=Role.OWNER,
    cadence=Cadence.CONFIG,
    speed=Speed.SLOW,
    doc="microinverters, AC Batteries and Q-relays: identity, firmware, health flags",
    max_bytes=device_list_cap(4096),  # about 460 bytes per device on real gateways
)

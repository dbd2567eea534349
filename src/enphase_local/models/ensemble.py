"""The ensemble (batteries, system controller, meter collar, combiner) and the device inventory.

``/ivp/ensemble/inventory`` lists the ensemble devices in groups by type:
Encharge / IQ Battery units, the IQ System Controller (Enpower), the IQ
Meter Collar, and the IQ Combiner 6C controller (``C6 COMBINER CONTROLLER``)
with its revenue-grade meter (``C6 RGM``). A site has at most one of each
non-battery device.

``/inventory.json?deleted=1`` lists the other devices: microinverters
(``PCU``), AC Batteries (``ACB``), Q-relays (``NSRB``) and system controller
submodules (``ESUB``). Its AC Battery units are `battery.AcbUnit`.

Fields that some firmware lacks are None when absent: firmware 8 dropped
`operating` and `zigbee_dongle_fw_version`; `phase` and
`reported_enc_grid_state` arrived with 8.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._base import FlexEnum, Model
from .battery import AcbUnit

__all__ = [
    "C6Combiner",
    "C6Rgm",
    "Collar",
    "CollarGridState",
    "DeviceInventory",
    "EnchargeUnit",
    "Enpower",
    "EnsembleInventory",
    "GridMode",
    "InventoryDevice",
    "QRelay",
    "RelayState",
]


class RelayState(FlexEnum):
    """A relay's contacts: the Enpower mains relay (closed = on grid) or a Q-relay.

    Firmware 8.3.6000 and later adds a sub-state after the contact state
    (``open synchronizing``, then ``open synchronized``, never plain ``open``,
    while it tops the batteries off before going off grid): `with_substate` keeps
    the contact state, which is what a write is confirmed on, and the
    sub-state beside it.
    """

    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"

    @classmethod
    def with_substate(cls, text: str | None) -> tuple[RelayState, str | None]:
        """``"open synchronizing"`` -> (OPEN, ``"synchronizing"``); ``"closed"`` -> (CLOSED, None).

        An unrecognised contact word gives UNKNOWN with the whole text as the
        sub-state, so nothing the gateway said is lost.
        """
        if text is None:
            return RelayState.UNKNOWN, None
        words = text.strip().replace("_", " ").replace("-", " ").split(maxsplit=1)
        if not words:
            return RelayState.UNKNOWN, None
        contact = cls.parse(words[0])
        if contact is RelayState.UNKNOWN:
            return contact, text.strip()
        return contact, (words[1].strip() or None) if len(words) > 1 else None


class GridMode(FlexEnum):
    """How a device sees the grid (``Enpwr_grid_mode``, ``Enchg_grid_mode``,
    ``reported_enc_grid_state``). Firmware 7 says ``multimode-ongrid``,
    firmware 8 ``grid-tied``: both mean on grid."""

    GRID_TIED = "grid-tied"
    OFF_GRID = "off-grid"
    MULTIMODE_ONGRID = "multimode-ongrid"
    MULTIMODE_OFFGRID = "multimode-offgrid"
    UNKNOWN = "unknown"

    @property
    def on_grid(self) -> bool | None:
        """True on grid, False off grid, None when unknown."""
        if self in (GridMode.GRID_TIED, GridMode.MULTIMODE_ONGRID):
            return True
        if self in (GridMode.OFF_GRID, GridMode.MULTIMODE_OFFGRID):
            return False
        return None


class CollarGridState(FlexEnum):
    """The IQ Meter Collar's ``grid_state``."""

    ON_GRID = "on_grid"
    OFF_GRID = "off_grid"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class EnchargeUnit(Model):
    """One Encharge / IQ Battery of the ensemble inventory.

    `soc_percent` (``percentFull``) follows the report rhythm; the power
    endpoint has a live one. `capacity_wh` is ``encharge_capacity``.
    `firmware` is ``img_pnum_running``, `bmu_firmware` the battery
    management unit's.
    """

    serial: str
    part_number: str
    soc_percent: float
    temperature_c: float
    capacity_wh: float
    communicating: bool
    last_report: int
    max_cell_temp_c: float | None = None
    admin_state_str: str | None = None
    sleep_enabled: bool | None = None
    led_status: int | None = None
    dc_switch_off: bool | None = None
    grid_state: GridMode | None = None
    phase: str | None = None
    firmware: str | None = None
    bmu_firmware: str | None = None
    operating: bool | None = None
    zigbee_dongle_fw_version: str | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Enpower(Model):
    """The IQ System Controller (Enpower).

    It reports its temperature in °F; `temperature_c` is converted. The
    mains relay `mains_oper_state` is ``closed`` on grid and ``open`` off
    grid; `mains_admin_state` is what was asked of it. Both are the contact
    state only: firmware 8.3.6000+ sends ``open synchronizing`` and ``open
    synchronized``, whose second word lands in `mains_oper_substate` /
    `mains_admin_substate` (None when the gateway sends the contact state
    alone). `relay_state_bitmask` (``Enpwr_relay_state_bm``) is given as
    sent: Enphase does not document it.
    """

    serial: str
    part_number: str
    temperature_c: float
    mains_admin_state: RelayState
    mains_oper_state: RelayState
    grid_mode: GridMode
    encharge_grid_mode: GridMode
    communicating: bool
    last_report: int
    relay_state_bitmask: int | None = None
    admin_state_str: str | None = None
    firmware: str | None = None
    operating: bool | None = None
    mains_admin_substate: str | None = None
    mains_oper_substate: str | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Collar(Model):
    """The IQ Meter Collar: the grid disconnect fitted at the meter socket.

    `mid_state` (the microgrid interconnect device, ``close``/``open``) and
    `collar_state` (``Installed``) are given as sent: their vocabulary is not
    documented.
    """

    serial: str
    part_number: str
    temperature_c: float | None
    grid_state: CollarGridState
    mid_state: str | None
    collar_state: str | None
    control_error: int | None
    communicating: bool
    last_report: int | None
    admin_state_str: str | None = None
    firmware: str | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class C6Combiner(Model):
    """The IQ Combiner 6C controller (``C6 COMBINER CONTROLLER``)."""

    serial: str
    part_number: str
    admin_state_str: str | None
    firmware: str | None
    communicating: bool | None
    last_report: int | None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class C6Rgm(Model):
    """The revenue-grade meter of the IQ Combiner 6C (``C6 RGM``); its keys have spaces."""

    serial: str
    part_number: str
    firmware: str | None
    device_state: int | None
    installed: int | None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class EnsembleInventory(Model):
    """``/ivp/ensemble/inventory``: every ensemble device, by kind.

    Sites without ensemble devices answer ``[]``: everything empty or None.
    """

    encharge: tuple[EnchargeUnit, ...] = ()
    enpower: Enpower | None = None
    collar: Collar | None = None
    c6_combiner: C6Combiner | None = None
    c6_rgm: C6Rgm | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class InventoryDevice(Model):
    """A device of ``/inventory.json`` (microinverter, submodule): identity and health flags.

    `device_status` holds codes such as ``envoy.global.ok``. `deleted` is
    set for devices removed from the system (listed because of ``?deleted=1``).
    """

    serial: str
    part_number: str
    installed: int | None
    last_report: int | None
    producing: bool | None
    communicating: bool | None
    provisioned: bool | None
    operating: bool | None
    phase: str | None
    device_status: tuple[str, ...]
    firmware: str | None
    deleted: bool | None = None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class QRelay(Model):
    """A Q-relay (``NSRB``): the grid relay of a microinverter branch.

    `relay` is open or closed; `forced` is set when it was forced by
    command. The per-line flags are None for lines the relay does not have.
    """

    serial: str
    part_number: str
    relay: RelayState
    forced: bool | None
    reason: str | None
    line1_connected: bool | None
    line2_connected: bool | None
    line3_connected: bool | None
    communicating: bool | None
    last_report: int | None
    firmware: str | None
    device_status: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class DeviceInventory(Model):
    """``/inventory.json?deleted=1``: microinverters, AC Batteries, Q-relays, submodules."""

    pcu: tuple[InventoryDevice, ...] = ()
    acb: tuple[AcbUnit, ...] = ()
    nsrb: tuple[QRelay, ...] = ()
    esub: tuple[InventoryDevice, ...] = ()

"""The ensemble endpoints: device inventory, live battery power, and battery aggregates.

``/ivp/ensemble/inventory`` groups devices by a ``type`` field: each group
is recognised by that field, never by position, and groups of unknown types
(whatever a newer firmware adds) are skipped. ``/ivp/ensemble/power`` keeps
its batteries under the key ``"devices:"``, colon included (a typo in the
firmware we accept as it is, with ``"devices"`` as a fallback should it
ever be fixed). ``/ivp/ensemble/secctrl`` carries the gateway's own
aggregates.

Firmware 3.x to 5.x answer these paths with ``{"error": "404 - Not Found"}``,
which `json_parser` turns into `EnvoyParseError` with `gateway_error` set;
firmware 7 and later without ensemble devices answer ``[]`` and
``{"devices:": []}``.
"""

from __future__ import annotations

from typing import Any

from ..models.battery import BatteryAggregate, EnchargePower
from ..models.ensemble import (
    C6Combiner,
    C6Rgm,
    Collar,
    CollarGridState,
    EnchargeUnit,
    Enpower,
    EnsembleInventory,
    GridMode,
    RelayState,
)
from ._json import Obj, as_obj, devices_by_group, json_parser
from ._wire import convert
from ._wire_devices import (
    C6CombinerGroup,
    C6RgmGroup,
    CollarGroup,
    EnchargeGroup,
    EnchargeRow,
    EnpowerGroup,
    EnpowerRow,
    InventoryBody,
)
from .keys import SourceKey
from .registry import Cadence, Role, Source, Speed

__all__ = [
    "ENSEMBLE_INVENTORY",
    "ENSEMBLE_POWER",
    "ENSEMBLE_SECCTRL",
    "fahrenheit_to_celsius",
    "parse_ensemble_inventory",
    "parse_ensemble_power",
    "parse_ensemble_secctrl",
]

INVENTORY_PATH = "/ivp/ensemble/inventory"
POWER_PATH = "/ivp/ensemble/power"
SECCTRL_PATH = "/ivp/ensemble/secctrl"


def fahrenheit_to_celsius(fahrenheit: float) -> float:
    """°F to °C, to a tenth of a degree (the Enpower reports whole °F)."""
    return round((fahrenheit - 32) * 5 / 9, 1)


def _grid_mode(obj: Obj, key: str) -> GridMode | None:
    text = obj.text_or(key)
    return None if text is None else GridMode(text)


def _encharge(d: Obj) -> EnchargeUnit:
    return EnchargeUnit(
        serial=d.text("serial_num"),
        part_number=d.text("part_num"),
        soc_percent=d.number("percentFull"),
        temperature_c=d.number("temperature"),
        capacity_wh=d.number("encharge_capacity"),
        communicating=d.flag("communicating"),
        last_report=d.epoch("last_rpt_date"),
        max_cell_temp_c=d.number_or("maxCellTemp"),
        admin_state_str=d.text_or("admin_state_str"),
        sleep_enabled=d.flag_or("sleep_enabled"),
        led_status=d.integer_or("led_status"),
        dc_switch_off=d.flag_or("dc_switch_off"),
        grid_state=_grid_mode(d, "reported_enc_grid_state"),
        phase=d.text_or("phase"),
        firmware=d.text_or("img_pnum_running"),
        bmu_firmware=d.text_or("bmu_fw_version"),
        operating=d.flag_or("operating"),
        zigbee_dongle_fw_version=d.text_or("zigbee_dongle_fw_version"),
    )


def _enpower(d: Obj) -> Enpower:
    admin, admin_sub = RelayState.with_substate(d.text_or("mains_admin_state"))
    oper, oper_sub = RelayState.with_substate(d.text_or("mains_oper_state"))
    return Enpower(
        serial=d.text("serial_num"),
        part_number=d.text("part_num"),
        temperature_c=fahrenheit_to_celsius(d.number("temperature")),
        mains_admin_state=admin,
        mains_oper_state=oper,
        mains_admin_substate=admin_sub,
        mains_oper_substate=oper_sub,
        grid_mode=GridMode.parse(d.text_or("Enpwr_grid_mode")),
        encharge_grid_mode=GridMode.parse(d.text_or("Enchg_grid_mode")),
        communicating=d.flag("communicating"),
        last_report=d.epoch("last_rpt_date"),
        relay_state_bitmask=d.integer_or("Enpwr_relay_state_bm"),
        admin_state_str=d.text_or("admin_state_str"),
        firmware=d.text_or("img_pnum_running"),
        operating=d.flag_or("operating"),
    )


def _collar(d: Obj) -> Collar:
    return Collar(
        serial=d.text("serial_num"),
        part_number=d.text("part_num"),
        temperature_c=d.number_or("temperature"),
        grid_state=CollarGridState.parse(d.text_or("grid_state")),
        mid_state=d.text_or("mid_state"),
        collar_state=d.text_or("collar_state"),
        control_error=d.integer_or("control_error"),
        communicating=d.flag("communicating"),
        last_report=d.epoch_or("last_rpt_date"),
        admin_state_str=d.text_or("admin_state_str"),
        firmware=d.text_or("img_pnum_running"),
    )


def _c6_combiner(d: Obj) -> C6Combiner:
    return C6Combiner(
        serial=d.text("serial_num"),
        part_number=d.text("part_num"),
        admin_state_str=d.text_or("admin_state_str"),
        firmware=d.text_or("fw_version"),
        communicating=d.flag_or("communicating"),
        last_report=d.epoch_or("last_rpt_date"),
    )


def _c6_rgm(d: Obj) -> C6Rgm:
    return C6Rgm(
        serial=d.text("serial_num"),
        part_number=d.text("part_num"),
        firmware=d.text_or("FW Version"),
        device_state=d.integer_or("Device State"),
        installed=d.epoch_or("installed"),
    )


def _wire_encharge(d: EnchargeRow) -> EnchargeUnit:
    return EnchargeUnit(
        d.serial_num,
        d.part_num,
        d.percentFull,
        d.temperature,
        d.encharge_capacity,
        d.communicating,
        d.last_rpt_date,
        d.maxCellTemp,
        d.admin_state_str,
        d.sleep_enabled,
        d.led_status,
        d.dc_switch_off,
        d.reported_enc_grid_state,
        d.phase,
        d.img_pnum_running,
        d.bmu_fw_version,
        d.operating,
        d.zigbee_dongle_fw_version,
    )


def _wire_enpower(d: EnpowerRow) -> Enpower:
    admin, admin_sub = RelayState.with_substate(d.mains_admin_state)
    oper, oper_sub = RelayState.with_substate(d.mains_oper_state)
    return Enpower(
        d.serial_num,
        d.part_num,
        fahrenheit_to_celsius(d.temperature),
        admin,
        oper,
        d.Enpwr_grid_mode or GridMode.UNKNOWN,
        d.Enchg_grid_mode or GridMode.UNKNOWN,
        d.communicating,
        d.last_rpt_date,
        d.Enpwr_relay_state_bm,
        d.admin_state_str,
        d.img_pnum_running,
        d.operating,
        admin_sub,
        oper_sub,
    )


def _wire_inventory(data: Any) -> EnsembleInventory | None:
    """`parse_ensemble_inventory` for the ordinary body, typed by msgspec (see
    `sources._wire`); None when anything is unusual, for the checked way to decide."""
    groups: list[Any] | None = convert(data, InventoryBody)
    if groups is None:
        return None
    encharge: list[EnchargeUnit] = []
    enpower: list[Enpower] = []
    collar: list[Collar] = []
    combiner: list[C6Combiner] = []
    rgm: list[C6Rgm] = []
    for group in groups:
        devices = group.devices or ()
        kind = type(group)
        if kind is EnchargeGroup:
            encharge += map(_wire_encharge, devices)
        elif kind is EnpowerGroup:
            enpower += map(_wire_enpower, devices)
        elif kind is CollarGroup:
            collar += (
                Collar(
                    d.serial_num,
                    d.part_num,
                    d.temperature,
                    d.grid_state or CollarGridState.UNKNOWN,
                    d.mid_state,
                    d.collar_state,
                    d.control_error,
                    d.communicating,
                    d.last_rpt_date,
                    d.admin_state_str,
                    d.img_pnum_running,
                )
                for d in devices
            )
        elif kind is C6CombinerGroup:
            combiner += (
                C6Combiner(
                    d.serial_num,
                    d.part_num,
                    d.admin_state_str,
                    d.fw_version,
                    d.communicating,
                    d.last_rpt_date,
                )
                for d in devices
            )
        elif kind is C6RgmGroup:
            rgm += (
                C6Rgm(d.serial_num, d.part_num, d.fw_version, d.device_state, d.installed)
                for d in devices
            )
    return EnsembleInventory(
        tuple(encharge),
        enpower[0] if enpower else None,
        collar[0] if collar else None,
        combiner[0] if combiner else None,
        rgm[0] if rgm else None,
    )


@json_parser(INVENTORY_PATH)
def parse_ensemble_inventory(data: Any) -> EnsembleInventory:
    """``/ivp/ensemble/inventory`` -> the ensemble devices by kind.

    A site has one system controller, collar and combiner at most; should a
    group ever list several, the first is kept (all are still type-checked).
    """
    fast = _wire_inventory(data)
    if fast is not None:
        return fast
    groups = devices_by_group(
        data,
        {
            "ENCHARGE": _encharge,
            "ENPOWER": _enpower,
            "COLLAR": _collar,
            "C6 COMBINER CONTROLLER": _c6_combiner,
            "C6 RGM": _c6_rgm,
        },
    )

    def first(kind: str) -> Any:
        return groups[kind][0] if groups[kind] else None

    return EnsembleInventory(
        encharge=tuple(groups["ENCHARGE"]),
        enpower=first("ENPOWER"),
        collar=first("COLLAR"),
        c6_combiner=first("C6 COMBINER CONTROLLER"),
        c6_rgm=first("C6 RGM"),
    )


@json_parser(POWER_PATH)
def parse_ensemble_power(data: Any) -> dict[str, EnchargePower]:
    """``/ivp/ensemble/power`` -> serial -> live power (W, positive: discharging) and SoC."""
    body = as_obj(data)
    key = "devices" if "devices:" not in body and "devices" in body else "devices:"
    out: dict[str, EnchargePower] = {}
    for i, raw in enumerate(body.items(key)):
        d = as_obj(raw, f"body.{key}[{i}]")
        serial = d.text("serial_num")
        out[serial] = EnchargePower(
            serial=serial,
            watts=d.number("real_power_mw") / 1000,
            va=d.number("apparent_power_mva") / 1000,
            soc_percent=d.number("soc"),
        )
    return out


@json_parser(SECCTRL_PATH)
def parse_ensemble_secctrl(data: Any) -> BatteryAggregate:
    """``/ivp/ensemble/secctrl`` -> the gateway's battery aggregates (absent keys None)."""
    d = as_obj(data)
    return BatteryAggregate(
        soc_percent=d.number_or("ENC_agg_soc"),
        soh_percent=d.number_or("ENC_agg_soh"),
        available_wh=d.number_or("ENC_agg_avail_energy"),
        backup_wh=d.number_or("ENC_agg_backup_energy"),
        max_available_wh=d.number_or("Enc_max_available_capacity"),
        commissioned_wh=d.number_or("Enc_commissioned_capacity"),
        configured_backup_soc_percent=d.number_or("configured_backup_soc"),
        adjusted_backup_soc_percent=d.number_or("adjusted_backup_soc"),
        acb_soc_percent=d.number_or("ACB_agg_soc"),
        acb_wh=d.number_or("ACB_agg_energy"),
        combined_soc_percent=d.number_or("agg_soc"),
        combined_max_wh=d.number_or("Max_energy"),
        very_low_soc_percent=d.number_or("VLS_Limit"),
    )


ENSEMBLE_INVENTORY: Source[EnsembleInventory] = Source(
    key=SourceKey.ENSEMBLE_INVENTORY,
    path=INVENTORY_PATH,
    parse=parse_ensemble_inventory,
    role=Role.OWNER,
    cadence=Cadence.REPORT,
    speed=Speed.FAST,
    doc="Encharge batteries, system controller, meter collar and combiner: state and health",
)

ENSEMBLE_POWER: Source[dict[str, EnchargePower]] = Source(
    key=SourceKey.ENSEMBLE_POWER,
    path=POWER_PATH,
    parse=parse_ensemble_power,
    role=Role.OWNER,
    cadence=Cadence.LIVE,
    speed=Speed.FAST,
    doc="live power and state of charge of each Encharge battery",
)

ENSEMBLE_SECCTRL: Source[BatteryAggregate] = Source(
    key=SourceKey.ENSEMBLE_SECCTRL,
    path=SECCTRL_PATH,
    parse=parse_ensemble_secctrl,
    role=Role.OWNER,
    cadence=Cadence.LIVE,
    speed=Speed.FAST,
    doc="battery aggregates: state of charge and health, available, backup and total energy",
)

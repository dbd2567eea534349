"""Ensemble views: batteries, Enpower, collar, C6, dry contacts, generator state.

Battery power and SoC come from one `SiteState`, so inventory, power,
secctrl and livedata agree. Firmware 8 dropped `operating` and
`zigbee_dongle_fw_version` from the inventory; Enpower reports °F.
"""

from __future__ import annotations

from typing import Any

from ..site.writes import Controls
from .state import SiteState

__all__ = ["dry_contacts", "generator", "inventory", "power", "secctrl", "status"]


def _common(
    s: SiteState, part: str, serial: str, state: tuple[int, str], img: str
) -> dict[str, Any]:
    cfg = s.cfg
    doc: dict[str, Any] = {
        "part_num": part,
        "serial_num": serial,
        "installed": cfg.installed,
        "device_status": ["envoy.global.ok", "prop.done"],
        "last_rpt_date": s.t - 30,
        "admin_state": state[0],
        "admin_state_str": state[1],
        "created_date": cfg.installed,
        "img_load_date": cfg.installed,
        "img_pnum_running": img,
    }
    if cfg.fw.before(8):
        doc["zigbee_dongle_fw_version"] = "100B"
    return doc


def _encharge(s: SiteState) -> list[dict[str, Any]]:
    cfg = s.cfg
    out = []
    for serial, watts in zip(cfg.battery_serials(), s.unit_watts, strict=True):
        doc = _common(
            s, cfg.battery.part_number, serial, (6, "ENCHG_STATE_READY"), "3.0.6614_rel/31.13"
        )
        doc["bmu_fw_version"] = "3.8.63"
        if cfg.fw.before(8):
            doc["operating"] = True
        temp = round(22 + 8 * abs(watts) / max(1, cfg.battery.max_power_w))
        doc.update(
            {
                "communicating": True,
                "sleep_enabled": False,
                "percentFull": round(s.soc_pct),
                "temperature": temp,
                "maxCellTemp": temp + 1,
                "reported_enc_grid_state": "grid-tied" if s.on_grid else "grid-forming",
                "comm_level_sub_ghz": 5,
                "comm_level_2_4_ghz": 5,
                "led_status": 12 if watts < 0 else 14,
                "dc_switch_off": False,
                "encharge_rev": 3,
                "encharge_capacity": cfg.battery.capacity_wh,
                "phase": "ph-a",
                "der_index": 2,
            }
        )
        out.append(doc)
    return out


def _enpower(s: SiteState) -> dict[str, Any]:
    closed = s.on_grid
    doc = _common(
        s,
        "865-00378-r27",
        s.cfg.enpower_serial,
        (24, "ENPWR_STATE_OPER_CLOSED") if closed else (25, "ENPWR_STATE_OPER_OPEN"),
        "3.0.5654_rel/31.13",
    )
    if s.cfg.fw.before(8):
        doc["operating"] = True
    mode = "multimode-ongrid" if closed else "multimode-offgrid"
    doc.update(
        {
            "communicating": True,
            "temperature": round(75 + 10 * abs(s.flows.batt) / 5000),
            "comm_level_sub_ghz": 5,
            "comm_level_2_4_ghz": 5,
            "mains_admin_state": s.relay_admin,
            "mains_oper_state": s.relay_oper,
            "Enpwr_grid_mode": mode,
            "Enchg_grid_mode": mode if s.cfg.battery.count else "unknown",
            "Enpwr_relay_state_bm": 15664 if closed else 3568,
            "Enpwr_curr_state_id": 16 if closed else 17,
        }
    )
    return doc


def inventory(s: SiteState) -> list[dict[str, Any]]:
    cfg = s.cfg
    groups: list[dict[str, Any]] = []
    if cfg.battery.count or cfg.enpower or cfg.collar:
        groups.append({"type": "ENCHARGE", "devices": _encharge(s)})
    if cfg.enpower:
        groups.append({"type": "ENPOWER", "devices": [_enpower(s)]})
    if cfg.collar:
        closed = s.on_grid
        collar = _common(
            s,
            "865-00400-r22",
            f"{cfg.serial[:8]}0061",
            (88, "ENCMN_MDE_ON_GRID") if closed else (89, "ENCMN_MDE_OFF_GRID"),
            "3.0.6-D0",
        )
        collar.pop("zigbee_dongle_fw_version", None)
        collar.update(
            {
                "communicating": True,
                "temperature": 42,
                "mid_state": "close" if closed else "open",
                "grid_state": "on_grid" if closed else "off_grid",
                "control_error": 0,
                "collar_state": "Installed",
            }
        )
        groups.append({"type": "COLLAR", "devices": [collar]})
    if cfg.c6:
        cc_serial, rgm_serial = f"{cfg.serial[:8]}0071", f"{cfg.serial[:8]}0072"
        groups.append(
            {
                "type": "C6 COMBINER CONTROLLER",
                "devices": [
                    {
                        "part_num": "800-02403-r08",
                        "serial_num": cc_serial,
                        "installed": cfg.installed,
                        "last_rpt_date": s.t - 60,
                        "admin_state": 82,
                        "admin_state_str": "ENCMN_C6_CC_READY",
                        "created_date": cfg.installed,
                        "img_load_date": cfg.installed,
                        "fw_version": "0.1.20-D1",
                        "dmir_version": "0.1.20-D1",
                        "communicating": True,
                    }
                ],
            }
        )
        groups.append(
            {
                "type": "C6 RGM",
                "devices": [
                    {
                        "part_num": "800-02403-r08",
                        "serial_num": rgm_serial,
                        "installed": cfg.installed,
                        "FW Version": "2.2.1-D4119",
                        "Device State": 80,
                    }
                ],
            }
        )
    return groups


def power(s: SiteState) -> dict[str, Any]:
    devices = []
    for serial, watts in zip(s.cfg.battery_serials(), s.unit_watts, strict=True):
        mw = round(watts) * 1000
        devices.append(
            {
                "serial_num": serial,
                "real_power_mw": mw,
                "apparent_power_mva": mw,
                "soc": round(s.soc_pct),
            }
        )
    return {"devices:": devices}


def secctrl(s: SiteState) -> dict[str, Any]:
    cfg = s.cfg
    cap = cfg.battery.count * cfg.battery.capacity_wh
    acb_cap = cfg.acb.count * cfg.acb.capacity_wh
    doc: dict[str, Any] = {"shutdown": False}
    for suffix in ("", "_phaseb", "_phasec"):
        doc.update(
            {
                f"freq_bias_hz{suffix}": 0.0,
                f"voltage_bias_v{suffix}": 0.0,
                f"freq_bias_hz_q8{suffix}": 0,
                f"voltage_bias_v_q5{suffix}": 0,
            }
        )
    if cfg.fw.at_least(8, 3):
        doc["offgrid_secctrl"] = {
            "F": 0.0,
            "V": 0.0,
            "Vd_neg": 0.0,
            "Vq_neg": 0.0,
            "Vd_zero": 0.0,
            "Vq_zero": 0.0,
            "is_active": not s.on_grid,
            "is_system_balanced": True,
        }
    reserve = round(s.storage.reserved_soc) if cap else 0
    total = cap + acb_cap
    agg = round(100 * (s.soc_wh + s.acb_wh) / total) if total else 0
    doc.update(
        {
            "configured_backup_soc": reserve,
            "adjusted_backup_soc": reserve,
            "agg_soc": agg,
            "Max_energy": total,
            "ENC_agg_soc": round(s.soc_pct),
            "ENC_agg_soh": 100 if cap else 0,
            "ENC_agg_backup_energy": round(cap * reserve / 100),
            "ENC_agg_avail_energy": round(s.soc_wh),
            "Enc_commissioned_capacity": cap,
            "Enc_max_available_capacity": cap,
            "ACB_agg_soc": round(s.acb_pct),
            "ACB_agg_energy": round(s.acb_wh),
            "VLS_Limit": round(s.storage.very_low_soc),
            "soc_rec_enabled": False,
            "soc_recovery_entry": 0,
            "soc_recovery_exit": 10,
            "Commission_in_progress": False,
            "ESS_in_progress": False,
        }
    )
    return doc


def status(s: SiteState) -> dict[str, Any]:
    cfg = s.cfg
    serials: dict[str, Any] = {}
    if cfg.enpower:
        serials[cfg.enpower_serial] = {
            "device_type": 17,
            "com_interface_str": "ZigBee",
            "device_id": cfg.enpower_serial,
            "admin_state": 24,
            "admin_state_str": "ENPWR_STATE_OPER_CLOSED",
            "part_number": "861-01381-r05",
            "submodule_count": 0,
            "submodules": {},
        }
    for serial in cfg.battery_serials():
        serials[serial] = {
            "device_type": 13,
            "admin_state": 6,
            "admin_state_str": "ENCHG_STATE_READY",
            "reported_grid_mode": "grid-tied",
            "phase": 1,
            "encharge_capacity": cfg.battery.capacity_wh,
            "encharge_rated_power": cfg.battery.max_power_w,
            "part_number": cfg.battery.part_number,
            "submodule_count": 0,
            "submodules": {},
        }
    return {
        "inventory": {"serial_nums": serials},
        "counters": {"rest_StatusGet": 1, "rest_InventoryGet": 1, "rest_Power": 1},
        "secctrl": secctrl(s),
        "relay": {
            "mains_admin_state": s.relay_admin,
            "mains_oper_state": s.relay_oper,
            "der1_state": 1,
            "der2_state": 0,
            "der3_state": 0,
            "Enchg_grid_mode": "multimode-ongrid" if cfg.battery.count else "unknown",
            "Solar_grid_mode": "multimode-ongrid" if s.on_grid else "multimode-offgrid",
        },
    }


def dry_contacts(s: SiteState, c: Controls) -> dict[str, Any]:
    return {
        "dry_contacts": [{"id": cid, "status": c.contact(cid, s.t)} for cid in c.contact_status]
    }


def generator(s: SiteState, c: Controls) -> dict[str, Any]:
    cmd = c.gen_cmd()
    running = s.flows.gen > 0 or (s.cfg.generator and cmd == "on")
    sched = c.gen_schedule.get("default_soc", {}) if s.cfg.generator else {}
    return {
        "admin_state": ("closed" if cmd == "on" else "open") if s.cfg.generator else "unknown",
        "oper_state": "closed" if running else "open",
        "admin_mode": {"off": 0, "on": 1, "auto": 2}.get(cmd, 0) if s.cfg.generator else 0,
        "schedule": 1 if s.cfg.generator else 0,
        "start_soc": sched.get("start_soc", 100),
        "stop_soc": sched.get("stop_soc", -1),
        "exc_on": 0,
        "present": 1 if s.cfg.generator else 0,
        "type": 1 if s.cfg.generator else 0,
    }

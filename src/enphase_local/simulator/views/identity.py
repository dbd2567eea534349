"""Identity views: `/info` (XML), `/home`, `/inventory.json`.

`/info` is what a client reads first to learn serial, part number, firmware
and whether the gateway is metered and wants tokens (`web-tokens` from
firmware 7), so it follows the captures closely.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .state import SiteState

__all__ = ["home", "info_xml", "inventory_json"]


def _app_version(fw_parts: tuple[int, ...]) -> str:
    parts = (*fw_parts, 0, 0, 0)[:3]
    return f"{parts[0]:02d}.{parts[1]:02d}.{parts[2]:02d}"


def info_xml(s: SiteState) -> str:
    cfg = s.cfg
    fw = cfg.fw
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        "<envoy_info>",
        f"  <time>{s.t}</time>",
        "  <device>",
        f"    <sn>{cfg.serial}</sn>",
        f"    <pn>{cfg.part_number}</pn>",
        f"    <software>{cfg.firmware}</software>",
        "    <euaid>4c8675</euaid>",
        "    <seqnum>0</seqnum>",
        "    <apiver>1</apiver>",
    ]
    if fw.at_least(4):
        lines.append(f"    <imeter>{'true' if cfg.metered else 'false'}</imeter>")
    lines.append("  </device>")
    if fw.at_least(7):
        lines.append("  <web-tokens>true</web-tokens>")
    packages = (
        ("rootfs", "500-00001-r01", "02.00.00", "1211"),
        ("kernel", "500-00011-r02", "04.04.225", "08bedf"),
        ("boot", "590-00019-r01", "02.00.01", "1f421b"),
        ("app", "500-00002-r01", _app_version(fw.parts), "779a56"),
        ("devimg", "500-00005-r01", "01.02.504", "f17b8d"),
        ("geo", "500-00008-r01", "02.01.24", "a74d96"),
        ("backbone", "500-00010-r01", "07.00.20", "176d57"),
        ("meter", "500-00013-r01", "03.02.08", "8e2f03"),
        ("security", "500-00016-r01", "02.00.00", "54a6dc"),
    )
    for name, pn, version, build in packages:
        lines += [
            f"  <package name='{name}'>",
            f"    <pn>{pn}</pn>",
            f"    <version>{version}</version>",
            f"    <build>{build}</build>",
            "  </package>",
        ]
    if fw.at_least(4):
        lines += [
            "  <build_info>",
            f"    <build_id>envoy_uber-pkg:pkg-{fw.version}</build_id>",
            f"    <build_time_gmt>{cfg.installed}</build_time_gmt>",
            "  </build_info>",
        ]
    lines.append("</envoy_info>")
    return "\n".join(lines) + "\n"


def home(s: SiteState) -> dict[str, Any]:
    cfg = s.cfg
    local = datetime.fromtimestamp(s.t, ZoneInfo(cfg.timezone))
    n = cfg.inverters.count
    return {
        "software_build_epoch": cfg.installed,
        "timezone": cfg.timezone,
        "current_date": local.strftime("%m/%d/%Y"),
        "current_time": local.strftime("%H:%M"),
        "network": {
            "web_comm": True,
            "ever_reported_to_enlighten": True,
            "last_enlighten_report_time": s.t - s.t % 300,
            "primary_interface": "eth0",
            "interfaces": [
                {
                    "type": "ethernet",
                    "interface": "eth0",
                    "mac": "00:1D:C0:00:00:01",
                    "dhcp": True,
                    "ip": "192.168.1.100",
                    "signal_strength": 1,
                    "signal_strength_max": 1,
                    "carrier": True,
                }
            ],
        },
        "tariff": "single_rate",
        "comm": {
            "num": n + cfg.acb.count,
            "level": 5,
            "pcu": {"num": n, "level": 5},
            "acb": {"num": cfg.acb.count, "level": 5 if cfg.acb.count else 0},
            "nsrb": {"num": 0, "level": 0},
            "esub": {"num": 1 if cfg.enpower else 0, "level": 5 if cfg.enpower else 0},
            "encharge": [
                {
                    "num": cfg.battery.count,
                    "level": 5 if cfg.battery.count else 0,
                    "level_24g": 0,
                    "level_subg": 0,
                }
            ],
        },
        "wireless_connection": [
            {"signal_strength": 0, "signal_strength_max": 0, "type": "zigbee", "connected": True}
        ],
    }


def _device(
    s: SiteState, serial: str, part: str, dev_type: int, last: int, *, producing: bool, phase: bool
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "part_num": part,
        "installed": str(s.cfg.installed),
        "serial_num": serial,
        "device_status": ["envoy.global.ok"],
        "last_rpt_date": str(last),
        "admin_state": 1 if dev_type == 19 else 2,
        "dev_type": dev_type,
        "created_date": str(s.cfg.installed),
        "img_load_date": "0",
        "img_pnum_running": "521-00005-r06-v02.61.01",
        "ptpn": "549-00040-r01-v02.61.01",
        "chaneid": 1627390225,
        "device_control": [{"gficlearset": False}],
        "producing": producing,
        "communicating": True,
        "provisioned": True,
        "operating": True,
    }
    if phase:
        doc["phase"] = "ph-a"
    return doc


def _acb(s: SiteState, index: int, serial: str) -> dict[str, Any]:
    """One AC Battery: its sleep window as last written (a sleeper moves no power)."""
    window = s.acb_sleep.get(serial)
    moving = window is None and round(s.flows.acb) != 0
    d = _device(s, serial, "800-00930-r02", 11, s.t - 60, producing=moving, phase=False)
    d["chaneid"] = 1660944657 + 256 * index
    status = "idle"
    if moving:
        status = "discharging" if s.flows.acb > 0 else "charging"
    low, high = window if window is not None else (25, 30)
    d.update(
        {
            "sleep_enabled": window is not None,
            "percentFull": round(s.acb_pct),
            "maxCellTemp": 25,
            "sleep_min_soc": low,
            "sleep_max_soc": high,
            "charge_status": status,
        }
    )
    return d


def inventory_json(s: SiteState) -> list[dict[str, Any]]:
    cfg = s.cfg
    pcus = []
    for r in s.inverters:
        if r.active:
            d = _device(
                s,
                r.serial,
                cfg.inverters.part_number,
                cfg.inverters.dev_type,
                r.report_t,
                producing=r.watts > 0,
                phase=True,
            )
            d["chaneid"] = 1627390225 + 256 * r.index
            pcus.append(d)
    acbs = [_acb(s, i, serial) for i, serial in enumerate(cfg.acb_serials())]
    groups: list[dict[str, Any]] = [
        {"type": "PCU", "devices": pcus},
        {"type": "ACB", "devices": acbs},
        {"type": "NSRB", "devices": []},
    ]
    if cfg.enpower:
        d = _device(
            s, f"{cfg.serial[:8]}0052", "800-01855-r01", 19, s.t - 60, producing=False, phase=False
        )
        del d["provisioned"]
        groups.append({"type": "ESUB", "devices": [d]})
    return groups

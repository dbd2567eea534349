"""Production views: `/production`, `/production.json`, v1 production, inverters, device_data.

Shapes and key order follow the captures for each firmware family: HTML
before firmware 4, `lines[]` always before 7.6 and only with `?details=1`
after, inactive consumption entries without `measurementType` on 4.x.
"""

from __future__ import annotations

import math
from typing import Any

from .state import SiteState, consumption_ct, production_ct

__all__ = [
    "device_data",
    "eim_entry",
    "flow_electrics",
    "inverters_entry",
    "production_html",
    "production_json",
    "v1_inverters",
    "v1_production",
]

# Apparent and reactive energy, as fixed ratios of the active energy they belong to.
VAH, LEAD, LAG = 1.18, 0.03, 0.22


def r3(x: float) -> float:
    return round(x, 3)


def flow_electrics(p: float, volts: float) -> tuple[float, float, float, float]:
    """(reactive VAr, apparent VA, current A, power factor) for `p` W at `volts` V."""
    q = 0.12 * abs(p) + 15.0 if volts else 0.0
    s = math.hypot(p, q)
    amps = s / volts if volts else 0.0
    pf = round(p / s, 2) if s else 0.0
    return q, s, amps, pf


def _measure(
    s: SiteState,
    watts: tuple[float, ...],
    life: tuple[float, ...],
    today: tuple[float, ...],
    week: tuple[float, ...],
    *,
    net: bool,
) -> list[dict[str, Any]]:
    out = []
    for ph in range(s.cfg.phase_count):
        p, v = watts[ph], s.volts[ph]
        q, va, amps, pf = flow_electrics(p, v)
        e = life[ph]
        out.append(
            {
                "wNow": r3(p),
                "whLifetime": r3(e),
                "varhLeadLifetime": r3(abs(e) * LEAD),
                "varhLagLifetime": r3(abs(e) * LAG),
                "vahLifetime": r3(abs(e) * VAH),
                "rmsCurrent": r3(amps if p >= 0 else -amps),
                "rmsVoltage": r3(v),
                "reactPwr": r3(q),
                "apprntPwr": r3(va),
                "pwrFactor": pf,
                "whToday": 0 if net else r3(today[ph]),
                "whLastSevenDays": 0 if net else r3(week[ph]),
                "vahToday": 0 if net else r3(today[ph] * VAH),
                "varhLeadToday": 0 if net else r3(today[ph] * LEAD),
                "varhLagToday": 0 if net else r3(today[ph] * LAG),
            }
        )
    return out


def _sum_lines(lines: list[dict[str, Any]]) -> dict[str, Any]:
    agg: dict[str, Any] = {}
    for key in lines[0]:
        if key == "pwrFactor":
            s = sum(ln["apprntPwr"] for ln in lines)
            agg[key] = round(sum(ln["wNow"] for ln in lines) / s, 2) if s else 0.0
        elif isinstance(lines[0][key], int) and not isinstance(lines[0][key], bool):
            agg[key] = 0
        else:
            agg[key] = r3(sum(ln[key] for ln in lines))
    return agg


def eim_entry(s: SiteState, kind: str, *, lines: bool) -> dict[str, Any]:
    """The production.json `eim` entry for production, total- or net-consumption."""
    cfg, fl = s.cfg, s.flows
    n = cfg.phase_count
    zeros = (0.0,) * n
    if kind == "production":
        active = cfg.ct_enabled("production")
        watts, delivered, _, today, week = production_ct(s)
        data = (watts, delivered, today, week)
    else:
        active = cfg.ct_enabled("net-consumption") or cfg.ct_enabled("total-consumption")
        net_life = tuple(i - e for i, e in zip(s.energy["imp"], s.energy["exp"], strict=True))
        net = (fl.grid, net_life, zeros, zeros)
        total = consumption_ct(s)
        data = net if kind == "net-consumption" or cfg.quirks.total_equals_net_8_3_5433 else total
    if not active:
        data = (zeros, zeros, zeros, zeros)
    per = _measure(s, *data, net=kind == "net-consumption")
    head: dict[str, Any] = {"type": "eim", "activeCount": 1 if active else 0}
    if active or not (kind != "production" and cfg.fw.before(5)):
        head["measurementType"] = kind
    head["readingTime"] = s.t
    entry = {**head, **_sum_lines(per)}
    if lines:
        entry["lines"] = per
    return entry


def inverters_entry(s: SiteState) -> dict[str, Any]:
    live = [r for r in s.inverters if r.active]
    return {
        "type": "inverters",
        "activeCount": len(live),
        "readingTime": max((r.report_t for r in live), default=0),
        "wNow": sum(r.watts for r in live),
        "whLifetime": round(sum(r.lifetime_wh for r in live)),
    }


def _acb_storage(s: SiteState) -> dict[str, Any]:
    n = s.cfg.acb.count
    if not n:
        return {
            "type": "acb",
            "activeCount": 0,
            "readingTime": 0,
            "wNow": 0,
            "whNow": 0,
            "state": "idle",
        }
    w = round(s.flows.acb)
    state = "discharging" if w > 0 else "charging" if w < 0 else "idle"
    return {
        "type": "acb",
        "activeCount": n,
        "readingTime": s.t,
        "wNow": w,
        "whNow": round(s.acb_wh),
        "state": state,
        "percentFull": round(s.acb_pct),
    }


def production_json(s: SiteState, details: bool) -> dict[str, Any]:
    cfg = s.cfg
    lines = details or cfg.fw.before(7, 6)
    doc: dict[str, Any] = {"production": [inverters_entry(s)]}
    if cfg.metered:
        doc["production"].append(eim_entry(s, "production", lines=lines))
        doc["consumption"] = [
            eim_entry(s, "total-consumption", lines=lines),
            eim_entry(s, "net-consumption", lines=lines),
        ]
    doc["storage"] = [_acb_storage(s)]
    return doc


def v1_production(s: SiteState) -> dict[str, Any]:
    cfg = s.cfg
    no_ct = cfg.metered and not cfg.ct_enabled("production")
    if no_ct and not cfg.quirks.v1_production_stalled:
        return {"wattHoursToday": 0, "wattHoursSevenDays": 0, "wattHoursLifetime": 0, "wattsNow": 0}
    if cfg.metered and not no_ct:
        life, now = s.total(s.energy, "prod"), s.pv_w
    else:
        life = sum(r.lifetime_wh for r in s.inverters if r.active)
        now = sum(r.watts for r in s.inverters if r.active)
    return {
        "wattHoursToday": round(s.total(s.today, "prod")),
        "wattHoursSevenDays": round(s.total(s.week, "prod")),
        "wattHoursLifetime": round(life),
        "wattsNow": round(now),
    }


def v1_inverters(s: SiteState) -> list[dict[str, Any]]:
    with_type = s.cfg.fw.at_least(5)
    out = []
    for r in s.inverters:
        if not r.active:
            continue
        item: dict[str, Any] = {"serialNumber": r.serial, "lastReportDate": r.report_t}
        if with_type:
            item["devType"] = s.cfg.inverters.dev_type
        item["lastReportWatts"] = r.watts
        item["maxReportWatts"] = r.max_watts
        out.append(item)
    return out


def device_data(s: SiteState, limit: int = 50) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for r in s.inverters[:limit]:
        eid = 553648384 + 256 * r.index
        chan = 1627390225 + 256 * r.index
        joules_life = round(r.lifetime_wh * 3600)
        doc[str(eid)] = {
            "devName": "pcu",
            "sn": r.serial,
            "active": r.active,
            "modGone": r.gone,
            "channels": [
                {
                    "chanEid": chan,
                    "created": r.report_t,
                    "wattHours": {
                        "today": round(r.today_wh),
                        "yesterday": round(r.yesterday_wh),
                        "week": round(r.week_wh),
                    },
                    "watts": {"now": r.watts, "nowUsed": 0, "max": r.max_watts},
                    "lastReading": {
                        "eid": chan,
                        "interval_type": 0,
                        "endDate": r.report_t,
                        "duration": r.duration_s,
                        "flags": 0,
                        "flags_hex": "0x0000000000000000",
                        "joulesProduced": r.joules_last,
                        "acVoltageINmV": r.ac_mv,
                        "acFrequencyINmHz": r.hz_mhz,
                        "dcVoltageINmV": r.dc_mv,
                        "dcCurrentINmA": r.dc_ma,
                        "channelTemp": r.temp_c,
                        "pwrConvErrSecs": 0,
                        "pwrConvMaxErrCycles": 0,
                        "joulesUsed": 0,
                        "leadingVArs": 0,
                        "laggingVArs": round(r.watts * 0.1),
                        "acCurrentInmA": r.ac_ma,
                        "l1NAcVoltageInmV": 0,
                        "l2NAcVoltageInmV": 0,
                        "l3NAcVoltageInmV": 0,
                        "rssi": 110,
                        "issi": 70,
                    },
                    "lifetime": {
                        "createdTime": s.cfg.installed,
                        "duration": max(0, r.report_t - s.cfg.installed),
                        "joulesProduced": joules_life,
                    },
                }
            ],
        }
    doc["deviceCount"] = len(doc)
    doc["deviceDataLimit"] = limit
    return doc


def _fmt(value: float, unit: str) -> str:
    if value < 1000:
        return f"{int(value):5d} {unit}"
    if value < 999_500:
        return f"{value / 1000:5.3g} k{unit}"
    return f"{value / 1_000_000:5.3g} M{unit}"


def production_html(s: SiteState, since: str) -> str:
    """The legacy HTML table page (firmware before 4)."""
    now = sum(r.watts for r in s.inverters if r.active)
    life = sum(r.lifetime_wh for r in s.inverters if r.active)
    rows = (
        ("Currently", _fmt(now, "W")),
        ("Today", _fmt(s.total(s.today, "prod"), "Wh")),
        ("Past Week", _fmt(s.total(s.week, "prod"), "Wh")),
        ("Since Installation", _fmt(life, "Wh")),
    )
    cells = "".join(f"<tr><td>{k}</td>    <td>{v}</td></tr>" for k, v in rows)
    return (
        "<html>\n<head><title>production</title></head>\n<body>\n"
        "      <h1>System Energy Production</h1>\n"
        '      <div style="margin-right: auto; margin-left: auto;"><table>\n'
        '      <tr><td colspan="3">System has been live since\n'
        f"                             <div class=good>{since}</div></td></tr>\n"
        f"      {cells}\n"
        "      </table><br></div>\n</body>\n</html>\n"
    )

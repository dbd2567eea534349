"""Meter views: `/ivp/meters`, `/ivp/meters/readings`, `/ivp/meters/reports`, live data.

Every number is taken from the same `SiteState` as production.json, and
aggregates are sums of the rounded per-phase values, so a client comparing
endpoints finds them equal to the last digit. The aggregate voltage is the
*sum* of the phase voltages, as the gateway reports it.
"""

from __future__ import annotations

from typing import Any

from .production import LAG, LEAD, VAH, flow_electrics, r3
from .state import SiteState, consumption_ct, production_ct

__all__ = ["CT_EIDS", "live_meters", "livedata", "meters", "readings", "reports"]

CT_EIDS = {
    "production": 704643328,
    "net-consumption": 704643584,
    "total-consumption": 704643584,
    "storage": 704643840,
    "backfeed": 704644352,
    "load": 704644608,
    "evse": 704644864,
    "pv3p": 704645120,
}


def meters(s: SiteState) -> list[dict[str, Any]]:
    cfg = s.cfg
    out = []
    for ct in cfg.cts:
        item: dict[str, Any] = {
            "eid": CT_EIDS[ct.measurement_type],
            "state": "enabled" if ct.enabled else "disabled",
            "measurementType": ct.measurement_type,
            "phaseMode": cfg.phase_mode,
            "phaseCount": cfg.phase_count,
            "meteringStatus": "normal",
        }
        if cfg.fw.at_least(5):
            item["statusFlags"] = []
        out.append(item)
    return out


def _ct_series(
    s: SiteState, kind: str
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """(watts, delivered Wh, received Wh) per phase for one CT type."""
    fl, e, n = s.flows, s.energy, s.cfg.phase_count
    zero = (0.0,) * n
    if kind == "production":
        watts, delivered, received, _, _ = production_ct(s)
        return watts, delivered, received
    if kind == "net-consumption":
        return fl.grid, e["imp"], e["exp"]
    if kind == "total-consumption":
        watts, lifetime, _, _ = consumption_ct(s)
        return watts, lifetime, zero
    if kind == "storage":
        return (fl.batt / n,) * n, e["bout"], e["bin"]
    return zero, zero, zero


def _reading(
    s: SiteState, eid: int, watts: float, energy: tuple[float, float], volts: float
) -> dict[str, Any]:
    dlvd, rcvd = energy
    q, va, amps, pf = flow_electrics(watts, volts)
    return {
        "eid": eid,
        "timestamp": s.t,
        "actEnergyDlvd": r3(dlvd),
        "actEnergyRcvd": r3(rcvd),
        "apparentEnergy": r3((dlvd + rcvd) * VAH),
        "reactEnergyLagg": r3((dlvd + rcvd) * LAG),
        "reactEnergyLead": r3((dlvd + rcvd) * LEAD),
        "instantaneousDemand": r3(watts),
        "activePower": r3(watts),
        "apparentPower": r3(va),
        "reactivePower": r3(q),
        "pwrFactor": pf,
        "voltage": r3(volts),
        "current": r3(amps),
        "freq": r3(s.hz),
    }


def readings(s: SiteState) -> list[dict[str, Any]]:
    cfg = s.cfg
    nch = 3 if cfg.fw.at_least(7) else cfg.phase_count
    out = []
    for ct in cfg.cts:
        eid = CT_EIDS[ct.measurement_type]
        watts, dlvd, rcvd = _ct_series(s, ct.measurement_type if ct.enabled else "none")
        chans = []
        for ph in range(nch):
            chan_eid = 1778385169 + (eid - 704643328) + ph
            if ph < cfg.phase_count:
                chans.append(_reading(s, chan_eid, watts[ph], (dlvd[ph], rcvd[ph]), s.volts[ph]))
            else:
                zero = _reading(s, chan_eid, 0.0, (0.0, 0.0), 0.0)
                chans.append({**zero, "reactivePower": 0.0, "apparentPower": 0.0})
        agg = dict(chans[0])
        agg["eid"] = eid
        for key in agg:
            if key not in ("eid", "timestamp", "freq", "pwrFactor"):
                agg[key] = r3(sum(c[key] for c in chans))
        agg["pwrFactor"] = (
            round(agg["activePower"] / agg["apparentPower"], 3) if agg["apparentPower"] else 0.0
        )
        agg["channels"] = chans
        out.append(agg)
    return out


def _report_block(s: SiteState, kind: str) -> dict[str, Any]:
    watts, dlvd, rcvd = _ct_series(s, kind)
    lines = []
    for ph in range(s.cfg.phase_count):
        v = s.volts[ph]
        q, va, amps, pf = flow_electrics(watts[ph], v)
        e = dlvd[ph] + rcvd[ph]
        lines.append(
            {
                "currW": r3(watts[ph]),
                "actPower": r3(watts[ph]),
                "apprntPwr": r3(va),
                "reactPwr": r3(q),
                "whDlvdCum": r3(dlvd[ph]),
                "whRcvdCum": r3(rcvd[ph]),
                "varhLagCum": r3(e * LAG),
                "varhLeadCum": r3(e * LEAD),
                "vahCum": r3(e * VAH),
                "rmsVoltage": r3(v),
                "rmsCurrent": r3(amps),
                "pwrFactor": pf,
                "freqHz": round(s.hz, 2),
            }
        )
    cum = {k: r3(sum(ln[k] for ln in lines)) for k in lines[0]}
    cum["freqHz"] = round(s.hz, 2)
    cum["pwrFactor"] = round(cum["actPower"] / cum["apprntPwr"], 2) if cum["apprntPwr"] else 0.0
    return {"createdAt": s.t, "reportType": kind, "cumulative": cum, "lines": lines}


def reports(s: SiteState) -> list[dict[str, Any]]:
    total_kind = (
        "net-consumption" if s.cfg.quirks.total_equals_net_8_3_5433 else "total-consumption"
    )
    out = [_report_block(s, "production"), _report_block(s, "net-consumption")]
    total = _report_block(s, total_kind)
    total["reportType"] = "total-consumption"
    out.append(total)
    return out


def _mw_block(per_phase: tuple[float, ...], volts: tuple[float, ...]) -> dict[str, int]:
    ph = [round(p * 1000) for p in per_phase] + [0] * (3 - len(per_phase))
    va = [
        round(flow_electrics(p, v)[1] * 1000) if p else 0
        for p, v in zip(per_phase, volts, strict=True)
    ]
    va += [0] * (3 - len(va))
    return {
        "agg_p_mw": sum(ph),
        "agg_s_mva": sum(va),
        "agg_p_ph_a_mw": ph[0],
        "agg_p_ph_b_mw": ph[1],
        "agg_p_ph_c_mw": ph[2],
        "agg_s_ph_a_mva": va[0],
        "agg_s_ph_b_mva": va[1],
        "agg_s_ph_c_mva": va[2],
    }


def live_meters(s: SiteState) -> dict[str, Any]:
    """The ``meters`` block of live data: every flow per phase, in milliwatts.

    pv is PV only; storage is every battery together (Encharge and AC Battery,
    positive discharging); so per phase pv + grid + storage + generator = load,
    to the milliwatt before rounding.
    """
    cfg, fl = s.cfg, s.flows
    n = cfg.phase_count
    batt = tuple((fl.batt + fl.acb) / n for _ in range(n))
    gen = tuple(fl.gen / n for _ in range(n))
    return {
        "last_update": s.t,
        "soc": round(s.soc_pct),
        "main_relay_state": 1 if s.on_grid else 0,
        "gen_relay_state": 1 if fl.gen > 0 else 5,
        "backup_bat_mode": 1,
        "backup_soc": round(s.storage.reserved_soc),
        "is_split_phase": 1 if cfg.phase_mode == "split" else 0,
        "phase_count": n,
        "enc_agg_soc": round(s.soc_pct),
        "enc_agg_energy": round(s.soc_wh),
        "acb_agg_soc": round(s.acb_pct),
        "acb_agg_energy": round(s.acb_wh),
        "pv": _mw_block(fl.pv, s.volts),
        "storage": _mw_block(batt, s.volts),
        "grid": _mw_block(fl.grid, s.volts),
        "load": _mw_block(fl.load, s.volts),
        "generator": _mw_block(gen, s.volts),
    }


_NOT_STREAMING = (
    "Last available status data shown. Live stream not enabled. "
    "Enable using /ivp/livedata/stream/ API"
)


def livedata(
    s: SiteState, contacts: dict[str, str], meters: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``/ivp/livedata/status``; `meters` is the block to show (the last live one when off)."""
    doc: dict[str, Any] = {} if s.live_stream else {"info": _NOT_STREAMING}
    doc.update(
        {
            "connection": {
                "mqtt_state": "connected",
                "prov_state": "configured",
                "auth_state": "ok",
                "sc_stream": "enabled" if s.live_stream else "disabled",
                "sc_debug": "disabled",
            },
            "meters": meters if meters is not None else live_meters(s),
            "tasks": {"task_id": -1123938547, "timestamp": s.t},
            "counters": {"main_CfgLoad": 1, "main_CfgChanged": 1, "main_taskUpdate": 101},
            "dry_contacts": {
                cid: {
                    "dry_contact_id": cid,
                    "dry_contact_type": "NONE",
                    "dry_contact_load_name": "",
                    "dry_contact_status": 0 if status == "open" else 1,
                }
                for cid, status in contacts.items()
            },
        }
    )
    return doc

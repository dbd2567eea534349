"""Storage controller views: ``/ivp/sc/sched`` and ``/ivp/sc/status``, from the site state.

Consistent with the rest of the site: "Charge From Grid Allowed" is the
charge-from-grid setting *in effect* (`SiteState.storage`, the tariff's
value once a cloud overwrite or an ignored write has had its say), the
aggregate SoC is the one secctrl and livedata report, and the scheduler's
mode and the ENC setpoint follow what the batteries do at that instant.
Shapes as captured on D8.3.6086 (cloud.md, gateway.md section 3).
"""

from __future__ import annotations

from typing import Any

from .state import SiteState

__all__ = ["MODE_KEYS", "sched", "status"]

MODE_KEYS = (
    "ID - Idle",
    "ZN - Zero Net",
    "CG - Charge From Grid",
    "DG - Discharge to Grid",
    "ND - No Discharge",
    "DL - Discharge to Load",
    "CP - Charge From PV",
    "HEMS Discharge",
    "HEMS Charge",
    "FCR - Charge or discharge",
    "HEMS Charge from Grid",
)
_IDLE, _CHARGE_FROM_GRID, _DISCHARGE_TO_LOAD, _CHARGE_FROM_PV = 0, 2, 5, 6
_QUIET_W = 20.0  # below this the bank is idle, as far as the scheduler says


def _mode(s: SiteState) -> int:
    """The scheduler mode index at this instant, from the batteries' power."""
    batt = s.flows.batt
    if batt > _QUIET_W:
        return _DISCHARGE_TO_LOAD
    if batt < -_QUIET_W:
        from_grid = s.storage.charge_from_grid and s.pv_w < -batt
        return _CHARGE_FROM_GRID if from_grid else _CHARGE_FROM_PV
    return _IDLE


def sched(s: SiteState) -> dict[str, Any]:
    """``/ivp/sc/sched``: scheduler mode, charge from grid in effect, aggregate energies."""
    cfg = s.cfg
    cap = float(cfg.battery.count * cfg.battery.capacity_wh)
    return {
        "acb_current_mode": _mode(s),
        "ENC_agg_soc": round(s.soc_pct),
        "Charge From Grid Allowed": s.storage.charge_from_grid,
        "Force Discharge": False,
        "Agg Backup Energy": round(cap * s.storage.reserved_soc / 100),
        "Agg VLS Energy": round(cap * 0.1),  # the very-low-SoC shutdown floor, 10 %
        "max_energy": round(cap),
        "sched_mode_key": list(MODE_KEYS),
    }


def status(s: SiteState) -> dict[str, Any]:
    """``/ivp/sc/status``: events and the setpoint per device group (ENC -100: full charge)."""
    cfg = s.cfg
    max_w = float(cfg.battery.count * cfg.battery.max_power_w)
    enc = round(100 * s.flows.batt / max_w) if max_w else 0
    groups: list[dict[str, Any]] = [
        {"id": "ENC", "setpoint_val": max(-100, min(100, enc))},
        {"id": "PV", "setpoint_val": 100},
    ]
    if cfg.acb.count:
        groups.append({"id": "ACB", "setpoint_val": 0})
    return {
        "nameplate": {"ENC": max_w, "PV": float(sum(i.max_watts for i in s.inverters))},
        "events": [],
        "profile": {"phase_rules": []},
        "response": {"groups": groups},
    }

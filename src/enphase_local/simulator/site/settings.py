"""Settings documents: tariff, dry-contact settings, generator, AC Battery sleep, export limit.

The default documents follow the captures' shapes and key order for the
site's firmware; after a write the stored document is served as it was sent
(see `writes.py`), so keys the simulator does not model survive untouched.
"""

from __future__ import annotations

from typing import Any

from .config import SiteConfig

__all__ = [
    "default_dry_contact_settings",
    "default_gen_docs",
    "default_tariff",
    "render_acb_config",
    "render_pel_settings",
    "render_pvlimit",
]

_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


def _storage_settings(cfg: SiteConfig, date: str) -> dict[str, Any]:
    st = cfg.storage
    doc: dict[str, Any] = {
        "mode": st.mode,
        "operation_mode_sub_type": "",
        "reserved_soc": float(st.reserved_soc),
        "very_low_soc": st.very_low_soc,
        "charge_from_grid": st.charge_from_grid,
        "date": date,
    }
    if st.opt_schedules is not None:
        doc["opt_schedules"] = st.opt_schedules
    return doc


def default_tariff(cfg: SiteConfig) -> dict[str, Any]:
    """`/admin/lib/tariff` as the site answers it before any write."""
    date = str(cfg.installed)
    day_sched = [{"start": 0, "duration": 1440, "setting": "ID"}]
    if not cfg.fw.at_least(7):
        return {
            "tariff": {
                "currency": {"code": "USD"},
                "single_rate": {"rate": 0.0, "sell": 0.0},
                "seasons": [],
                "seasons_sell": [],
            },
            "schedule": {
                "source": "Tariff",
                "date": "2023-08-10 17:59:03 UTC",
                "version": "00.00.02",
            },
        }
    st = cfg.storage
    schedule: dict[str, Any] = {
        "filename": "Tariff",
        "source": "Tariff",
        "date": "2024-03-06 22:58:46 UTC",
        "version": "00.00.02",
        "reserved_soc": float(st.reserved_soc),
        "very_low_soc": st.very_low_soc,
        "charge_from_grid": st.charge_from_grid,
        "batt_mode": st.mode,
        "battery_mode": st.mode,
        "operation_mode_sub_type": "",
    }
    if st.opt_schedules is not None:
        schedule["opt_schedules"] = st.opt_schedules
    schedule.update(
        {
            "override": False,
            "override_backup_soc": 30.0,
            "override_chg_dischg_rate": 0.0,
            "override_tou_mode": "StorageTouMode_DEFAULT_TOU_MODE",
            "schedule": {"Disable": [{d: list(day_sched)} for d in _DAYS]},
        }
    )
    season = {
        "id": "all_year",
        "start": "1/1",
        "days": [
            {
                "id": "all_days",
                "days": "Mon,Tue,Wed,Thu,Fri,Sat,Sun",
                "must_charge_start": 0,
                "must_charge_duration": 0,
                "must_charge_mode": "CG",
                "peak_rule": "DL",
                "enable_discharge_to_grid": False,
                "periods": [{"id": "period_1", "start": 0, "rate": 0.1415420025587082}],
            }
        ],
        "tiers": [],
    }
    return {
        "tariff": {
            "currency": {"code": "USD"},
            "logger": "mylogger",
            "date": date,
            "storage_settings": _storage_settings(cfg, date),
            "single_rate": {"rate": 0.1415420025587082, "sell": 0.02019999921321869},
            "seasons": [season],
            "seasons_sell": [],
        },
        "schedule": schedule,
    }


def default_dry_contact_settings(cfg: SiteConfig) -> list[dict[str, Any]]:
    """Four contacts as Enpower firmware lists them (8.x adds the essential-window keys)."""
    out = []
    for i, cid in enumerate(("NC1", "NC2", "NO1", "NO2")):
        doc: dict[str, Any] = {
            "id": cid,
            "type": "LOAD" if i == 0 else "NONE",
            "grid_action": "apply" if i == 0 else "none",
            "micro_grid_action": "shed" if i == 0 else "none",
            "gen_action": "apply" if i == 0 else "none",
        }
        if cfg.fw.at_least(8):
            doc.update(
                {
                    "essential_start_time": 32400.0,
                    "essential_end_time": 57600.0,
                    "priority": float(i + 1),
                    "black_s_start": 5.0,
                }
            )
        doc["override"] = "true" if i == 0 else "false"
        if cfg.fw.at_least(8):
            doc["manual_override"] = "true"
        doc.update(
            {
                "load_name": "Water heater" if i == 0 else "",
                "mode": "manual",
                "soc_low": 30.0,
                "soc_high": 70.0,
                "pv_serial_nb": [],
            }
        )
        out.append(doc)
    return out


def default_gen_docs(cfg: SiteConfig) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(gen_mode, gen_schedule, gen_config); all `{}` without a generator."""
    if not cfg.generator:
        return {"gen_cmd": "off", "last_updated_by": ""}, {}, {}
    mode = {"gen_cmd": "auto", "last_updated_by": "ITK"}
    schedule = {
        "exercise_config": {"freq_in_weeks": 3, "start": 945, "duration": 20, "day": "Sat"},
        "default_soc": {"start_soc": 30, "stop_soc": 70},
        "schedule": {
            "default": [
                {
                    "id": "always_on",
                    "start": "1/1",
                    "end": "12/31",
                    "days": [
                        {
                            "id": "all_days",
                            "week_days": "Mon,Tue,Wed,Thu,Fri,Sat,Sun",
                            "periods": [
                                {
                                    "id": "normal_1",
                                    "start": 0.0,
                                    "duration": 1440.0,
                                    "start_soc": 100.0,
                                    "stop_soc": -1.0,
                                    "setting": "AON",
                                }
                            ],
                        }
                    ],
                }
            ]
        },
        "last_updated_by": "ITK",
    }
    config = {
        "max_cont_gen_amps": 60.0,
        "min_gen_loading_perc": 5,
        "max_gen_efficiency_perc": 100,
        "name_plate_rating_wat": round(cfg.generator_rating_w / 1000, 1),
        "start_method": "auto",
        "warm_up_mins": 5,
        "cool_down_mins": 5,
        "gen_type": "Standby",
        "model": "G007042-3, G007043-3 (22kW)",
        "manufacturer": "Generac",
        "last_updated_by": "ITK",
        "generator_id": f"30{cfg.serial[-8:]}",
        "charge_from_generator": True,
    }
    return mode, schedule, config


def render_acb_config(sleep: dict[str, tuple[int, int]]) -> dict[str, Any]:
    return {
        "acb_sleep": [
            {"serial_num": s, "sleep_min_soc": lo, "sleep_max_soc": hi}
            for s, (lo, hi) in sleep.items()
        ]
    }


def render_pel_settings(cfg: SiteConfig) -> dict[str, Any]:
    if not cfg.has_ensemble:
        return {"PEL": False}
    return {
        "PEL": False,
        "Hard_PEL": False,
        "Soft_PEL": False,
        "Export_Limit_Type": "Aggregate",
        "percent": False,
        "apparent": False,
        "PEL_Limit": 0.0,
        "Comm_Time_Loss": 0.0,
        "Resp_Time_SoftPEL": 0.0,
        "Resp_Time_HardPEL": 0.0,
        "msReset_HardPEL": 0.0,
        "PEL_db": 0.0,
    }


def render_pvlimit() -> dict[str, Any]:
    return {"enable": False, "pv_limit_pct": 100}

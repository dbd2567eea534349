"""The site's readings: power, energy counters, per-phase flows, battery totals, freshness.

Ids are this project's; `core_unique_id` names the entity Home Assistant's core
``enphase_envoy`` integration makes for the same value, so a user can take over
its history. Units are the engine's (W, Wh, %, s); Home Assistant converts for
display (`precision` is the display precision in that unit).
"""

from __future__ import annotations

from typing import Any

from ..models.battery import AcbState
from .model import Category, Feature, Kind, Readings, Scope, Source
from .read import item, live, live_phase, snap

__all__ = ["ENERGY_FLOWS", "SITE_SENSORS"]

W, WH = "W", "Wh"
_POWER: dict[str, Any] = {
    "unit": W,
    "device_class": "power",
    "state_class": "measurement",
    "precision": 0,
}
_COUNTER: dict[str, Any] = {
    "unit": WH,
    "device_class": "energy",
    "state_class": "total_increasing",
    "precision": 0,
}
_STORED: dict[str, Any] = {
    "unit": WH,
    "device_class": "energy_storage",
    "state_class": "measurement",
}
_SOC: dict[str, Any] = {
    "unit": "%",
    "device_class": "battery",
    "state_class": "measurement",
    "precision": 0,
}


def _power(fid: str, name: str, path: str, core: str | None = None, **kw: Any) -> Feature:
    return Feature(fid, name, Kind.SENSOR, snap(path), core_unique_id=core, **(_POWER | kw))


def _counter(fid: str, name: str, path: str, core: str | None = None, **kw: Any) -> Feature:
    return Feature(fid, name, Kind.SENSOR, snap(path), core_unique_id=core, **(_COUNTER | kw))


def _flow_readings(flow: str, label: str, core: str, core_power: str) -> list[Feature]:
    """Power and the three counters of production.json's flow, as the core integration has."""
    return [
        _power(f"{flow}_power", f"{label} power", f"{flow}.watts", f"{{serial}}_{core_power}"),
        _counter(f"{flow}_today", f"{label} today", f"{flow}.wh_today", f"{{serial}}_daily_{core}"),
        Feature(
            f"{flow}_last_7_days",
            f"{label} last 7 days",
            Kind.SENSOR,
            snap(f"{flow}.wh_last_7_days"),
            unit=WH,
            device_class="energy",
            precision=0,
            core_unique_id=f"{{serial}}_seven_days_{core}",
        ),
        _counter(
            f"{flow}_lifetime",
            f"{label} lifetime",
            f"{flow}.wh_lifetime",
            f"{{serial}}_lifetime_{core}",
        ),
    ]


def _phase_readings(flow: str, label: str, core: str, core_power: str) -> list[Feature]:
    """The same four per phase (disabled by default, like the core integration's)."""
    common: dict[str, Any] = {"scope": Scope.PHASE, "enabled_by_default": False}
    return [
        Feature(
            f"{flow}_power_phase",
            f"{label} power",
            Kind.SENSOR,
            item("phases", f"{flow}.watts"),
            core_unique_id=f"{{serial}}_{core_power}_{{phase}}",
            **(_POWER | common),
        ),
        Feature(
            f"{flow}_today_phase",
            f"{label} today",
            Kind.SENSOR,
            item("phases", f"{flow}.wh_today"),
            core_unique_id=f"{{serial}}_daily_{core}_{{phase}}",
            **(_COUNTER | common),
        ),
        Feature(
            f"{flow}_lifetime_phase",
            f"{label} lifetime",
            Kind.SENSOR,
            item("phases", f"{flow}.wh_lifetime"),
            core_unique_id=f"{{serial}}_lifetime_{core}_{{phase}}",
            **(_COUNTER | common),
        ),
    ]


ENERGY_FLOWS = (
    ("solar", "Solar"),
    ("house", "House"),
    ("grid_import", "Grid import"),
    ("grid_export", "Grid export"),
    ("battery_charge", "Battery charge"),
    ("battery_discharge", "Battery discharge"),
    ("generator", "Generator"),
)
"""The flows of ``Snapshot.energy`` (``lifetime_wh`` and ``today_wh`` each): the six of
issue 23, and the generator's; each one the site has is counted by a CT or derived (the
snapshot's ``energy.derived`` names those)."""


def _derived(flow: str) -> Any:
    """``{"derived": bool}``: whether the engine derived this flow rather than a CT counting it."""

    def attributes(r: Readings, _key: str) -> dict[str, Any]:
        derived = getattr(getattr(r.snapshot, "energy", None), "derived", None)
        return {} if derived is None else {"derived": flow in derived}

    return attributes


def _energy() -> list[Feature]:
    out: list[Feature] = []
    for flow, label in ENERGY_FLOWS:
        out.append(
            _counter(
                f"energy_{flow}_lifetime",
                f"{label} energy",
                f"energy.lifetime_wh.{flow}",
                attributes=_derived(flow),
                doc="the engine's honest counter (engine/counters.py), derived where marked",
            )
        )
        out.append(
            _counter(
                f"energy_{flow}_today",
                f"{label} energy today",
                f"energy.today_wh.{flow}",
                attributes=_derived(flow),
            )
        )
    return out


def _live_power(flow: str, label: str, icon: str) -> Feature:
    return Feature(
        f"live_{flow}_power",
        f"Live {label} power",
        Kind.SENSOR,
        live(f"{flow}_watts"),
        source=Source.LIVE,
        icon=icon,
        doc="balanced flows (engine/balance.py): grid + imports, battery + discharges",
        **_POWER,
    )


def _live_phase(flow: str, label: str) -> Feature:
    return Feature(
        f"live_{flow}_power_phase",
        f"Live {label} power",
        Kind.SENSOR,
        live_phase(f"{flow}_watts"),
        scope=Scope.PHASE,
        source=Source.LIVE,
        enabled_by_default=False,
        **_POWER,
    )


def _data_age(r: Readings, _key: str) -> float | None:
    fresh = r.snapshot.freshness
    if not fresh:
        return None
    return round(max(0.0, r.snapshot.taken_at - min(fresh.values())), 1)


def _token_days(r: Readings, _key: str) -> float | None:
    if r.token_expires_at is None or r.now is None:
        return None
    return round((r.token_expires_at - r.now) / 86400.0, 1)


def _errors(r: Readings, _key: str) -> int:
    return len(r.snapshot.errors)


def _has_acb(r: Readings, _key: str) -> bool:
    return r.snapshot.acb is not None and r.snapshot.acb.count > 0


_DIAG: dict[str, Any] = {"category": Category.DIAGNOSTIC}

SITE_SENSORS: tuple[Feature, ...] = (
    *_flow_readings("production", "Production", "production", "production"),
    *_flow_readings("consumption", "Consumption", "consumption", "consumption"),
    _power("net_consumption_power", "Net consumption power", "net_consumption.watts"),
    *_phase_readings("production", "Production", "production", "production"),
    *_phase_readings("consumption", "Consumption", "consumption", "consumption"),
    _live_power("solar", "solar", "mdi:solar-power"),
    _live_power("house", "house", "mdi:home-lightning-bolt"),
    _live_power("grid", "grid", "mdi:transmission-tower"),
    _live_power("battery", "battery", "mdi:home-battery"),
    _live_power("generator", "generator", "mdi:engine"),
    _live_phase("solar", "solar"),
    _live_phase("house", "house"),
    _live_phase("grid", "grid"),
    _live_phase("battery", "battery"),
    *_energy(),
    Feature(
        "battery_level",
        "Battery",
        Kind.SENSOR,
        snap("battery.soc_percent"),
        core_unique_id="{serial}_battery_level",
        **_SOC,
    ),
    Feature(
        "battery_reserve_level",
        "Battery reserve",
        Kind.SENSOR,
        snap("battery.reserve_soc_percent"),
        core_unique_id="{serial}_reserve_soc",
        **_SOC,
    ),
    Feature(
        "battery_available_energy",
        "Battery available energy",
        Kind.SENSOR,
        snap("battery.available_wh"),
        core_unique_id="{serial}_available_energy",
        precision=0,
        **_STORED,
    ),
    Feature(
        "battery_capacity",
        "Battery capacity",
        Kind.SENSOR,
        snap("battery.capacity_wh"),
        core_unique_id="{serial}_max_capacity",
        precision=0,
        **_STORED,
    ),
    Feature(
        "battery_reserve_energy",
        "Battery reserve energy",
        Kind.SENSOR,
        snap("battery.reserve_wh"),
        core_unique_id="{serial}_reserve_energy",
        precision=0,
        doc="energy kept for outages (secctrl ENC_agg_backup_energy)",
        **_STORED,
    ),
    _power("acb_power", "AC Battery power", "acb.watts", "{serial}_acb_power"),
    Feature(
        "acb_level",
        "AC Battery",
        Kind.SENSOR,
        snap("acb.soc_percent"),
        exists=_has_acb,
        core_unique_id="{serial}_acb_soc",
        **_SOC,
    ),
    Feature(
        "acb_state",
        "AC Battery state",
        Kind.SENSOR,
        snap("acb.state"),
        exists=_has_acb,
        device_class="enum",
        options=tuple(m.value for m in AcbState),
        core_unique_id="{serial}_acb_battery_state",
    ),
    Feature(
        "acb_available_energy",
        "AC Battery available energy",
        Kind.SENSOR,
        snap("acb.wh_now"),
        exists=_has_acb,
        precision=0,
        core_unique_id="{serial}_acb_available_energy",
        **_STORED,
    ),
    Feature(
        "firmware",
        "Firmware",
        Kind.SENSOR,
        snap("gateway.firmware"),
        icon="mdi:chip",
        doc="the gateway's firmware as it reports it (D8.2.4345): what the quirks depend on",
        **_DIAG,
    ),
    Feature(
        "last_update",
        "Last update",
        Kind.SENSOR,
        lambda r, _k: r.snapshot.taken_at,
        device_class="timestamp",
        **_DIAG,
    ),
    Feature(
        "data_age",
        "Data age",
        Kind.SENSOR,
        _data_age,
        unit="s",
        device_class="duration",
        state_class="measurement",
        precision=0,
        doc="taken_at minus the oldest section freshness: how stale the least fresh part is",
        **_DIAG,
    ),
    Feature(
        "section_freshness",
        "Fresh until",
        Kind.SENSOR,
        lambda r, key: r.snapshot.freshness.get(key),
        scope=Scope.SECTION,
        device_class="timestamp",
        enabled_by_default=False,
        **_DIAG,
    ),
    Feature(
        "errors",
        "Sections failing",
        Kind.SENSOR,
        _errors,
        state_class="measurement",
        icon="mdi:alert-circle-outline",
        **_DIAG,
    ),
    Feature(
        "token_days_left",
        "Token days left",
        Kind.SENSOR,
        _token_days,
        source=Source.SESSION,
        unit="d",
        device_class="duration",
        state_class="measurement",
        precision=1,
        icon="mdi:key-chain",
        **_DIAG,
    ),
)

"""The snapshot: everything one update knows, and its JSON contract (schema 1).

`Snapshot` holds the typed models; `Snapshot.to_dict()` gives the documented
contract of docs/json-contract.md, written out field by field here rather
than derived from the models, so that an internal rename can never silently
change what scripts read. Adding fields is fine; renaming or removing one
needs a new `SCHEMA`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._base import Model, to_plain
from .battery import AcbSummary, BatterySummary
from .battery_settings import BatterySettings
from .dry_contacts import DryContact
from .energy import EnergyReading, PhaseReadings
from .energy_flows import SiteEnergy
from .ensemble import C6Combiner, Collar, Enpower
from .export_limit import ExportLimit
from .generator import GeneratorConfig, GeneratorMode, GeneratorSchedule, GeneratorState
from .inverters import Inverter, InverterDetail
from .live import LiveData
from .live_frame import LiveFrame
from .meters import Meter
from .settings import PowerExportLimit
from .tariff import Tariff

__all__ = ["SCHEMA", "GatewaySummary", "Generator", "InverterView", "Snapshot"]

SCHEMA = 1


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class GatewaySummary(Model):
    """Who answered: the gateway's identity and how we talk to it."""

    host: str
    serial: str
    part_number: str | None
    firmware: str
    metered: bool
    auth: str  # "token", "digest" or "none"
    role: str | None = None  # "owner", "installer" or None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class InverterView(Model):
    """One microinverter: the basic report, and the detailed data when the gateway has it."""

    serial: str
    watts: float
    max_watts: float
    last_report: int
    detail: InverterDetail | None = None

    @classmethod
    def of(cls, basic: Inverter | None, detail: InverterDetail | None) -> InverterView:
        if detail is not None:
            return cls(detail.serial, detail.watts, detail.max_watts, detail.last_report, detail)
        assert basic is not None
        return cls(basic.serial, basic.watts, basic.max_watts, basic.last_report, None)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Generator(Model):
    """Generator state with its mode, configuration and exercise schedule (each may be absent)."""

    state: GeneratorState | None
    mode: GeneratorMode | None
    config: GeneratorConfig | None
    schedule: GeneratorSchedule | None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Snapshot(Model):
    """One complete, typed view of the gateway (see docs/json-contract.md)."""

    taken_at: float
    gateway: GatewaySummary
    production: EnergyReading | None = None
    consumption: EnergyReading | None = None
    net_consumption: EnergyReading | None = None
    phases: Mapping[str, PhaseReadings] = field(default_factory=dict)
    meters: Mapping[str, Meter] = field(default_factory=dict)
    inverters: Mapping[str, InverterView] = field(default_factory=dict)
    battery: BatterySummary | None = None
    acb: AcbSummary | None = None
    enpower: Enpower | None = None
    collar: Collar | None = None
    c6cc: C6Combiner | None = None
    generator: Generator | None = None
    dry_contacts: Mapping[str, DryContact] = field(default_factory=dict)
    tariff: Tariff | None = None
    battery_settings: BatterySettings | None = None  # in effect (engine.battery_settings)
    live: LiveData | None = None
    power_flow: LiveFrame | None = None  # balanced power flows (engine.balance)
    power_export_limit: PowerExportLimit | None = None
    export_limit: ExportLimit | None = None  # dynamic export limit and production switch
    freshness: Mapping[str, float] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    energy: SiteEnergy | None = None  # the six flows, today and lifetime (engine.energy)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract, schema 1: plain JSON types only."""
        return {
            "schema": SCHEMA,
            "taken_at": self.taken_at,
            "gateway": self.gateway.to_dict(),
            "production": _flow(self.production),
            "consumption": _flow(self.consumption),
            "net_consumption": _flow(self.net_consumption),
            "phases": {
                name: {
                    "production": _flow(p.production),
                    "consumption": _flow(p.consumption),
                    "net_consumption": _flow(p.net_consumption),
                }
                for name, p in self.phases.items()
            },
            "meters": {key: _meter(m) for key, m in self.meters.items()},
            "inverters": {serial: _inverter(i) for serial, i in self.inverters.items()},
            "battery": _battery(self.battery),
            "acb": to_plain(self.acb),
            "enpower": to_plain(self.enpower),
            "collar": to_plain(self.collar),
            "c6cc": to_plain(self.c6cc),
            "generator": _generator(self.generator),
            "dry_contacts": {cid: _contact(c) for cid, c in self.dry_contacts.items()},
            "tariff": to_plain(self.tariff),
            "battery_settings": to_plain(self.battery_settings),
            "live": to_plain(self.live),
            "power_flow": None if self.power_flow is None else self.power_flow.to_dict(),
            "power_export_limit": to_plain(self.power_export_limit),
            "export_limit": to_plain(self.export_limit),
            "energy": None if self.energy is None else self.energy.to_dict(),
            "freshness": dict(self.freshness),
            "errors": dict(self.errors),
            "warnings": list(self.warnings),
        }


def _flow(reading: EnergyReading | None) -> dict[str, Any] | None:
    return None if reading is None else reading.to_dict()


_METER_FIELDS = ("watts", "wh_delivered", "wh_received", "volts", "amps", "hz", "power_factor")


def _meter(meter: Meter) -> dict[str, Any]:
    cfg, reading = meter.config, meter.reading
    out: dict[str, Any] = {
        "eid": cfg.eid,
        "state": cfg.state.value,
        "status": cfg.metering_status.value,
        "flags": list(cfg.status_flags),
        "phase_mode": cfg.phase_mode.value,
        "phase_count": cfg.phase_count,
    }
    out.update({name: getattr(reading, name) if reading else None for name in _METER_FIELDS})
    out["phases"] = (
        {ch.phase: {name: getattr(ch, name) for name in _METER_FIELDS} for ch in reading.channels}
        if reading
        else {}
    )
    return out


_DETAIL_FIELDS = (
    "dc_volts",
    "dc_amps",
    "ac_volts",
    "ac_amps",
    "hz",
    "temperature_c",
    "wh_today",
    "wh_yesterday",
    "wh_last_7_days",
    "wh_lifetime",
    "rssi",
    "issi",
)


def _inverter(inv: InverterView) -> dict[str, Any]:
    out: dict[str, Any] = {
        "watts": inv.watts,
        "max_watts": inv.max_watts,
        "last_report": inv.last_report,
    }
    detail = inv.detail
    out.update({name: getattr(detail, name) if detail else None for name in _DETAIL_FIELDS})
    return out


def _battery(battery: BatterySummary | None) -> dict[str, Any] | None:
    return None if battery is None else battery.to_dict()


def _generator(gen: Generator | None) -> dict[str, Any] | None:
    if gen is None:
        return None
    state, mode, config, schedule = gen.state, gen.mode, gen.config, gen.schedule
    exercise = None
    if schedule is not None:
        exercise = {
            "day": to_plain(schedule.day),
            "start_minute": schedule.start_minute,
            "duration_minutes": schedule.duration_minutes,
            "freq_in_weeks": schedule.freq_in_weeks,
        }
    return {
        "present": state.present if state else config is not None,
        "admin_state": to_plain(state.admin_state) if state else None,
        "oper_state": to_plain(state.oper_state) if state else None,
        "mode": to_plain(mode.mode) if mode else None,
        "start_soc_percent": state.start_soc_percent if state else None,
        "stop_soc_percent": state.stop_soc_percent if state else None,
        "charge_from_generator": config.charge_from_generator if config else None,
        "exercise": exercise,
        "manufacturer": config.manufacturer if config else None,
        "model": config.model if config else None,
        "rating_kw": config.rating_kw if config else None,
    }


def _contact(contact: DryContact) -> dict[str, Any]:
    s = contact.settings
    return {
        "status": contact.status.value,
        "type": to_plain(s.type) if s else None,
        "load_name": s.load_name if s else None,
        "mode": to_plain(s.mode) if s else None,
        "grid_action": to_plain(s.grid_action) if s else None,
        "micro_grid_action": to_plain(s.micro_grid_action) if s else None,
        "gen_action": to_plain(s.gen_action) if s else None,
        "soc_low": s.soc_low if s else None,
        "soc_high": s.soc_high if s else None,
    }

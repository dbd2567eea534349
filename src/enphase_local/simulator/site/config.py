"""What a simulated site *is*: its hardware, firmware, settings and quirks.

A `SiteConfig` is a plain, frozen description; the physics (`physics.py`)
and the views (`views/`) read it, nothing writes it. Sites come from
`presets.PRESETS` or from a TOML / JSON file through `load.load_site`.
`validate_site` (run by `SiteConfig.__post_init__`) checks every value and
names the bad field, so a typo in a demo config fails at start-up instead of
as a strange body an hour later.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from enphase_local.firmware import Firmware

__all__ = [
    "CT",
    "CT_TYPES",
    "STORAGE_MODES",
    "AcbConfig",
    "BatteryConfig",
    "Counters",
    "InverterConfig",
    "LoadConfig",
    "Quirks",
    "SiteConfig",
    "StorageSettings",
    "site_error",
    "validate_site",
]


@dataclass(frozen=True, slots=True)
class InverterConfig:
    """Microinverters: all alike, each reporting every `report_interval_s`."""

    count: int = 12
    rating_w: int = 290
    part_number: str = "800-01331-r02"
    serial_prefix: str = "4822089900"
    dev_type: int = 1
    report_interval_s: int = 300


@dataclass(frozen=True, slots=True)
class CT:
    """One current transformer as `/ivp/meters` lists it."""

    measurement_type: str
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class BatteryConfig:
    """Encharge / IQ Battery units (capacity and power per unit)."""

    count: int = 0
    capacity_wh: int = 3360
    max_power_w: int = 1280
    part_number: str = "836-01826-r76"
    initial_soc: float = 60.0


@dataclass(frozen=True, slots=True)
class AcbConfig:
    """AC Batteries (the older 1.2 kWh units in production.json `storage`)."""

    count: int = 0
    capacity_wh: int = 1240
    max_power_w: int = 270
    initial_soc: float = 50.0


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """The storage part of `/admin/lib/tariff` at start."""

    mode: str = "self-consumption"
    reserved_soc: float = 20.0
    very_low_soc: int = 10
    charge_from_grid: bool = False
    opt_schedules: bool | None = None


@dataclass(frozen=True, slots=True)
class Counters:
    """Lifetime energy counters (Wh) at local midnight of the day the model starts."""

    production_wh: float = 5_000_000.0
    consumption_wh: float = 7_000_000.0
    import_wh: float = 4_000_000.0
    export_wh: float = 2_000_000.0
    battery_charge_wh: float = 800_000.0
    battery_discharge_wh: float = 700_000.0


@dataclass(frozen=True, slots=True)
class LoadConfig:
    """Household load shape: base plus morning and evening peaks, with noise."""

    base_w: float = 350.0
    morning_peak_w: float = 900.0
    evening_peak_w: float = 1800.0
    noise: float = 0.15


@dataclass(frozen=True, slots=True)
class Quirks:
    """Firmware misbehaviours the simulated gateway reproduces (all off by default)."""

    ignore_tariff_writes: bool = False
    cloud_overwrite_after_s: float | None = None
    late_midnight_reset: float = 0.0
    lifetime_step_down: bool = False
    total_equals_net_8_3_5433: bool = False
    device_data_keeps_gone: bool = False
    v1_production_stalled: bool = False


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """A whole simulated installation."""

    serial: str = "202400000001"
    part_number: str = "800-00654-r08"
    firmware: str = "D8.2.4345"
    timezone: str = "US/Pacific"
    latitude: float = 37.0
    metered: bool = True
    phase_mode: str = "split"
    phase_count: int = 2
    grid_hz: float = 60.0
    nominal_voltage: float = 120.0
    inverters: InverterConfig = field(default_factory=InverterConfig)
    cts: tuple[CT, ...] = ()
    battery: BatteryConfig = field(default_factory=BatteryConfig)
    enpower: bool = False
    acb: AcbConfig = field(default_factory=AcbConfig)
    generator: bool = False
    generator_rating_w: int = 22000
    collar: bool = False
    c6: bool = False
    dry_contacts: int = 0
    counters: Counters = field(default_factory=Counters)
    storage: StorageSettings = field(default_factory=StorageSettings)
    quirks: Quirks = field(default_factory=Quirks)
    load: LoadConfig = field(default_factory=LoadConfig)
    relay_delay_s: float = 15.0
    relay_top_off_s: float = 27.5
    dry_contact_settle_s: float = 30.0
    livedata_timeout_s: float = 900.0
    installed: int = 1_690_000_000
    # Enlighten's "Power Production Limiting by Gateway" (an installer turns it on per site):
    # off, the gateway accepts DPEL writes and does nothing (VW #305)
    export_limiting_enabled: bool = True
    # after the production switch is turned back on: seconds until the inverters produce
    # again, None for "the next morning" (VW #112)
    production_resume_s: float | None = None

    def __post_init__(self) -> None:
        validate_site(self)

    @property
    def fw(self) -> Firmware:
        return Firmware.parse(self.firmware)

    def ct(self, measurement_type: str) -> CT | None:
        """The CT of that type, or None when the site has none."""
        return next((c for c in self.cts if c.measurement_type == measurement_type), None)

    def ct_enabled(self, measurement_type: str) -> bool:
        found = self.ct(measurement_type)
        return found is not None and found.enabled

    def inverter_serials(self) -> list[str]:
        """12-digit microinverter serials: the prefix, then a running number."""
        p = self.inverters.serial_prefix
        width = max(12 - len(p), 2)
        return [(p + str(i + 1).zfill(width))[-12:] for i in range(self.inverters.count)]

    def battery_serials(self) -> list[str]:
        return [f"{self.serial[:8]}{91 + i:04d}" for i in range(self.battery.count)]

    def acb_serials(self) -> list[str]:
        return [f"{self.serial[:8]}{71 + i:04d}" for i in range(self.acb.count)]

    @property
    def enpower_serial(self) -> str:
        return f"{self.serial[:8]}0051"

    @property
    def has_ensemble(self) -> bool:
        """Any IQ System Controller / battery / collar hardware."""
        return self.battery.count > 0 or self.enpower or self.collar or self.acb.count > 0


# --- checks ---------------------------------------------------------------------------

CT_TYPES = (
    "production",
    "net-consumption",
    "total-consumption",
    "storage",
    "backfeed",
    "load",
    "evse",
    "pv3p",
)
STORAGE_MODES = ("self-consumption", "backup", "economy", "savings-mode")


def site_error(name: str, problem: str) -> ValueError:
    """The error for a bad site field: it names the field, as ``site.battery.count``."""
    return ValueError(f"site.{name}: {problem}")


def validate_site(s: SiteConfig) -> None:
    """Raise ValueError naming the first field of `s` that makes no sense."""
    if not (s.serial.isdigit() and len(s.serial) == 12):
        raise site_error("serial", f"must be 12 digits, got {s.serial!r}")
    if not Firmware.parse(s.firmware).known:
        raise site_error("firmware", f"not a firmware version like 'D8.2.4345': {s.firmware!r}")
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise site_error("timezone", f"unknown IANA time zone {s.timezone!r}") from exc
    if not -90 <= s.latitude <= 90:
        raise site_error("latitude", f"must be within -90..90, got {s.latitude}")
    if s.phase_mode not in ("split", "three", "single"):
        raise site_error("phase_mode", f"must be split, three or single, got {s.phase_mode!r}")
    if not 1 <= s.phase_count <= 3:
        raise site_error("phase_count", f"must be 1..3, got {s.phase_count}")
    for name, value in (
        ("inverters.count", s.inverters.count),
        ("battery.count", s.battery.count),
        ("acb.count", s.acb.count),
    ):
        if value < 0:
            raise site_error(name, f"must be >= 0, got {value}")
    if s.inverters.rating_w <= 0:
        raise site_error("inverters.rating_w", f"must be > 0, got {s.inverters.rating_w}")
    if s.inverters.report_interval_s <= 0:
        raise site_error("inverters.report_interval_s", "must be > 0")
    if not 0 <= s.dry_contacts <= 4:
        raise site_error("dry_contacts", f"must be 0..4, got {s.dry_contacts}")
    seen: set[str] = set()
    for i, ct in enumerate(s.cts):
        if ct.measurement_type not in CT_TYPES:
            raise site_error(
                f"cts[{i}].measurement_type", f"unknown CT type {ct.measurement_type!r}"
            )
        if ct.measurement_type in seen:
            raise site_error(f"cts[{i}].measurement_type", f"duplicate {ct.measurement_type!r}")
        seen.add(ct.measurement_type)
    if s.cts and not s.metered:
        raise site_error("cts", "a non-metered gateway (metered = false) cannot have CTs")
    if s.storage.mode not in STORAGE_MODES:
        raise site_error("storage.mode", f"must be one of {', '.join(STORAGE_MODES)}")
    if not 0 <= s.storage.reserved_soc <= 100:
        raise site_error("storage.reserved_soc", f"must be 0..100, got {s.storage.reserved_soc}")
    for name, soc in (
        ("battery.initial_soc", s.battery.initial_soc),
        ("acb.initial_soc", s.acb.initial_soc),
    ):
        if not 0 <= soc <= 100:
            raise site_error(name, f"must be 0..100, got {soc}")
    for name, amount in (
        ("relay_delay_s", s.relay_delay_s),
        ("relay_top_off_s", s.relay_top_off_s),
        ("dry_contact_settle_s", s.dry_contact_settle_s),
        ("livedata_timeout_s", s.livedata_timeout_s),
        ("production_resume_s", s.production_resume_s or 0.0),
    ):
        if amount < 0:
            raise site_error(name, f"must be >= 0, got {amount}")
    for f in fields(s.counters):
        if getattr(s.counters, f.name) < 0:
            raise site_error(f"counters.{f.name}", "must be >= 0")

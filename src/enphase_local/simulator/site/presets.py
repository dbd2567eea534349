"""Named sites modelled on the real installations in the capture set.

Each preset is the hardware and firmware of one kind of installation the
library must handle (legacy HTML-only Envoy-R, metered split phase, batteries
with Enpower, AC Batteries, generator, meter collar, and the firmware whose
quirks deserve tests). Tests, the demo and the benchmarks pick them by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from .config import (
    CT,
    AcbConfig,
    BatteryConfig,
    Counters,
    InverterConfig,
    Quirks,
    SiteConfig,
    StorageSettings,
)

__all__ = ["PRESETS"]

_SPLIT_CTS = (CT("production"), CT("net-consumption"))

_LEGACY_3X = SiteConfig(
    serial="121426016034",
    part_number="800-00069-r05",
    firmware="R3.9.36",
    timezone="Pacific/Honolulu",
    latitude=21.3,
    metered=False,
    inverters=InverterConfig(
        count=12, rating_w=215, part_number="800-00633-r02", serial_prefix="1215470589"
    ),
    counters=Counters(production_wh=14_600_000.0),
    installed=1_583_363_340,
)

_LEGACY_5X = SiteConfig(
    serial="121621012167",
    part_number="800-00551-r02",
    firmware="D5.0.62",
    timezone="US/Central",
    latitude=30.3,
    metered=False,
    inverters=InverterConfig(
        count=40, rating_w=250, part_number="800-00633-r02", serial_prefix="1215470590"
    ),
    counters=Counters(production_wh=133_000_000.0),
    installed=1_450_000_000,
)

_STANDARD = SiteConfig(
    serial="122302045041",
    part_number="800-00656-r06",
    firmware="D7.6.175",
    timezone="US/Eastern",
    latitude=40.7,
    metered=False,
    inverters=InverterConfig(
        count=24, rating_w=349, part_number="800-01127-r02", serial_prefix="1222190850"
    ),
    counters=Counters(production_wh=6_100_000.0),
)

_METERED_SPLIT = SiteConfig(
    serial="122307000011",
    part_number="800-00654-r08",
    firmware="D7.6.175",
    timezone="US/Pacific",
    latitude=34.0,
    metered=True,
    cts=_SPLIT_CTS,
    inverters=InverterConfig(count=19, rating_w=290, serial_prefix="1222070000"),
)

_METERED_3PHASE = SiteConfig(
    serial="122313000345",
    part_number="800-00654-r06",
    firmware="D8.2.4345",
    timezone="Europe/Amsterdam",
    latitude=52.4,
    metered=True,
    phase_mode="three",
    phase_count=3,
    grid_hz=50.0,
    nominal_voltage=230.0,
    cts=_SPLIT_CTS,
    inverters=InverterConfig(
        count=17, rating_w=366, part_number="800-01736-r02", serial_prefix="1223440431"
    ),
    counters=Counters(
        production_wh=1_240_000.0,
        consumption_wh=1_000_000.0,
        import_wh=600_000.0,
        export_wh=840_000.0,
    ),
)

# A metered three-phase site on firmware that lets an owner read /ivp/ss/dpel, with export
# limiting enabled in Enlighten: the zero-export and negative-price recipes (docs/export-limit.md)
_EXPORT_LIMIT = replace(_METERED_3PHASE, serial="122313005528", firmware="D8.3.5528")

_BATTERY_BACKUP = SiteConfig(
    serial="122232000127",
    part_number="800-00654-r08",
    firmware="D8.3.5167",
    timezone="US/Mountain",
    latitude=39.7,
    metered=True,
    cts=(*_SPLIT_CTS, CT("storage")),
    inverters=InverterConfig(
        count=35, rating_w=366, part_number="800-01736-r02", serial_prefix="4822430331"
    ),
    battery=BatteryConfig(count=3, capacity_wh=3360, max_power_w=1280, part_number="830-01760-r37"),
    enpower=True,
    dry_contacts=4,
    storage=StorageSettings(
        mode="self-consumption", reserved_soc=20.0, charge_from_grid=False, opt_schedules=False
    ),
)

_ACB = SiteConfig(
    serial="122347004382",
    part_number="800-00654-r06",
    firmware="D8.2.4382",
    timezone="Europe/Brussels",
    latitude=50.8,
    metered=True,
    phase_mode="three",
    phase_count=1,
    grid_hz=50.0,
    nominal_voltage=230.0,
    cts=_SPLIT_CTS,
    inverters=InverterConfig(count=17, rating_w=290, serial_prefix="1223110900"),
    battery=BatteryConfig(count=1, capacity_wh=3500, max_power_w=1280, part_number="830-01760-r42"),
    acb=AcbConfig(count=3),
    storage=StorageSettings(
        mode="self-consumption", reserved_soc=0.0, very_low_soc=5, opt_schedules=True
    ),
)

_GENERATOR = SiteConfig(
    serial="202439990001",
    part_number="800-00664-r05",
    firmware="D8.3.5169",
    timezone="US/Central",
    latitude=32.8,
    metered=True,
    cts=_SPLIT_CTS,
    inverters=InverterConfig(count=20, rating_w=295, serial_prefix="4822089900"),
    enpower=True,
    generator=True,
    dry_contacts=4,
    storage=StorageSettings(
        mode="self-consumption", reserved_soc=0.0, very_low_soc=5, opt_schedules=False
    ),
)

_COLLAR = SiteConfig(
    serial="202520001598",
    part_number="800-00664-r05",
    firmware="D8.3.1598",
    timezone="US/Eastern",
    latitude=28.5,
    metered=True,
    cts=(
        *_SPLIT_CTS,
        CT("storage"),
        CT("backfeed"),
        CT("load", enabled=False),
        CT("evse", enabled=False),
        CT("pv3p", enabled=False),
    ),
    inverters=InverterConfig(
        count=17, rating_w=366, part_number="800-01736-r02", serial_prefix="4825200209"
    ),
    battery=BatteryConfig(
        count=2, capacity_wh=5000, max_power_w=3840, part_number="836-01250-r00", initial_soc=85.0
    ),
    collar=True,
    c6=True,
    storage=StorageSettings(mode="backup", reserved_soc=100.0, very_low_soc=5, opt_schedules=False),
    counters=Counters(
        production_wh=47_000.0,
        consumption_wh=130_000.0,
        import_wh=86_000.0,
        export_wh=3_000.0,
        battery_charge_wh=5_000.0,
        battery_discharge_wh=1_000.0,
    ),
)

_TARIFF_IGNORED = replace(
    _BATTERY_BACKUP,
    serial="122232004225",
    firmware="D8.2.4264",
    quirks=Quirks(ignore_tariff_writes=True),
)

_CLOUD_OVERWRITE = replace(
    _BATTERY_BACKUP,
    serial="122232005167",
    quirks=Quirks(cloud_overwrite_after_s=90.0),
)

PRESETS: Mapping[str, SiteConfig] = MappingProxyType(
    {
        "legacy-3x": _LEGACY_3X,
        "legacy-5x": _LEGACY_5X,
        "standard": _STANDARD,
        "metered-split": _METERED_SPLIT,
        "metered-3phase": _METERED_3PHASE,
        "battery-backup": _BATTERY_BACKUP,
        "acb": _ACB,
        "generator": _GENERATOR,
        "collar": _COLLAR,
        "tariff-ignored": _TARIFF_IGNORED,
        "cloud-overwrite": _CLOUD_OVERWRITE,
        "export-limit": _EXPORT_LIMIT,
    }
)

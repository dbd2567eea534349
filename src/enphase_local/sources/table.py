"""SOURCES: every endpoint the client can read, by key.

The one table the client's probe and scheduler, the CLI's `dump` and `raw`,
the simulator's tests and the benchmarks iterate over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .dry_contacts import DRY_CONTACT_SETTINGS, DRY_CONTACTS
from .ensemble import ENSEMBLE_INVENTORY, ENSEMBLE_POWER, ENSEMBLE_SECCTRL
from .export_limit import DPEL, PRODUCTION_POWER
from .generator import GEN_CONFIG, GEN_MODE, GEN_SCHEDULE, GENERATOR
from .home import HOME
from .info import INFO
from .inventory import INVENTORY
from .inverters import DEVICE_DATA, INVERTERS_V1
from .keys import SourceKey
from .legacy_html import PRODUCTION_HTML
from .live import LIVEDATA
from .meters import METERS, METERS_READINGS, METERS_REPORTS
from .production import PRODUCTION_JSON, PRODUCTION_SUMMARY, PRODUCTION_V1
from .registry import Source, build_table
from .settings import PEL_SETTINGS, PV_LIMIT
from .tariff import TARIFF

__all__ = ["SOURCES"]

SOURCES: Mapping[SourceKey, Source[Any]] = build_table(
    INFO,
    HOME,
    PRODUCTION_JSON,
    PRODUCTION_SUMMARY,
    PRODUCTION_V1,
    PRODUCTION_HTML,
    METERS,
    METERS_READINGS,
    METERS_REPORTS,
    INVERTERS_V1,
    DEVICE_DATA,
    ENSEMBLE_INVENTORY,
    ENSEMBLE_POWER,
    ENSEMBLE_SECCTRL,
    INVENTORY,
    DRY_CONTACTS,
    DRY_CONTACT_SETTINGS,
    GENERATOR,
    GEN_CONFIG,
    GEN_MODE,
    GEN_SCHEDULE,
    TARIFF,
    PEL_SETTINGS,
    PV_LIMIT,
    LIVEDATA,
    DPEL,
    PRODUCTION_POWER,
)

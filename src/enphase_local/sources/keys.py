"""`SourceKey`: the name of every endpoint the client reads, typed.

A StrEnum rather than string literals so that a typo is a type error, an
IDE lists every source, and renaming one is one edit. Values are stable:
they appear in logs, `envoy.source_status` and the benchmarks.
"""

from __future__ import annotations

import enum

__all__ = ["SourceKey"]


class SourceKey(enum.StrEnum):
    """One endpoint the client can read (see `sources.table.SOURCES`).

    The order here is the table's order: `SOURCES` lists the sources in it.
    """

    INFO = "info"  # /info (XML identity; public)
    HOME = "home"  # /home.json (network, time zone)
    PRODUCTION_JSON = "production_json"  # /production.json?details=1
    PRODUCTION_SUMMARY = "production_summary"  # /production (JSON without lines, or 3.x HTML)
    PRODUCTION_V1 = "production_v1"  # /api/v1/production
    PRODUCTION_HTML = "production_html"  # /production as the pre-3.9 HTML table
    METERS = "meters"  # /ivp/meters (CT configuration)
    METERS_READINGS = "meters_readings"  # /ivp/meters/readings (CT values)
    METERS_REPORTS = "meters_reports"  # /ivp/meters/reports
    INVERTERS_V1 = "inverters_v1"  # /api/v1/production/inverters
    DEVICE_DATA = "device_data"  # /ivp/pdm/device_data (8.x inverter details)
    ENSEMBLE_INVENTORY = "ensemble_inventory"  # /ivp/ensemble/inventory
    ENSEMBLE_POWER = "ensemble_power"  # /ivp/ensemble/power
    ENSEMBLE_SECCTRL = "ensemble_secctrl"  # /ivp/ensemble/secctrl
    INVENTORY = "inventory"  # /inventory.json
    DRY_CONTACTS = "dry_contacts"  # /ivp/ensemble/dry_contacts
    DRY_CONTACT_SETTINGS = "dry_contact_settings"  # /ivp/ss/dry_contact_settings
    GENERATOR = "generator"  # /ivp/ensemble/generator
    GEN_CONFIG = "gen_config"  # /ivp/ss/gen_config
    GEN_MODE = "gen_mode"  # /ivp/ss/gen_mode
    GEN_SCHEDULE = "gen_schedule"  # /ivp/ss/gen_schedule
    TARIFF = "tariff"  # /admin/lib/tariff
    PEL_SETTINGS = "pel_settings"  # /ivp/ss/pel_settings
    PV_LIMIT = "pv_limit"  # /ivp/ss/pv_limit
    LIVEDATA = "livedata"  # /ivp/livedata/status
    SC_SCHED = "sc_sched"  # /ivp/sc/sched (storage scheduler: charge from grid in effect)
    SC_STATUS = "sc_status"  # /ivp/sc/status (storage controller: events, setpoints)

"""What a gateway can tell us, discovered once by the probe.

`Capability` names features, not endpoints: "this gateway measures total
consumption" rather than "production.json answered". The CLI lists them, the
control layer checks them before sending a write, and the client uses them to
decide which sources an update needs.

`SourceStatus` records, per endpoint, what the probe saw, including
installer-only refusals, so the client stops asking endpoints an owner token
will never be allowed to read.
"""

from __future__ import annotations

import enum

__all__ = ["Capability", "SourceStatus"]


class Capability(enum.StrEnum):
    """A feature the gateway offers."""

    PRODUCTION = "production"
    PRODUCTION_CT = "production_ct"
    CONSUMPTION = "consumption"  # total consumption (house load)
    NET_CONSUMPTION = "net_consumption"  # grid import/export
    PHASES = "phases"  # per-phase values
    METERS = "meters"  # CT meter configuration and readings
    INVERTERS = "inverters"
    INVERTER_DETAILS = "inverter_details"  # /ivp/pdm/device_data covers all inverters
    ENCHARGE = "encharge"
    ENPOWER = "enpower"
    ACB = "acb"
    COLLAR = "collar"
    C6_COMBINER = "c6_combiner"
    DRY_CONTACTS = "dry_contacts"
    GENERATOR = "generator"
    TARIFF = "tariff"  # storage settings readable (and writable where firmware allows)
    LIVE_DATA = "live_data"
    POWER_EXPORT_LIMIT = "power_export_limit"
    PV_LIMIT = "pv_limit"
    EXPORT_LIMIT = "export_limit"  # /ivp/ss/dpel readable with this token (dynamic export limit)
    PRODUCTION_SWITCH = "production_switch"  # the production switch readable (installer token)
    DEVICE_INVENTORY = "device_inventory"  # /inventory.json
    NETWORK = "network"  # /home


class SourceStatus(enum.StrEnum):
    """What the probe (or later surprises) learned about one endpoint."""

    OK = "ok"  # answered data
    ABSENT = "absent"  # 404, or an {"error": ...} body: not on this firmware/hardware
    FORBIDDEN = "forbidden"  # 401 with valid credentials: installer-only, stop asking
    FAILED = "failed"  # errors we could not classify (timeout, 5xx, garbage): try again later

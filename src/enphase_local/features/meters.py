"""The CT meters' readings: power, counters and diagnostics per CT, and the net CT per phase.

Per CT (`Scope.METER`): what the core ``enphase_envoy`` integration shows for
each of its net-consumption, production and storage CTs (power, the two
counters, voltage, current, frequency, power factor, metering status and
status flags), with its unique ids so a user moving over keeps the history.
The storage CT's two counters are its battery charge and discharge energy.

Per phase (`Scope.PHASE`): the net-consumption CT's channels (power, grid
import and export, voltage, current, frequency, power factor) and the
storage CT's (power, battery discharged and charged) on each phase, as the
core integration's ``..._l1`` entities. All of these are disabled by
default, as there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models.meters import MeteringStatus
from ..models.snapshot import Snapshot
from .model import Feature, Kind, Readings, Scope
from .styles import COUNTER, DIAG, POWER

__all__ = ["METERS"]

_NET = "net-consumption"


def _meter(key: str, snapshot: Snapshot) -> Any:
    meter = snapshot.meters.get(key)
    return meter if meter is not None and meter.enabled else None


def _reading(attr: str) -> Any:
    def get(r: Readings, key: str) -> Any:
        meter = _meter(key, r.snapshot)
        reading = None if meter is None else meter.reading
        return None if reading is None else getattr(reading, attr)

    return get


def _channel(meter_key: str, attr: str) -> Any:
    """One value of a CT's channel on this phase."""

    def get(r: Readings, key: str) -> Any:
        meter = _meter(meter_key, r.snapshot)
        reading = None if meter is None else meter.reading
        for channel in () if reading is None else reading.channels:
            if channel.phase == key:
                return getattr(channel, attr)
        return None

    return get


def _flags(r: Readings, key: str) -> int | None:
    meter = r.snapshot.meters.get(key)
    return None if meter is None else len(meter.config.status_flags)


def _status(r: Readings, key: str) -> str | None:
    meter = r.snapshot.meters.get(key)
    return None if meter is None else meter.config.metering_status.value


def _per_ct(net: str | None, production: str | None, storage: str | None) -> Mapping[str, str]:
    """The core integration's unique id template for each CT that has one."""
    named = {_NET: net, "production": production, "storage": storage}
    return {key: f"{{serial}}_{value}" for key, value in named.items() if value is not None}


def _ct(fid: str, name: str, get: Any, core: Any, **kw: Any) -> Feature:
    return Feature(fid, name, Kind.SENSOR, get, scope=Scope.METER, core_unique_id=core, **kw)


def _ct_diag(fid: str, name: str, attr: str, core: Mapping[str, str], **kw: Any) -> Feature:
    """A measurement for diagnosis: disabled by default, as in the core integration."""
    return _ct(
        fid,
        name,
        _reading(attr),
        core,
        state_class="measurement",
        enabled_by_default=False,
        **(DIAG | kw),
    )


def _phase(
    fid: str, name: str, attr: str, core: str, style: dict[str, Any], *, ct: str = _NET
) -> Feature:
    """One value of a CT per phase, disabled by default as in the core integration."""
    return Feature(
        fid,
        name,
        Kind.SENSOR,
        _channel(ct, attr),
        scope=Scope.PHASE,
        core_unique_id=f"{{serial}}_{core}_{{phase}}",
        enabled_by_default=False,
        **style,
    )


def _phase_diag(fid: str, name: str, attr: str, core: str, **kw: Any) -> Feature:
    return _phase(fid, name, attr, core, {"state_class": "measurement", **DIAG, **kw})


METERS: tuple[Feature, ...] = (
    _ct(
        "ct_power",
        "CT power",
        _reading("watts"),
        _per_ct("net_consumption", None, "battery_discharge"),
        **POWER,
    ),
    _ct(
        "ct_energy_delivered",
        "CT energy delivered",
        _reading("wh_delivered"),
        _per_ct("lifetime_net_consumption", None, "lifetime_battery_discharged"),
        doc="net-consumption CT: grid import; storage CT: battery discharge",
        **COUNTER,
    ),
    _ct(
        "ct_energy_received",
        "CT energy received",
        _reading("wh_received"),
        _per_ct("lifetime_net_production", None, "lifetime_battery_charged"),
        doc="net-consumption CT: grid export; storage CT: battery charge",
        **COUNTER,
    ),
    _ct_diag(
        "ct_voltage",
        "CT voltage",
        "volts",
        _per_ct("voltage", "production_ct_voltage", "storage_voltage"),
        unit="V",
        device_class="voltage",
        precision=1,
    ),
    _ct_diag(
        "ct_current",
        "CT current",
        "amps",
        _per_ct("net_ct_current", "production_ct_current", "storage_ct_current"),
        unit="A",
        device_class="current",
        precision=3,
    ),
    _ct_diag(
        "ct_frequency",
        "CT frequency",
        "hz",
        _per_ct("frequency", "production_ct_frequency", "storage_ct_frequency"),
        unit="Hz",
        device_class="frequency",
        precision=1,
    ),
    _ct_diag(
        "ct_power_factor",
        "CT power factor",
        "power_factor",
        _per_ct("net_ct_powerfactor", "production_ct_powerfactor", "storage_ct_powerfactor"),
        device_class="power_factor",
        precision=2,
    ),
    _ct(
        "ct_metering_status",
        "CT metering status",
        _status,
        "{serial}_{key_}_ct_metering_status",
        device_class="enum",
        options=tuple(m.value for m in MeteringStatus),
        enabled_by_default=False,
        **DIAG,
    ),
    _ct(
        "ct_status_flags",
        "CT status flags",
        _flags,
        "{serial}_{key_}_ct_status_flags",
        enabled_by_default=False,
        **DIAG,
    ),
    _phase("ct_net_power_phase", "Net consumption CT power", "watts", "net_consumption", POWER),
    _phase(
        "ct_net_import_phase",
        "Grid import (net CT)",
        "wh_delivered",
        "lifetime_net_consumption",
        COUNTER,
    ),
    _phase(
        "ct_net_export_phase",
        "Grid export (net CT)",
        "wh_received",
        "lifetime_net_production",
        COUNTER,
    ),
    _phase_diag(
        "ct_net_voltage_phase",
        "Net CT voltage",
        "volts",
        "voltage",
        unit="V",
        device_class="voltage",
        precision=1,
    ),
    _phase_diag(
        "ct_net_current_phase",
        "Net CT current",
        "amps",
        "net_ct_current",
        unit="A",
        device_class="current",
        precision=3,
    ),
    _phase_diag(
        "ct_net_frequency_phase",
        "Net CT frequency",
        "hz",
        "frequency",
        unit="Hz",
        device_class="frequency",
        precision=1,
    ),
    _phase_diag(
        "ct_net_power_factor_phase",
        "Net CT power factor",
        "power_factor",
        "net_ct_powerfactor",
        device_class="power_factor",
        precision=2,
    ),
    _phase(
        "ct_storage_power_phase",
        "Storage CT power",
        "watts",
        "battery_discharge",
        POWER,
        ct="storage",
    ),
    _phase(
        "ct_storage_discharged_phase",
        "Battery discharged (storage CT)",
        "wh_delivered",
        "lifetime_battery_discharged",
        COUNTER,
        ct="storage",
    ),
    _phase(
        "ct_storage_charged_phase",
        "Battery charged (storage CT)",
        "wh_received",
        "lifetime_battery_charged",
        COUNTER,
        ct="storage",
    ),
)

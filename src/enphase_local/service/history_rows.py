"""From snapshots, live frames and events to history rows (table -> tuples).

Kept apart from the sink's batching so that the mapping from the library's
models to the history's columns (see `history_schema.TABLES`) is one short,
pure piece any store can reuse (the PostgreSQL sink extends it, `postgres_rows`).

`RowMaker` remembers what it last emitted per gateway, so that a counter the
cadence plan did not re-read, or an inverter report already stored, is not
written again: the history holds reads, not repetitions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..models.energy_flows import ENERGY_FLOWS
from ..models.live_frame import LiveFrame

if TYPE_CHECKING:
    from ..models.battery import BatterySummary
    from ..models.energy import EnergyReading
    from ..models.snapshot import Snapshot
    from .sinks import Event

__all__ = [
    "COUNTER_FLOWS",
    "DERIVED_PREFIX",
    "ENERGY_PREFIX",
    "ZONE_EVENT",
    "RowMaker",
    "Rows",
    "bank_watts",
]

Rows = dict[str, list[tuple[Any, ...]]]

# energy counter flows as the snapshot names them
COUNTER_FLOWS = ("production", "consumption", "net_consumption")
ENERGY_PREFIX = "e:"  # the six flows of `Snapshot.energy`, stored as "e:solar", "e:house", ...
ZONE_EVENT = "zone"  # an event whose message is the site's IANA zone
DERIVED_PREFIX = "d:"  # the derived counters' running state ("d:battery+"), for a restart


def _counters(snapshot: Snapshot) -> Iterator[tuple[str, str, EnergyReading]]:
    for flow in COUNTER_FLOWS:
        reading = getattr(snapshot, flow)
        if reading is not None:
            yield flow, "", reading
    for phase, readings in snapshot.phases.items():
        for flow in COUNTER_FLOWS:
            reading = getattr(readings, flow)
            if reading is not None:
                yield flow, phase, reading


def _energy_values(snapshot: Snapshot) -> Iterator[tuple[str, float | None, float | None]]:
    """The six flows (lifetime, today) and the derived counters' state, as counter rows."""
    energy = snapshot.energy
    if energy is None:
        return
    for name in ENERGY_FLOWS:
        life = energy.lifetime_wh.get(name)
        if life is not None:
            yield ENERGY_PREFIX + name, life, energy.today_wh.get(name)
    for name, (positive, negative) in energy.state.items():
        yield f"{DERIVED_PREFIX}{name}+", positive, None
        yield f"{DERIVED_PREFIX}{name}-", negative, None


def bank_watts(battery: BatterySummary) -> float | None:
    """The bank's power: the sum of the units that report one, None when none does."""
    watts = [u.watts for u in battery.units.values() if u.watts is not None]
    return sum(watts) if watts else None


class RowMaker:
    """Turns one gateway's data into rows, skipping what was already emitted."""

    def __init__(self) -> None:
        self._counters: dict[tuple[str, str, str], tuple[float | None, float | None]] = {}
        self._reports: dict[tuple[str, str], int] = {}
        self._zones: dict[str, str] = {}  # serial -> the site's zone last written

    def snapshot_rows(self, serial: str, snapshot: Snapshot, rows: Rows) -> None:
        at = snapshot.taken_at
        gw = snapshot.gateway
        rows.setdefault("gateways", []).append((serial, gw.host, gw.firmware, at, at))
        zone = snapshot.energy.zone if snapshot.energy is not None else None
        if zone is not None and self._zones.get(serial) != zone:
            # a "zone" event: `enphase history` counts this site's days in it (issue 23)
            self._zones[serial] = zone
            rows.setdefault("events", []).append((serial, at, ZONE_EVENT, zone, "{}"))
        for flow, phase, reading in _counters(snapshot):
            value = (reading.wh_lifetime, reading.wh_today)
            if value == (None, None) or self._counters.get((serial, flow, phase)) == value:
                continue
            self._counters[(serial, flow, phase)] = value
            rows.setdefault("energy_counters", []).append((serial, flow, phase, at, *value))
        for flow, life, today in _energy_values(snapshot):
            value = (life, today)
            if self._counters.get((serial, flow, "")) == value:
                continue
            self._counters[(serial, flow, "")] = value
            rows.setdefault("energy_counters", []).append((serial, flow, "", at, *value))
        for inv_serial, inv in snapshot.inverters.items():
            key = (serial, inv_serial)
            if self._reports.get(key) == inv.last_report:
                continue
            self._reports[key] = inv.last_report
            lifetime = inv.detail.wh_lifetime if inv.detail is not None else None
            rows.setdefault("inverter_reports", []).append(
                (serial, inv_serial, inv.last_report, inv.watts, inv.max_watts, lifetime)
            )
        battery = snapshot.battery
        if battery is not None:
            out = rows.setdefault("battery_samples", [])
            out.append(
                (
                    serial,
                    "",
                    at,
                    battery.soc_percent,
                    bank_watts(battery),
                    battery.available_wh,
                    battery.capacity_wh,
                    None,
                )
            )
            for unit_serial, unit in battery.units.items():
                out.append(
                    (
                        serial,
                        unit_serial,
                        at,
                        unit.soc_percent,
                        unit.watts,
                        None,
                        unit.capacity_wh,
                        unit.temperature_c,
                    )
                )
        elif snapshot.acb is not None:
            acb = snapshot.acb
            rows.setdefault("battery_samples", []).append(
                (serial, "", at, acb.soc_percent, acb.watts, acb.wh_now, None, None)
            )

    def frame_rows(self, serial: str, frame: LiveFrame, rows: Rows) -> None:
        out = rows.setdefault("power_samples", [])
        out.append(
            (
                serial,
                frame.taken_at,
                "",
                frame.solar_watts,
                frame.house_watts,
                frame.grid_watts,
                frame.battery_watts,
                frame.generator_watts,
                frame.soc_percent,
            )
        )
        for phase, p in frame.phases.items():
            out.append(
                (
                    serial,
                    frame.taken_at,
                    phase,
                    p.solar_watts,
                    p.house_watts,
                    p.grid_watts,
                    p.battery_watts,
                    None,
                    None,
                )
            )

    @staticmethod
    def event_rows(event: Event, rows: Rows) -> None:
        detail = json.dumps(dict(event.detail), default=str, sort_keys=True)
        rows.setdefault("events", []).append(
            (event.serial, event.at, event.kind, event.message, detail)
        )

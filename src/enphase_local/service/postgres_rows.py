"""From snapshots, live frames and events to history rows (table -> tuples).

The same rows as the SQLite history makes (columns in `postgres_schema.TABLES`
order, times as epoch seconds), so either store takes them unchanged.
`RowMaker` remembers what it last emitted per gateway: a counter the cadence
plan did not re-read, or an inverter report already stored, is not written
again. Live frames are thinned to one per `live_interval_s` per gateway: a
database shared by hundreds of sites keeps power at a few seconds' rate, not
every frame (Grafana plots minutes).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..models.energy import EnergyReading
from ..models.live_frame import LiveFrame
from ..models.snapshot import Snapshot
from .sinks import Event

__all__ = ["COUNTER_FLOWS", "RowMaker", "Rows"]

Rows = dict[str, list[tuple[Any, ...]]]

COUNTER_FLOWS = ("production", "consumption", "net_consumption")


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


class RowMaker:
    """Turns gateways' data into rows, skipping what was already emitted."""

    def __init__(self, live_interval_s: float = 5.0) -> None:
        self.live_interval_s = live_interval_s
        self._counters: dict[tuple[str, str, str], tuple[float | None, float | None]] = {}
        self._reports: dict[tuple[str, str], int] = {}
        self._live_at: dict[str, float] = {}

    def snapshot_rows(self, serial: str, snapshot: Snapshot, rows: Rows) -> None:
        at = snapshot.taken_at
        gw = snapshot.gateway
        rows.setdefault("gateways", []).append((serial, gw.host, gw.firmware, at, at))
        for flow, phase, reading in _counters(snapshot):
            value = (reading.wh_lifetime, reading.wh_today)
            if value == (None, None) or self._counters.get((serial, flow, phase)) == value:
                continue
            self._counters[(serial, flow, phase)] = value
            rows.setdefault("energy_counters", []).append((serial, flow, phase, at, *value))
        for inv_serial, inv in snapshot.inverters.items():
            key = (serial, inv_serial)
            if self._reports.get(key) == inv.last_report:
                continue
            self._reports[key] = inv.last_report
            lifetime = inv.detail.wh_lifetime if inv.detail is not None else None
            rows.setdefault("inverter_reports", []).append(
                (serial, inv_serial, inv.last_report, inv.watts, inv.max_watts, lifetime)
            )
        self._battery_rows(serial, snapshot, rows)
        if serial not in self._live_at:  # no live source: power at the update rhythm
            self._power_from_snapshot(serial, snapshot, rows)

    @staticmethod
    def _battery_rows(serial: str, snapshot: Snapshot, rows: Rows) -> None:
        at, battery = snapshot.taken_at, snapshot.battery
        if battery is not None:
            bank_watts = [u.watts for u in battery.units.values() if u.watts is not None]
            out = rows.setdefault("battery_samples", [])
            out.append(
                (
                    serial,
                    "",
                    at,
                    battery.soc_percent,
                    sum(bank_watts) if bank_watts else None,
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

    @staticmethod
    def _power_from_snapshot(serial: str, snapshot: Snapshot, rows: Rows) -> None:
        prod, cons, net = snapshot.production, snapshot.consumption, snapshot.net_consumption
        if prod is None and cons is None and net is None:
            return
        battery_w = None
        soc = None
        if snapshot.battery is not None:
            soc = snapshot.battery.soc_percent
            watts = [u.watts for u in snapshot.battery.units.values() if u.watts is not None]
            battery_w = sum(watts) if watts else None
        rows.setdefault("power_samples", []).append(
            (
                serial,
                snapshot.taken_at,
                "",
                prod.watts if prod else None,
                cons.watts if cons else None,
                net.watts if net else None,
                battery_w,
                None,
                soc,
            )
        )

    def frame_rows(self, serial: str, frame: LiveFrame, rows: Rows) -> None:
        last = self._live_at.get(serial)
        if last is not None and frame.taken_at - last < self.live_interval_s:
            return
        self._live_at[serial] = frame.taken_at
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

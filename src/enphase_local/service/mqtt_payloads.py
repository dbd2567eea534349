"""The MQTT payloads (schema 1): what a gateway's snapshots and live frames become.

Written out key by key, like `Snapshot.to_dict`, so that an internal rename
can never change what a Home Assistant template or a Node-RED flow reads;
docs/mqtt.md documents every key. Adding keys is fine; renaming or removing
one needs a new `PAYLOAD_SCHEMA`.

All payloads are flat JSON objects with units in the key names (``_w``,
``_wh``, ``_percent``), None where the site has no such value, so a template
is always ``{{ value_json.<key> }}``.

`Throttle` keeps the state topic to at most one message a second per gateway
(live frames arrive about once a second, several sources may feed one
gateway) and drops documents identical to the last one sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..models.live_frame import LiveFrame
from ..models.snapshot import Snapshot

__all__ = [
    "ENERGY_KEYS",
    "PAYLOAD_SCHEMA",
    "POWER_KEYS",
    "Throttle",
    "battery_payloads",
    "control_payload",
    "energy_payload",
    "frame_power",
    "inverter_payloads",
    "snapshot_power",
]

PAYLOAD_SCHEMA = 1

POWER_KEYS = ("solar_w", "house_w", "grid_w", "battery_w", "generator_w", "soc_percent")
ENERGY_KEYS = (
    "production_wh",
    "consumption_wh",
    "grid_import_wh",
    "grid_export_wh",
    "battery_charge_wh",
    "battery_discharge_wh",
    "production_today_wh",
    "consumption_today_wh",
    "house_wh",  # the real house load's lifetime (Snapshot.energy), not the gateway's counter
    "house_today_wh",
)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def frame_power(frame: LiveFrame) -> dict[str, Any]:
    """The power keys of a live frame (signs as `LiveFrame`: grid + import, battery + discharge)."""
    return {
        "solar_w": _round(frame.solar_watts),
        "house_w": _round(frame.house_watts),
        "grid_w": _round(frame.grid_watts),
        "battery_w": _round(frame.battery_watts),
        "generator_w": _round(frame.generator_watts),
        "soc_percent": _round(frame.soc_percent),
    }


def snapshot_power(snapshot: Snapshot) -> dict[str, Any]:
    """The power keys from a snapshot, for sites (or moments) without live frames."""
    battery_w: float | None = None
    soc: float | None = None
    if snapshot.battery is not None:
        soc = snapshot.battery.soc_percent
        unit_watts = [u.watts for u in snapshot.battery.units.values() if u.watts is not None]
        battery_w = sum(unit_watts) if unit_watts else None
    if snapshot.acb is not None and snapshot.acb.watts is not None:
        battery_w = (battery_w or 0.0) + snapshot.acb.watts
        if soc is None:
            soc = snapshot.acb.soc_percent
    prod, net = snapshot.production, snapshot.net_consumption
    return {
        "solar_w": _round(prod.watts if prod else None),
        "house_w": _round(_house_watts(snapshot)),
        "grid_w": _round(net.watts if net else None),
        "battery_w": _round(battery_w),
        "generator_w": None,
        "soc_percent": _round(soc),
    }


def _house_watts(snapshot: Snapshot) -> float | None:
    """The real house load (the balanced flow): the gateway's consumption counts charging."""
    flow, cons = snapshot.power_flow, snapshot.consumption
    if flow is not None and flow.house_watts is not None:
        return flow.house_watts
    return cons.watts if cons else None


def _meter_counter(snapshot: Snapshot, key: str, name: str) -> float | None:
    meter = snapshot.meters.get(key)
    if meter is None or meter.reading is None or not meter.enabled:
        return None
    value = getattr(meter.reading, name)
    return None if value is None else float(value)


def energy_payload(serial: str, snapshot: Snapshot) -> dict[str, Any]:
    """Lifetime and daily counters in Wh, as the Home Assistant Energy dashboard wants them.

    Grid import/export come from the net-consumption CT (delivered = import,
    received = export), battery discharge/charge from the storage CT
    (delivered = discharge, received = charge): the gateway's own lifetime
    counters, which only grow, so ``total_increasing`` holds.
    """
    prod, cons = snapshot.production, snapshot.consumption
    doc = {
        "schema": PAYLOAD_SCHEMA,
        "serial": serial,
        "taken_at": snapshot.taken_at,
        "production_wh": _round(prod.wh_lifetime if prod else None),
        "consumption_wh": _round(cons.wh_lifetime if cons else None),
        "grid_import_wh": _round(_meter_counter(snapshot, "net-consumption", "wh_delivered")),
        "grid_export_wh": _round(_meter_counter(snapshot, "net-consumption", "wh_received")),
        "battery_charge_wh": _round(_meter_counter(snapshot, "storage", "wh_received")),
        "battery_discharge_wh": _round(_meter_counter(snapshot, "storage", "wh_delivered")),
        "production_today_wh": _round(prod.wh_today if prod else None),
        "consumption_today_wh": _round(cons.wh_today if cons else None),
        "house_wh": None,
        "house_today_wh": None,
    }
    energy = snapshot.energy
    if energy is not None:  # the six flows: derived battery energy where no storage CT
        for name in ("grid_import", "grid_export", "battery_charge", "battery_discharge"):
            value = energy.lifetime_wh.get(name)
            if value is not None:
                doc[f"{name}_wh"] = _round(value)
        doc["house_wh"] = _round(energy.lifetime_wh.house)
        doc["house_today_wh"] = _round(energy.today_wh.house)
    return doc


def inverter_payloads(snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    """One document per microinverter, keyed by its serial."""
    out: dict[str, dict[str, Any]] = {}
    for serial, inv in snapshot.inverters.items():
        detail = inv.detail
        out[serial] = {
            "schema": PAYLOAD_SCHEMA,
            "serial": serial,
            "watts": inv.watts,
            "max_watts": inv.max_watts,
            "last_report": inv.last_report,
            "wh_today": detail.wh_today if detail else None,
            "wh_lifetime": _round(detail.wh_lifetime if detail else None),
            "temperature_c": detail.temperature_c if detail else None,
            "dc_volts": detail.dc_volts if detail else None,
            "ac_volts": detail.ac_volts if detail else None,
        }
    return out


def battery_payloads(snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    """One document per battery (Encharge / IQ Battery unit, or AC Battery), keyed by serial."""
    out: dict[str, dict[str, Any]] = {}
    if snapshot.battery is not None:
        for serial, unit in snapshot.battery.units.items():
            out[serial] = {
                "schema": PAYLOAD_SCHEMA,
                "serial": serial,
                "kind": "encharge",
                "soc_percent": unit.soc_percent,
                "watts": unit.watts,
                "temperature_c": unit.temperature_c,
                "capacity_wh": unit.capacity_wh,
            }
    if snapshot.acb is not None:
        for serial, acb in snapshot.acb.units.items():
            out[serial] = {
                "schema": PAYLOAD_SCHEMA,
                "serial": serial,
                "kind": "acb",
                "soc_percent": acb.soc_percent,
                "watts": None,
                "temperature_c": acb.max_cell_temp_c,
                "capacity_wh": None,
            }
    return out


def control_payload(snapshot: Snapshot) -> dict[str, Any]:
    """The current value of every control, as the Home Assistant entities show it.

    Switches are ``"ON"``/``"OFF"`` (grid relay ON = closed = on grid; a dry
    contact ON = closed); keys are absent for controls the site lacks.
    """
    out: dict[str, Any] = {"schema": PAYLOAD_SCHEMA}
    tariff = snapshot.tariff
    if tariff is not None:
        out["storage_mode"] = None if tariff.storage_mode is None else tariff.storage_mode.value
        out["reserve_soc"] = tariff.reserve_soc_percent
        if tariff.charge_from_grid is not None:
            out["charge_from_grid"] = "ON" if tariff.charge_from_grid else "OFF"
    if snapshot.enpower is not None:
        out["grid_relay"] = _on_off(snapshot.enpower.mains_oper_state.value, "closed")
    for cid, contact in snapshot.dry_contacts.items():
        out[f"dry_contact_{cid}"] = _on_off(contact.status.value, "closed")
    gen = snapshot.generator
    if gen is not None and gen.mode is not None:
        out["generator_mode"] = gen.mode.mode.value
    return out


def _on_off(value: str, on: str) -> str | None:
    if value == "unknown":
        return None
    return "ON" if value == on else "OFF"


@dataclass(slots=True)
class _Slot:
    sent_at: float = float("-inf")
    last: Mapping[str, Any] | None = None
    pending: dict[str, Any] | None = None


@dataclass(slots=True)
class Throttle:
    """At most one document per key every `interval_s`, and never the same one twice.

    `offer` returns the document to send now, or None (held back: a later
    `due` returns it once the interval has passed, unless a newer document
    replaced it). Documents compare without their ``taken_at``.
    """

    interval_s: float = 1.0
    clock: Callable[[], float] = time.monotonic
    _slots: dict[str, _Slot] = field(default_factory=dict)

    def offer(self, key: str, doc: dict[str, Any]) -> dict[str, Any] | None:
        slot = self._slots.setdefault(key, _Slot())
        if _same(slot.last, doc):
            slot.pending = None
            return None
        now = self.clock()
        if now - slot.sent_at >= self.interval_s:
            slot.sent_at, slot.last, slot.pending = now, doc, None
            return doc
        slot.pending = doc
        return None

    def due(self) -> list[tuple[str, dict[str, Any]]]:
        """Held-back documents whose interval has now passed (they count as sent)."""
        now = self.clock()
        out: list[tuple[str, dict[str, Any]]] = []
        for key, slot in self._slots.items():
            if slot.pending is not None and now - slot.sent_at >= self.interval_s:
                out.append((key, slot.pending))
                slot.sent_at, slot.last, slot.pending = now, slot.pending, None
        return out

    def forget(self, key: str) -> None:
        self._slots.pop(key, None)


def _same(a: Mapping[str, Any] | None, b: Mapping[str, Any]) -> bool:
    if a is None:
        return False
    return {k: v for k, v in a.items() if k != "taken_at"} == {
        k: v for k, v in b.items() if k != "taken_at"
    }

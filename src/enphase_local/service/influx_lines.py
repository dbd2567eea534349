"""InfluxDB line protocol from snapshots, live frames and events: pure, no I/O.

Why apart from the sink: what a point looks like (measurement, tags, field
names and types) is the contract users build Grafana panels and queries on,
and must hold on InfluxDB 1.x, 2.x and 3.x alike. InfluxDB 3 fixes a
measurement's tag set at its first write and refuses a tag and a field of the
same name, so every measurement here always carries the same tags, every tag
value is non-empty, and field names end in a unit (``_w``, ``_wh``, ``_pct``)
that no tag name has. Numbers are always written as floats: a field written
once as an integer and once as a float is a type conflict that InfluxDB
refuses for the whole batch.

Measurements (precision seconds):

- ``enphase_power`` {serial, site, phase}: solar_w, house_w, grid_w, battery_w,
  generator_w, soc_pct (phase ``total``, ``L1``..``L3``), thinned by the sink
- ``enphase_energy`` {serial, site, phase}: ``<flow>_lifetime_wh`` and
  ``<flow>_today_wh`` for the six flows (see `energy_fields`)
- ``enphase_inverter`` {serial, site, inverter}: watts_w, max_w, lifetime_wh,
  at each new report
- ``enphase_battery`` {serial, site, unit}: soc_pct, watts_w, available_wh,
  capacity_wh, temperature_c (unit ``bank`` for the whole bank)
- ``enphase_event`` {serial, site, kind}: message (a string)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..models.energy_flows import ENERGY_FLOWS
from .history_rows import bank_watts

if TYPE_CHECKING:
    from ..models.live_frame import LiveFrame
    from ..models.snapshot import Snapshot
    from .sinks import Event

__all__ = [
    "FLOWS",
    "energy_fields",
    "event_lines",
    "frame_lines",
    "line",
    "snapshot_lines",
]

# the six flows of Snapshot.energy (and the generator), as field name prefixes
FLOWS = ENERGY_FLOWS
_TOTAL = "total"


def _escape_key(text: str) -> str:
    """Measurement names, tag keys and values, field keys: commas, equals, spaces escaped."""
    text = text.replace("\\", "\\\\").replace("\n", " ").replace("\r", " ")
    return text.replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _field_value(value: float | str) -> str | None:
    """A float as InfluxDB reads it (always a float), a string quoted; None for NaN/inf."""
    if isinstance(value, str):
        text = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
        return f'"{text[:4000]}"'
    number = float(value)
    if not math.isfinite(number):
        return None
    return repr(number)


def line(
    measurement: str, tags: Mapping[str, str], fields: Mapping[str, float | str | None], at: float
) -> str | None:
    """One point, or None when it has no field to write (InfluxDB refuses a point without)."""
    parts = []
    for key, value in fields.items():
        if value is None:
            continue
        text = _field_value(value)
        if text is not None:
            parts.append(f"{_escape_key(key)}={text}")
    if not parts:
        return None
    # a tag with an empty value is dropped by InfluxDB: the tag set would change
    tag_text = ",".join(
        f"{_escape_key(k)}={_escape_key(v or '-')}" for k, v in sorted(tags.items())
    )
    return f"{_escape_key(measurement)},{tag_text} {','.join(parts)} {int(at)}"


def frame_lines(serial: str, site: str, frame: LiveFrame) -> Iterator[str]:
    """The ``enphase_power`` points of one live frame: the site total, then each phase."""
    total = {
        "solar_w": frame.solar_watts,
        "house_w": frame.house_watts,
        "grid_w": frame.grid_watts,
        "battery_w": frame.battery_watts,
        "generator_w": frame.generator_watts,
        "soc_pct": frame.soc_percent,
    }
    tags = {"serial": serial, "site": site, "phase": _TOTAL}
    if (text := line("enphase_power", tags, total, frame.taken_at)) is not None:
        yield text
    for phase, p in sorted(frame.phases.items()):
        fields = {
            "solar_w": p.solar_watts,
            "house_w": p.house_watts,
            "grid_w": p.grid_watts,
            "battery_w": p.battery_watts,
        }
        tags = {"serial": serial, "site": site, "phase": phase}
        if (text := line("enphase_power", tags, fields, frame.taken_at)) is not None:
            yield text


def energy_fields(snapshot: Snapshot) -> dict[str, float | None]:
    """The site's energy counters as ``<flow>_lifetime_wh`` / ``<flow>_today_wh`` fields.

    The seam to `Snapshot.energy` (the six flows, counted or derived): when a
    snapshot has it, its flows are written; before that, the gateway's own
    counters stand in (production as solar, consumption as house, and the
    signed net consumption as ``grid_net_*``, which no later field reuses).
    """
    energy: Any = getattr(snapshot, "energy", None)
    out: dict[str, float | None] = {}
    if energy is not None:
        for flow in FLOWS:
            out[f"{flow}_lifetime_wh"] = energy.lifetime_wh.get(flow)
            out[f"{flow}_today_wh"] = energy.today_wh.get(flow)
        return out
    pairs = (("solar", snapshot.production), ("house", snapshot.consumption))
    for flow, reading in (*pairs, ("grid_net", snapshot.net_consumption)):
        if reading is not None:
            out[f"{flow}_lifetime_wh"] = reading.wh_lifetime
            out[f"{flow}_today_wh"] = reading.wh_today
    return out


def _phase_energy(snapshot: Snapshot) -> Iterator[tuple[str, dict[str, float | None]]]:
    """Per-phase counters where the gateway gives them (its own, not the six flows)."""
    for phase, readings in sorted(snapshot.phases.items()):
        fields: dict[str, float | None] = {}
        for flow, reading in (
            ("solar", readings.production),
            ("house", readings.consumption),
            ("grid_net", readings.net_consumption),
        ):
            if reading is not None:
                fields[f"{flow}_lifetime_wh"] = reading.wh_lifetime
                fields[f"{flow}_today_wh"] = reading.wh_today
        yield phase, fields


def snapshot_lines(
    serial: str, site: str, snapshot: Snapshot, reports: dict[str, int] | None = None
) -> Iterator[str]:
    """Energy, batteries and new inverter reports of one snapshot.

    `reports` (inverter serial -> last report written) is updated in place:
    an inverter report already written is not written again.
    """
    at = snapshot.taken_at
    tags = {"serial": serial, "site": site, "phase": _TOTAL}
    if (text := line("enphase_energy", tags, energy_fields(snapshot), at)) is not None:
        yield text
    for phase, fields in _phase_energy(snapshot):
        tags = {"serial": serial, "site": site, "phase": phase}
        if (text := line("enphase_energy", tags, fields, at)) is not None:
            yield text
    for inv_serial, inv in sorted(snapshot.inverters.items()):
        if reports is not None:
            if reports.get(inv_serial) == inv.last_report:
                continue
            reports[inv_serial] = inv.last_report
        lifetime = inv.detail.wh_lifetime if inv.detail is not None else None
        fields = {"watts_w": inv.watts, "max_w": inv.max_watts, "lifetime_wh": lifetime}
        tags = {"serial": serial, "site": site, "inverter": inv_serial}
        if (text := line("enphase_inverter", tags, fields, inv.last_report)) is not None:
            yield text
    yield from _battery_lines(serial, site, snapshot)


def _battery_lines(serial: str, site: str, snapshot: Snapshot) -> Iterator[str]:
    at = snapshot.taken_at
    battery, acb = snapshot.battery, snapshot.acb
    units: list[tuple[str, dict[str, float | None]]] = []
    if battery is not None:
        bank = {
            "soc_pct": battery.soc_percent,
            "watts_w": bank_watts(battery),
            "available_wh": battery.available_wh,
            "capacity_wh": battery.capacity_wh,
        }
        units.append(("bank", bank))
        for unit_serial, unit in sorted(battery.units.items()):
            fields = {
                "soc_pct": unit.soc_percent,
                "watts_w": unit.watts,
                "capacity_wh": unit.capacity_wh,
                "temperature_c": unit.temperature_c,
            }
            units.append((unit_serial, fields))
    elif acb is not None:
        units.append(
            ("bank", {"soc_pct": acb.soc_percent, "watts_w": acb.watts, "available_wh": acb.wh_now})
        )
    for unit_name, fields in units:
        tags = {"serial": serial, "site": site, "unit": unit_name}
        if (text := line("enphase_battery", tags, fields, at)) is not None:
            yield text


def event_lines(site: str, event: Event) -> Iterator[str]:
    """One ``enphase_event`` point (its message, a string field)."""
    tags = {"serial": event.serial, "site": site, "kind": event.kind}
    if (text := line("enphase_event", tags, {"message": event.message}, event.at)) is not None:
        yield text

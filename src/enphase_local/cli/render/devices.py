"""Rich tables for the device sections of the JSON contract: meters, inverters, storage...

Shared by `read` (everything) and the focused commands (`inverters`,
`meters`, `battery`). Input is contract data only (see `cli.render.snapshot`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rich.table import Table

from .format import DASH, fmt_ago, fmt_clock, fmt_num, fmt_watts, fmt_wh, table

__all__ = [
    "INVERTER_SORTS",
    "battery_tables",
    "controller_table",
    "device_tables",
    "dry_contacts_table",
    "generator_table",
    "inverters_table",
    "meters_table",
    "sort_inverters",
    "tariff_table",
]

Doc = Mapping[str, Any]


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else float("-inf")


INVERTER_SORTS: dict[str, Callable[[tuple[str, Doc]], Any]] = {
    "watts": lambda item: -_num(item[1].get("watts")),
    "serial": lambda item: item[0],
    "last-report": lambda item: -_num(item[1].get("last_report")),
    "temperature": lambda item: -_num(item[1].get("temperature_c")),
}


def sort_inverters(inverters: Doc, by: str = "watts") -> list[tuple[str, Doc]]:
    return sorted(inverters.items(), key=INVERTER_SORTS[by])


def inverters_table(inverters: Doc, now: float, by: str = "watts") -> Table | None:
    if not inverters:
        return None
    detailed = any(inv.get("dc_volts") is not None for inv in inverters.values())
    columns = ["Serial", "Power", "Max", "Last report"]
    if detailed:
        columns += ["DC V", "DC A", "AC V", "Temp", "Today", "Lifetime"]
    total = sum(_num(i.get("watts")) for i in inverters.values() if i.get("watts") is not None)
    t = table(f"Inverters ({len(inverters)}, {fmt_watts(total)})", *columns)
    for serial, inv in sort_inverters(inverters, by):
        row = [
            serial,
            fmt_watts(inv.get("watts")),
            fmt_watts(inv.get("max_watts")),
            fmt_ago(inv.get("last_report"), now),
        ]
        if detailed:
            row += [
                fmt_num(inv.get("dc_volts"), "V"),
                fmt_num(inv.get("dc_amps"), "A", 2),
                fmt_num(inv.get("ac_volts"), "V"),
                fmt_num(inv.get("temperature_c"), "°C", 0),
                fmt_wh(inv.get("wh_today")),
                fmt_wh(inv.get("wh_lifetime")),
            ]
        t.add_row(*row)
    return t


def meters_table(meters: Doc) -> Table | None:
    if not meters:
        return None
    t = table(
        "Meters",
        "CT",
        "Phase",
        "State",
        "Power",
        "Delivered",
        "Received",
        "Volts",
        "Amps",
        "Hz",
        "PF",
        numeric_from=3,
    )
    for ct in sorted(meters):
        m = meters[ct] or {}
        flags = ", ".join(m.get("flags") or ())
        state = f"{m.get('state') or DASH}/{m.get('status') or DASH}"
        state += f" {flags}" if flags else ""
        t.add_row(*_meter_row(ct, "all", state, m))
        for phase in sorted(m.get("phases") or {}):
            t.add_row(*_meter_row("", phase, "", m["phases"][phase] or {}))
    return t


def _meter_row(ct: str, phase: str, state: str, m: Doc) -> list[str]:
    return [
        ct,
        phase,
        state,
        fmt_watts(m.get("watts"), signed=True),
        fmt_wh(m.get("wh_delivered")),
        fmt_wh(m.get("wh_received")),
        fmt_num(m.get("volts"), "V"),
        fmt_num(m.get("amps"), "A"),
        fmt_num(m.get("hz"), "", 2),
        fmt_num(m.get("power_factor"), "", 2),
    ]


def battery_tables(snap: Doc) -> list[Table]:
    """IQ Battery (Encharge) aggregate and units, then AC Battery."""
    out: list[Table] = []
    bat = snap.get("battery")
    if bat:
        t = table("Battery", "", "State of charge", "Available", "Capacity", "Reserve")
        t.add_row(
            "total",
            fmt_num(bat.get("soc_percent"), "%", 0),
            fmt_wh(bat.get("available_wh")),
            fmt_wh(bat.get("capacity_wh")),
            fmt_num(bat.get("reserve_soc_percent"), "%", 0),
        )
        units = bat.get("units") or {}
        if units:
            u = table("Battery units", "Serial", "SoC", "Power (+ discharging)", "Temp", "Capacity")
            for serial in sorted(units):
                unit = units[serial] or {}
                u.add_row(
                    serial,
                    fmt_num(unit.get("soc_percent"), "%", 0),
                    fmt_watts(unit.get("watts"), signed=True),
                    fmt_num(unit.get("temperature_c"), "°C", 0),
                    fmt_wh(unit.get("capacity_wh")),
                )
            out += [t, u]
        else:
            out.append(t)
    acb = snap.get("acb")
    if acb:
        t = table("AC Battery", "State", "Units", "Power (+ discharging)", "Stored", "SoC")
        t.add_row(
            str(acb.get("state") or DASH),
            fmt_num(acb.get("count"), "", 0),
            fmt_watts(acb.get("watts"), signed=True),
            fmt_wh(acb.get("wh_now")),
            fmt_num(acb.get("soc_percent"), "%", 0),
        )
        out.append(t)
    return out


def controller_table(snap: Doc) -> Table | None:
    """Enpower, Meter Collar and C6 combiner: one row each, what matters about the grid."""
    t = table("Controllers", "Device", "Serial", "Grid", "Temp", "Communicating", numeric_from=9)
    enp, col = snap.get("enpower") or {}, snap.get("collar") or {}
    rows = [
        ("Enpower", enp, f"relay {enp.get('mains_oper_state')} ({enp.get('grid_mode')})"),
        ("Meter Collar", col, str(col.get("grid_state") or DASH)),
        ("C6 combiner", snap.get("c6cc") or {}, DASH),
    ]
    for name, device, grid in rows:
        if device:
            t.add_row(
                name,
                str(device.get("serial") or DASH),
                grid,
                fmt_num(device.get("temperature_c"), "°C", 0),
                fmt_num(device.get("communicating")),
            )
    return t if t.row_count else None


def dry_contacts_table(contacts: Doc) -> Table | None:
    if not contacts:
        return None
    t = table(
        "Dry contacts",
        "Id",
        "Status",
        "Type",
        "Load",
        "Mode",
        "Grid",
        "Off grid",
        "Generator",
        "SoC low/high",
        numeric_from=9,
    )
    for cid in sorted(contacts):
        c = contacts[cid] or {}
        soc = f"{fmt_num(c.get('soc_low'), '', 0)}/{fmt_num(c.get('soc_high'), '', 0)}"
        t.add_row(
            cid,
            *(
                str(c.get(k) or DASH)
                for k in (
                    "status",
                    "type",
                    "load_name",
                    "mode",
                    "grid_action",
                    "micro_grid_action",
                    "gen_action",
                )
            ),
            soc,
        )
    return t


def tariff_table(tariff: Doc | None) -> Table | None:
    if not tariff:
        return None
    t = table(
        "Storage settings",
        "Mode",
        "Reserve",
        "Very low",
        "Charge from grid",
        "Schedules",
        numeric_from=1,
    )
    t.add_row(
        str(tariff.get("storage_mode") or DASH),
        fmt_num(tariff.get("reserve_soc_percent"), "%", 0),
        fmt_num(tariff.get("very_low_soc_percent"), "%", 0),
        fmt_num(tariff.get("charge_from_grid")),
        fmt_num(tariff.get("opt_schedules")),
    )
    return t


def generator_table(gen: Doc | None) -> Table | None:
    if not gen:
        return None
    t = table(
        "Generator",
        "Present",
        "Mode",
        "State",
        "Start/stop SoC",
        "Charge batteries",
        "Exercise",
        numeric_from=9,
    )
    ex = gen.get("exercise")
    exercise = (
        f"day {ex.get('day')} at {fmt_clock(ex.get('start_minute'))}, "
        f"{ex.get('duration_minutes')} min every {ex.get('freq_in_weeks')} wk"
        if ex
        else DASH
    )
    t.add_row(
        fmt_num(gen.get("present")),
        str(gen.get("mode") or DASH),
        f"{gen.get('admin_state') or DASH}/{gen.get('oper_state') or DASH}",
        f"{fmt_num(gen.get('start_soc_percent'), '%', 0)}/"
        f"{fmt_num(gen.get('stop_soc_percent'), '%', 0)}",
        fmt_num(gen.get("charge_from_generator")),
        exercise,
    )
    return t


def device_tables(snap: Doc) -> list[Table | None]:
    now = float(snap.get("taken_at") or 0)
    return [
        meters_table(snap.get("meters") or {}),
        inverters_table(snap.get("inverters") or {}, now),
        *battery_tables(snap),
        controller_table(snap),
        dry_contacts_table(snap.get("dry_contacts") or {}),
        tariff_table(snap.get("tariff")),
        generator_table(snap.get("generator")),
    ]

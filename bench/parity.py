"""Does our snapshot carry every value pyenphase's EnvoyData carries?

Fewer requests must never mean less data. For each value pyenphase has
(production, consumption, net, per phase, CT meters and their phases,
inverters, battery aggregate and units, ACB, Enpower, dry contacts, tariff,
generator) we look for the same value in ``Snapshot.to_dict()``: missing is a
presence failure; a different number (beyond rounding: pyenphase keeps
integers) is a value failure.

Known differences in meaning, not in data: pyenphase's aggregate CT
``voltage`` is the sum of the phase voltages, ours the mean, so aggregate
voltage is compared as sum-of-phases; per-phase voltages are compared as-is.
"""

from __future__ import annotations

from typing import Any


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(1.01, 0.005 * max(abs(a), abs(b)))


class Checker:
    def __init__(self) -> None:
        self.checked = 0
        self.missing: list[str] = []
        self.differ: list[str] = []

    def value(self, where: str, theirs: Any, ours: Any) -> None:
        if theirs is None:
            return
        self.checked += 1
        if ours is None:
            self.missing.append(where)
        elif (
            isinstance(theirs, int | float)
            and not isinstance(theirs, bool)
            and not _close(float(theirs), float(ours))
        ):
            self.differ.append(f"{where}: pyenphase {theirs} ours {ours}")

    def present(self, where: str, theirs: Any, ours: Any) -> None:
        if theirs in (None, {}, []):
            return
        self.checked += 1
        if ours in (None, {}, []):
            self.missing.append(where)

    def result(self) -> dict[str, Any]:
        return {"checked": self.checked, "missing": self.missing, "differ": self.differ}


_FLOW = (
    ("watts_now", "watts"),
    ("watt_hours_today", "wh_today"),
    ("watt_hours_last_7_days", "wh_last_7_days"),
    ("watt_hours_lifetime", "wh_lifetime"),
)
_METER = (
    ("active_power", "watts"),
    ("energy_delivered", "wh_delivered"),
    ("energy_received", "wh_received"),
    ("current", "amps"),
    ("frequency", "hz"),
    ("power_factor", "power_factor"),
)


def _flow(c: Checker, where: str, theirs: Any, ours: dict[str, Any] | None) -> None:
    if theirs is None:
        return
    c.present(where, True, ours)
    for t, o in _FLOW:
        c.value(f"{where}.{o}", getattr(theirs, t), (ours or {}).get(o))


def compare(data: Any, snap: dict[str, Any]) -> dict[str, Any]:
    """`data`: pyenphase EnvoyData; `snap`: our Snapshot.to_dict()."""
    c = Checker()
    _flow(c, "production", data.system_production, snap["production"])
    _flow(c, "consumption", data.system_consumption, snap["consumption"])
    _flow(c, "net_consumption", data.system_net_consumption, snap["net_consumption"])
    for attr, key in (
        ("system_production_phases", "production"),
        ("system_consumption_phases", "consumption"),
        ("system_net_consumption_phases", "net_consumption"),
    ):
        for phase, reading in (getattr(data, attr) or {}).items():
            ours = (snap["phases"].get(str(phase)) or {}).get(key)
            _flow(c, f"phases.{phase}.{key}", reading, ours)
    for kind, meter in (data.ctmeters or {}).items():
        ours = snap["meters"].get(str(kind))
        c.present(f"meters.{kind}", meter, ours)
        if meter is None or ours is None:
            continue
        for t, o in _METER:
            c.value(f"meters.{kind}.{o}", getattr(meter, t), ours.get(o))
        phases = (data.ctmeters_phases or {}).get(kind) or {}
        volts = [p.get("volts") for p in (ours.get("phases") or {}).values()]
        if phases and volts and None not in volts:
            c.value(f"meters.{kind}.volts(sum of phases)", meter.voltage, sum(volts))
        elif not phases:
            c.value(f"meters.{kind}.volts", meter.voltage, ours.get("volts"))
        for phase, pm in phases.items():
            op = (ours.get("phases") or {}).get(str(phase))
            c.present(f"meters.{kind}.{phase}", pm, op)
            if pm is None or op is None:
                continue
            for t, o in (*_METER, ("voltage", "volts")):
                c.value(f"meters.{kind}.{phase}.{o}", getattr(pm, t), op.get(o))
    for serial, inv in (data.inverters or {}).items():
        ours = snap["inverters"].get(serial)
        c.present(f"inverters.{serial}", inv, ours)
        if ours is None:
            continue
        c.value(f"inverters.{serial}.watts", inv.last_report_watts, ours.get("watts"))
        c.value(f"inverters.{serial}.max_watts", inv.max_report_watts, ours.get("max_watts"))
        c.value(f"inverters.{serial}.last_report", inv.last_report_date, ours.get("last_report"))
    battery = snap.get("battery") or {}
    agg = data.encharge_aggregate
    if agg is not None:
        c.present("battery", agg, battery)
        c.value("battery.soc_percent", agg.state_of_charge, battery.get("soc_percent"))
        c.value("battery.available_wh", agg.available_energy, battery.get("available_wh"))
        c.value("battery.capacity_wh", agg.max_available_capacity, battery.get("capacity_wh"))
        c.value(
            "battery.reserve_soc_percent",
            agg.configured_reserve_state_of_charge,
            battery.get("reserve_soc_percent"),
        )
    units = battery.get("units") or {}
    for serial, power in (data.encharge_power or {}).items():
        unit = units.get(serial)
        c.present(f"battery.units.{serial}", power, unit)
        if unit is not None:
            c.value(f"battery.units.{serial}.soc_percent", power.soc, unit.get("soc_percent"))
    for serial, enc in (data.encharge_inventory or {}).items():
        c.present(f"battery.units.{serial}(inventory)", enc, units.get(serial))
    c.present("acb", data.acb_power, snap.get("acb"))
    c.present("enpower", data.enpower, snap.get("enpower"))
    c.present("collar", data.collar, snap.get("collar"))
    c.present("c6cc", data.c6cc, snap.get("c6cc"))
    c.present("generator", data.generator, snap.get("generator"))
    c.present("tariff", data.tariff, snap.get("tariff"))
    for cid, contact in (data.dry_contact_status or {}).items():
        c.present(f"dry_contacts.{cid}", contact, (snap.get("dry_contacts") or {}).get(cid))
    return c.result()

"""Rich tables of a whole snapshot from the JSON contract (docs/json-contract.md), for `read`.

Why from the dict and not the models: the contract is what we promise
scripts, so rendering it proves the contract carries everything a person
wants to see, and the tables cannot drift from ``--json``. Every function
here takes plain contract data (``Snapshot.to_dict()`` or a part of it) and
tolerates ``null`` anywhere, because a gateway may not report a value.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .devices import device_tables
from .energy import energy_table
from .format import DASH, Doc, fmt_ago, fmt_num, fmt_time, fmt_watts, fmt_wh, table

__all__ = [
    "FLOWS",
    "flows_table",
    "freshness_table",
    "gateway_line",
    "notes",
    "phases_table",
    "snapshot_view",
]

FLOWS = (("production", "Solar"), ("consumption", "House"), ("net_consumption", "Grid (net)"))


def gateway_line(snap: Doc) -> Text:
    gw = snap.get("gateway") or {}
    parts = [
        f"Gateway {gw.get('serial') or '?'}",
        f"firmware {gw.get('firmware') or '?'}",
        f"{'metered' if gw.get('metered') else 'not metered'}",
        f"auth {gw.get('auth') or '?'}" + (f" ({gw['role']})" if gw.get("role") else ""),
        f"at {fmt_time(snap.get('taken_at'))}",
    ]
    return Text("  ".join(parts), style="bold")


def flows_table(snap: Doc) -> Table | None:
    rows: list[tuple[str, Doc]] = [
        (_label(snap, key, label), snap[key]) for key, label in FLOWS if snap.get(key)
    ]
    if not rows:
        return None
    t = table("Energy", "", "Power", "Today", "Last 7 days", "Lifetime", "Source")
    for label, flow in rows:
        t.add_row(
            label,
            fmt_watts(flow.get("watts"), signed=label.startswith("Grid")),
            fmt_wh(flow.get("wh_today")),
            fmt_wh(flow.get("wh_last_7_days")),
            fmt_wh(flow.get("wh_lifetime")),
            str(flow.get("source") or DASH),
        )
    t.caption = "Grid: + import, - export" if snap.get("net_consumption") else None
    return t


def _label(snap: Doc, key: str, label: str) -> str:
    """The gateway's consumption counter is the house only where `energy` says so."""
    energy = snap.get("energy") or {}
    if key == "consumption" and "house" in (energy.get("derived") or ()):
        return "Consumption (gateway's counter)"
    return label


def phases_table(phases: Doc) -> Table | None:
    if not phases:
        return None
    t = table("Phases", "Phase", "Solar", "House", "Grid", "Volts", "Amps (solar)")
    for name in sorted(phases):
        phase = phases[name] or {}
        prod, cons, net = (phase.get(k) or {} for k, _ in FLOWS)
        volts = next((f.get("volts") for f in (prod, net, cons) if f.get("volts")), None)
        t.add_row(
            name,
            fmt_watts(prod.get("watts")),
            fmt_watts(cons.get("watts")),
            fmt_watts(net.get("watts"), signed=True),
            fmt_num(volts, "V"),
            fmt_num(prod.get("amps"), "A"),
        )
    return t


def freshness_table(snap: Doc) -> Table | None:
    fresh = snap.get("freshness") or {}
    if not fresh:
        return None
    now = float(snap.get("taken_at") or 0)
    t = table("Freshness", "Section", "Last fresh", "Age")
    # a section the site does not have (null or empty in the snapshot) has no freshness to show
    shown = [name for name in sorted(fresh) if name not in snap or snap.get(name)]
    if not shown:
        return None
    for name in shown:
        t.add_row(name, fmt_time(fresh[name]), fmt_ago(fresh[name], now))
    return t


def notes(snap: Doc) -> Text | None:
    """Errors and warnings, one per line; None when there are none."""
    lines: list[Text] = []
    for section, message in sorted((snap.get("errors") or {}).items()):
        lines.append(Text(f"error {section}: {message}", style="red"))
    for warning in snap.get("warnings") or ():
        lines.append(Text(f"warning: {warning}", style="yellow"))
    return Text("\n").join(lines) if lines else None


def snapshot_view(snap: Doc) -> Group:
    """Everything in one snapshot, section by section; absent sections are left out."""
    parts: Iterable[RenderableType | None] = (
        gateway_line(snap),
        energy_table(snap),
        flows_table(snap),
        phases_table(snap.get("phases") or {}),
        *device_tables(snap),
        freshness_table(snap),
        notes(snap),
    )
    return Group(*(p for p in parts if p is not None))

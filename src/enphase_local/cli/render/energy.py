"""Where the energy went, for `read`: the six flows' power now, today and lifetime.

The house row is the real house load (``power_flow.house_watts`` and
``energy``), not the gateway's consumption counter, which on battery sites
counts charging as house use and leaves discharge out: that one keeps its
own name in the Energy table. Derived flows are marked, as the contract's
``energy.derived`` says.
"""

from __future__ import annotations

from rich.table import Table

from .format import DASH, Doc, fmt_watts, fmt_wh, table

__all__ = ["ENERGY_ROWS", "energy_table", "self_shares"]

# flow -> (label, the power_flow field and sign that shows it now)
ENERGY_ROWS: tuple[tuple[str, str, str, float], ...] = (
    ("solar", "Solar", "solar_watts", 1.0),
    ("house", "House", "house_watts", 1.0),
    ("grid_import", "Grid import", "grid_watts", 1.0),
    ("grid_export", "Grid export", "grid_watts", -1.0),
    ("battery_charge", "Battery charge", "battery_watts", -1.0),
    ("battery_discharge", "Battery discharge", "battery_watts", 1.0),
    ("generator", "Generator", "generator_watts", 1.0),
)


def _now(flow: Doc, field: str, sign: float) -> str:
    value = flow.get(field)
    if not isinstance(value, int | float):
        return DASH
    return fmt_watts(max(0.0, sign * value))


def self_shares(today: Doc) -> tuple[float | None, float | None]:
    """Self-consumption % (solar used on site) and self-sufficiency % (house from own sources)."""
    solar, house = today.get("solar"), today.get("house")
    export, imported = today.get("grid_export"), today.get("grid_import")
    consumption = sufficiency = None
    if isinstance(solar, int | float) and isinstance(export, int | float) and solar > 0:
        consumption = max(0.0, min(100.0, 100.0 * (solar - export) / solar))
    if isinstance(house, int | float) and isinstance(imported, int | float) and house > 0:
        sufficiency = max(0.0, min(100.0, 100.0 * (house - imported) / house))
    return consumption, sufficiency


def energy_table(snap: Doc) -> Table | None:
    """The flows the site has (a row per flow with a lifetime), or None without `energy`."""
    energy = snap.get("energy") or {}
    life, today = energy.get("lifetime_wh") or {}, energy.get("today_wh") or {}
    flow = snap.get("power_flow") or {}
    derived = set(energy.get("derived") or ())
    rows = [row for row in ENERGY_ROWS if life.get(row[0]) is not None]
    if not rows:
        return None
    t = table("Where the energy went", "", "Now", "Today", "Lifetime")
    for name, label, field, sign in rows:
        mark = " (derived)" if name in derived else ""
        t.add_row(
            label + mark, _now(flow, field, sign), fmt_wh(today.get(name)), fmt_wh(life[name])
        )
    shares = self_shares(today)
    parts = [
        f"{word} {value:.0f} %"
        for word, value in zip(("self-consumption", "self-sufficiency"), shares, strict=True)
        if value is not None
    ]
    zone = energy.get("zone")
    parts.append(f"today in {zone}" if zone else "today: the site's time zone is not known yet")
    t.caption = ", ".join(parts)
    return t

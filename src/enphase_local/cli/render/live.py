"""The live view of `watch` and `demo`: where the power goes now, and how fresh each part is.

Built from contract data only. The tiles come from the balanced flows
(``power_flow`` of a snapshot, or a live frame: solar + grid + battery +
generator = house); only a document without them falls back to the
production / consumption / net sections and the batteries' own units.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .format import fmt_ago, fmt_num, fmt_time, fmt_watts
from .snapshot import gateway_line, notes, phases_table

__all__ = ["battery_flow", "frame_line", "frame_view", "live_view", "plain_line"]

Doc = Mapping[str, Any]


def _watts(section: Any) -> float | None:
    if isinstance(section, Mapping) and isinstance(section.get("watts"), int | float):
        return float(section["watts"])
    return None


def _live_flow(snap: Doc, name: str) -> float | None:
    live = snap.get("live") or {}
    return _watts((live.get("flows") or {}).get(name))


def battery_flow(snap: Doc) -> tuple[float | None, float | None]:
    """(watts, positive when discharging; state of charge %) of all storage together."""
    bat, acb, live = snap.get("battery") or {}, snap.get("acb") or {}, snap.get("live") or {}
    units = [u.get("watts") for u in (bat.get("units") or {}).values()]
    watts: float | None = None
    if any(isinstance(w, int | float) for w in units):
        watts = sum(float(w) for w in units if isinstance(w, int | float))
    if acb and _watts(acb) is not None:
        watts = (watts or 0.0) + float(acb["watts"])
    if watts is None:
        watts = _live_flow(snap, "storage")
    soc = bat.get("soc_percent")
    if soc is None:
        soc = acb.get("soc_percent") if acb else live.get("soc_percent")
    return watts, soc if isinstance(soc, int | float) else None


def _cell(title: str, watts: float | None, detail: str, style: str) -> Text:
    text = Text(f"{title}\n", style="bold")
    text.append(fmt_watts(watts) if watts is not None else "-", style=f"bold {style}")
    text.append(f"\n{detail}", style="dim")
    return text


def _tiles(snap: Doc) -> tuple[float | None, float | None, float | None, float | None, Any]:
    """(solar, house, grid, battery, soc): the balanced flows when the document has them."""
    flow = snap.get("power_flow")
    if isinstance(flow, Mapping) and flow.get("house_watts") is not None:
        return (
            flow.get("solar_watts"),
            flow.get("house_watts"),
            flow.get("grid_watts"),
            flow.get("battery_watts"),
            flow.get("soc_percent"),
        )
    solar = _watts(snap.get("production"))
    house = _watts(snap.get("consumption"))
    grid = _watts(snap.get("net_consumption"))
    solar = _live_flow(snap, "pv") if solar is None else solar
    house = _live_flow(snap, "load") if house is None else house
    grid = _live_flow(snap, "grid") if grid is None else grid
    battery, soc = battery_flow(snap)
    return solar, house, grid, battery, soc


def _flows(snap: Doc) -> Table:
    solar, house, grid, battery, soc = _tiles(snap)
    grid_word = "no meter" if grid is None else ("importing" if grid > 0 else "exporting")
    if battery is None:
        bat_word = "none"
    else:
        state = "discharging" if battery > 1 else "charging" if battery < -1 else "idle"
        bat_word = f"{state}, {fmt_num(soc, '%', 0)}" if soc is not None else state
    grid_shown = abs(grid) if grid is not None else None
    bat_shown = abs(battery) if battery is not None else None
    grid_table = Table.grid(expand=True, padding=(0, 2))
    for _ in range(4):
        grid_table.add_column(justify="center", ratio=1)
    grid_table.add_row(
        _cell("☀ Solar", solar, "producing" if (solar or 0) >= 1 else "not producing", "yellow"),
        _cell("⌂ House", house, "using", "cyan"),
        _cell("⚡ Grid", grid_shown, grid_word, "red" if (grid or 0) > 0 else "green"),
        _cell("▮ Battery", bat_shown, bat_word, "magenta"),
    )
    return grid_table


def _freshness(snap: Doc) -> Text:
    now = float(snap.get("taken_at") or 0)
    fresh = snap.get("freshness") or {}
    wanted = ("production", "meters", "inverters", "battery", "live")
    shown = [k for k in wanted if k in fresh and (k not in snap or snap.get(k))]
    parts = [f"{k} {fmt_ago(fresh[k], now)}" for k in shown]
    return Text("fresh: " + (", ".join(parts) or "-"), style="dim")


def plain_line(snap: Doc) -> str:
    """One update as one line of text, for a watch whose stdout is a file or a pipe."""
    solar, house, grid, battery, soc = _tiles(snap)
    parts = [fmt_time(snap.get("taken_at"))]
    parts.append(f"solar {fmt_watts(solar)}")
    parts.append(f"house {fmt_watts(house)}")
    if grid is not None:
        parts.append(f"grid {fmt_watts(grid, signed=True)}")
    if battery is not None:
        parts.append(
            f"battery {fmt_watts(battery, signed=True)}"
            + (f" {soc:.0f}%" if isinstance(soc, int | float) else "")
        )
    errors = snap.get("errors") or {}
    if errors:
        parts.append("errors: " + ", ".join(sorted(errors)))
    return "  ".join(parts)


def frame_line(frame: Doc) -> str:
    """One live frame (``LiveFrame.to_json``) as one line of text, with its age."""
    line = plain_line({"taken_at": frame.get("taken_at"), "power_flow": frame})
    age = frame.get("age_s")
    stale = " STALE" if frame.get("stale") else ""
    return f"{line}  ({frame.get('source')}, {age:.0f} s old{stale})" if age is not None else line


def frame_view(
    frame: Doc, gateway: Doc, *, footer: str = "", title: str = "enphase watch"
) -> Panel:
    """One live frame: the flows, per phase, and how old the data is."""
    snap = {"gateway": gateway, "taken_at": frame.get("taken_at"), "power_flow": frame}
    parts: list[Any] = [gateway_line(snap), Text(""), _flows(snap)]
    phases = frame.get("phases") or {}
    if phases:
        table = Table(box=box.SIMPLE, show_header=True)
        for column in ("phase", "solar", "house", "grid", "battery"):
            table.add_column(column, justify="right")
        for name, phase in sorted(phases.items()):
            table.add_row(
                name,
                *(
                    fmt_watts(phase.get(f"{flow}_watts"))
                    for flow in ("solar", "house", "grid", "battery")
                ),
            )
        parts.append(table)
    age = frame.get("age_s")
    older = frame.get("ages_s") or {}
    when = (
        f"{frame.get('source')}: {age:.0f} s old" if age is not None else str(frame.get("source"))
    )
    if older:
        when += " (" + ", ".join(f"{k} {v:.0f} s" for k, v in sorted(older.items())) + ")"
    style = "bold red" if frame.get("stale") else "dim"
    parts.append(Text(("STALE " if frame.get("stale") else "") + when, style=style))
    if footer:
        parts.append(Text(footer, style="dim"))
    return Panel(Group(*parts), title=title, border_style="blue")


def live_view(snap: Doc, *, footer: str = "", title: str = "enphase watch") -> Panel:
    """One frame: flows, per-phase table, freshness, errors."""
    parts: list[Any] = [gateway_line(snap), Text(""), _flows(snap)]
    phases = phases_table(snap.get("phases") or {})
    if phases is not None:
        phases.box = box.SIMPLE
        parts.append(phases)
    parts.append(_freshness(snap))
    extra = notes(snap)
    if extra is not None:
        parts.append(extra)
    if footer:
        parts.append(Text(footer, style="dim"))
    return Panel(Group(*parts), title=title, border_style="blue")

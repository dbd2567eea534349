"""Number, energy and time formatting, and the house table style, for every rendered view.

Why one place: `read`, the focused commands, `info` and the live view must
show the same value the same way (watts as W or kW, energies as Wh..MWh,
a missing value as a dash), so a reader can compare them at a glance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from rich import box
from rich.table import Table

__all__ = ["DASH", "Doc", "fmt_ago", "fmt_num", "fmt_time", "fmt_watts", "fmt_wh", "table"]

DASH = "-"
Doc = Mapping[str, Any]


def fmt_watts(value: Any, *, signed: bool = False) -> str:
    if not isinstance(value, int | float):
        return DASH
    sign = "+" if signed and value > 0 else ""
    if abs(value) >= 1000:
        return f"{sign}{value / 1000:.2f} kW"
    return f"{sign}{value:.0f} W"


def fmt_wh(value: Any) -> str:
    if not isinstance(value, int | float):
        return DASH
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.2f} MWh"
    if abs(value) >= 1000:
        return f"{value / 1000:.2f} kWh"
    return f"{value:.0f} Wh"


def fmt_num(value: Any, unit: str = "", digits: int = 1) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, int | float):
        return DASH if value is None or value == "" else str(value)
    text = f"{value:.{digits}f}"
    return f"{text} {unit}".rstrip()


def fmt_time(epoch: Any) -> str:
    """Local wall-clock time of an epoch timestamp."""
    if not isinstance(epoch, int | float) or epoch <= 0:
        return DASH
    return dt.datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def fmt_ago(epoch: Any, now: float) -> str:
    if not isinstance(epoch, int | float) or epoch <= 0:
        return "never"
    seconds = now - epoch
    if seconds < 1:
        return "now"
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def table(title: str, *columns: str, numeric_from: int = 1) -> Table:
    """A table in the house style: first columns left, numbers right-aligned."""
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, title_style="bold")
    for index, column in enumerate(columns):
        t.add_column(column, justify="right" if index >= numeric_from else "left")
    return t

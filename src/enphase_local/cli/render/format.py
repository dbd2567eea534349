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

__all__ = [
    "DASH",
    "Doc",
    "fmt_ago",
    "fmt_clock",
    "fmt_num",
    "fmt_time",
    "fmt_watts",
    "fmt_wh",
    "set_display_zone",
    "table",
]

DASH = "-"
Doc = Mapping[str, Any]


def _no_negative_zero(value: float, digits: int) -> float:
    """-0.3 W shown with no decimals is "0 W", never "-0 W"."""
    return 0.0 if round(value, digits) == 0 else value


def fmt_watts(value: Any, *, signed: bool = False) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return DASH
    if abs(value) >= 1000:
        value = _no_negative_zero(value / 1000, 2) * 1000
        sign = "+" if signed and value > 0 else ""
        return f"{sign}{value / 1000:.2f} kW"
    value = _no_negative_zero(value, 0)
    sign = "+" if signed and value > 0 else ""
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
    text = f"{_no_negative_zero(value, digits):.{digits}f}"
    return f"{text} {unit}".rstrip()


def fmt_clock(minute_of_day: Any) -> str:
    """Minutes after midnight as a time of day: 945 -> "15:45"."""
    if not isinstance(minute_of_day, int | float) or isinstance(minute_of_day, bool):
        return DASH
    minutes = int(minute_of_day) % 1440
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


_ZONE: dict[str, dt.tzinfo | None] = {"zone": None}


def set_display_zone(zone: dt.tzinfo | None) -> None:
    """Show times in `zone` (the demo shows its simulated site's time); None: the viewer's."""
    _ZONE["zone"] = zone


def fmt_time(epoch: Any) -> str:
    """Wall-clock time of an epoch timestamp, in the display zone (the viewer's by default)."""
    if not isinstance(epoch, int | float) or epoch <= 0:
        return DASH
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC).astimezone(_ZONE["zone"])
    return moment.strftime("%Y-%m-%d %H:%M:%S")


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

"""The polish of issue 18 in the rendered output: numbers, times, titles, absent sections."""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo

from rich.console import Console

from enphase_local.cli.render.format import (
    fmt_clock,
    fmt_num,
    fmt_time,
    fmt_watts,
    set_display_zone,
)
from enphase_local.cli.render.live import live_view
from enphase_local.cli.render.snapshot import freshness_table

from .conftest import enphase


def _text(renderable: object) -> str:
    console = Console(width=100, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def test_no_negative_zero() -> None:
    assert fmt_watts(-0.3) == "0 W" and fmt_watts(-0.3, signed=True) == "0 W"
    assert fmt_num(-0.001, "", 2) == "0.00" and fmt_num(-0.004, "V") == "0.0 V"
    assert fmt_watts(-1999.999) == "-2.00 kW" and fmt_watts(12.4, signed=True) == "+12 W"


def test_generator_exercise_time_of_day() -> None:
    assert fmt_clock(945) == "15:45" and fmt_clock(0) == "00:00" and fmt_clock(None) == "-"


def test_freshness_lists_only_sections_the_site_has() -> None:
    snap = {
        "taken_at": 1000.0,
        "production": {"watts": 5},
        "acb": None,
        "battery": None,
        "inverters": {},
        "freshness": {"production": 990.0, "acb": 990.0, "battery": 990.0, "inverters": 990.0,
                      "gateway": 990.0},
    }  # fmt: skip
    text = _text(freshness_table(snap))
    assert "production" in text and "gateway" in text
    assert "acb" not in text and "battery" not in text and "inverters" not in text


def test_night_is_not_producing_and_panel_title() -> None:
    snap = {"taken_at": 1000.0, "production": {"watts": 0.2}, "gateway": {}}
    text = _text(live_view(snap, title="enphase demo"))
    assert "not producing" in text and "enphase demo" in text and "-0 W" not in text


def test_display_zone_is_the_sites_for_the_demo() -> None:
    epoch = dt.datetime(2026, 6, 15, 18, 0, tzinfo=dt.UTC).timestamp()
    set_display_zone(zoneinfo.ZoneInfo("Pacific/Honolulu"))
    try:
        assert fmt_time(epoch) == "2026-06-15 08:00:00"
    finally:
        set_display_zone(None)


def test_demo_shows_site_time_and_the_right_url() -> None:
    result = enphase("demo", "--preset", "legacy-3x", "--json")
    assert result.exit_code == 0, result.stderr
    assert re.search(r"at http://127\.0\.0\.1:\d+,", result.stderr), result.stderr
    assert "https://" not in result.stderr and "Pacific/Honolulu" in result.stderr
    once = enphase("demo", "--once")
    line = next(x for x in once.stdout.splitlines() if x.startswith("Gateway"))
    assert re.search(r"at \d{4}-\d\d-\d\d 11:0\d:\d\d", line), line  # 11:00 site time
    doc = json.loads(enphase("demo", "--json").stdout)
    assert doc["schema"] == 1

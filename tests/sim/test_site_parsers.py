"""The project's own parsers read the simulator's bodies (skipped while a parser is missing)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from enphase_local.simulator import PRESETS, SimClock, SiteBackend

PATHS = [
    "/info",
    "/home",
    "/production.json",
    "/api/v1/production",
    "/api/v1/production/inverters",
    "/ivp/pdm/device_data",
    "/ivp/meters",
    "/ivp/meters/readings",
    "/ivp/meters/reports",
    "/ivp/ensemble/inventory",
    "/ivp/ensemble/power",
    "/ivp/ensemble/secctrl",
    "/ivp/ensemble/dry_contacts",
    "/ivp/ss/dry_contact_settings",
    "/ivp/ensemble/generator",
    "/ivp/ss/gen_config",
    "/ivp/ss/gen_mode",
    "/ivp/ss/gen_schedule",
    "/admin/lib/tariff",
    "/inventory.json",
    "/ivp/livedata/status",
    "/production",
]


def _sources() -> dict[tuple[str, bool], Callable[[bytes], Any]]:
    """Parsers by (path, html?): the legacy HTML page has its own parser on `/production`."""
    try:
        table = importlib.import_module("enphase_local.sources.table")
    except ImportError:
        return {}
    out: dict[tuple[str, bool], Callable[[bytes], Any]] = {}
    for source in getattr(table, "SOURCES", {}).values():
        html = "html" in source.key
        out.setdefault((source.path.split("?")[0], html), source.parse)
    return out


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_parsers_accept_simulated_bodies(name: str) -> None:
    parsers = _sources()
    if not parsers:
        pytest.skip("enphase_local.sources.table is not there yet")
    tz = ZoneInfo(PRESETS[name].timezone)
    clock = SimClock(start=datetime(2024, 7, 3, 11, tzinfo=tz).timestamp(), speed=0)
    b = SiteBackend.from_preset(name, clock=clock, seed=4)
    checked = 0
    for path in PATHS:
        reply = b.handle("GET", path, {"details": "1"}, b"")
        if reply is None or reply.status != 200:
            continue
        parse = parsers.get((path, reply.content_type == "text/html"))
        if parse is None:
            continue
        if reply.body.startswith(b'{ "error"'):
            continue
        parse(reply.body)  # raises EnvoyParseError on a shape the parser does not accept
        checked += 1
    assert checked > 0

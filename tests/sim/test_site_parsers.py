"""The project's own parsers read the simulator's bodies: exactly the paths each preset answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from enphase_local.errors import EnvoyParseError
from enphase_local.simulator import PRESETS, SimClock, SiteBackend
from enphase_local.sources.table import SOURCES

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


NO_CONTROLLER = {  # no IQ System Controller: no dry contacts, no generator behind one
    "/ivp/ensemble/dry_contacts",
    "/ivp/ss/dry_contact_settings",
    "/ivp/ensemble/generator",
}
NO_ENPOWER = NO_CONTROLLER | {"/ivp/ensemble/secctrl"}
GEN_MODE = {"/ivp/ss/gen_mode"}  # answered only where a generator is configured
FW8_ONLY = {"/ivp/pdm/device_data", "/ivp/meters/reports", "/ivp/livedata/status"}
# firmware before 7 has no ensemble (nor its /ivp/ss settings): 404, or an error document
ENSEMBLE_404 = {p for p in PATHS if p.startswith(("/ivp/ensemble/", "/ivp/ss/"))} - GEN_MODE
# what each preset does NOT parse, read off its hardware and firmware (not off the parsers):
# every other path of PATHS must answer 200 and parse
NOT_PARSED: dict[str, set[str]] = {
    "acb": NO_CONTROLLER | GEN_MODE,
    "battery-backup": GEN_MODE,
    "cloud-overwrite": GEN_MODE,
    "collar": NO_CONTROLLER | GEN_MODE,
    "generator": set(),
    "legacy-3x": set(PATHS)
    - {"/info", "/api/v1/production", "/api/v1/production/inverters", "/production"},
    "legacy-5x": ENSEMBLE_404
    | GEN_MODE
    | {"/home", "/ivp/pdm/device_data", "/ivp/meters/reports", "/ivp/livedata/status"},
    "metered-3phase": NO_ENPOWER | GEN_MODE | {"/ivp/livedata/status"},
    # the same hardware on 8.3.5528, the firmware DPEL is readable on
    "export-limit": NO_ENPOWER | GEN_MODE | {"/ivp/livedata/status"},
    "metered-split": NO_ENPOWER | GEN_MODE | FW8_ONLY,
    "standard": NO_ENPOWER | GEN_MODE | FW8_ONLY,
    "tariff-ignored": GEN_MODE,
}
# firmware 5 answers the ensemble paths 200 with an error document, which is no data
ERROR_DOCUMENTS = {
    "legacy-5x": ENSEMBLE_404
    - {"/ivp/ss/dry_contact_settings", "/ivp/ss/gen_config", "/ivp/ss/gen_schedule"}
}


def _parsers() -> dict[tuple[str, bool], Callable[[bytes], Any]]:
    """Parsers by (path, html?): the legacy HTML page has its own parser on `/production`."""
    out: dict[tuple[str, bool], Callable[[bytes], Any]] = {}
    for source in SOURCES.values():
        out.setdefault((source.path.split("?")[0], "html" in source.key), source.parse)
    return out


def test_every_preset_is_listed() -> None:
    assert set(NOT_PARSED) == set(PRESETS)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_parsers_accept_simulated_bodies(name: str) -> None:
    """Exactly the paths the preset's hardware answers are parsed: none skipped unnoticed."""
    parsers = _parsers()
    tz = ZoneInfo(PRESETS[name].timezone)
    clock = SimClock(start=datetime(2024, 7, 3, 11, tzinfo=tz).timestamp(), speed=0)
    b = SiteBackend.from_preset(name, clock=clock, seed=4)
    parsed, errors = set(), set()
    for path in PATHS:
        reply = b.handle("GET", path, {"details": "1"}, b"")
        if reply is None or reply.status != 200:
            continue
        parse = parsers[(path, reply.content_type == "text/html")]  # every path has a parser
        if reply.body.startswith(b'{ "error"'):
            errors.add(path)
            with pytest.raises(EnvoyParseError):
                parse(reply.body)
            continue
        parse(reply.body)  # raises EnvoyParseError on a shape the parser does not accept
        parsed.add(path)
    assert parsed == set(PATHS) - NOT_PARSED[name]
    assert errors == ERROR_DOCUMENTS.get(name, set())

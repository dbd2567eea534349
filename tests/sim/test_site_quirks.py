"""Each quirk switch makes the simulated gateway misbehave the way the real firmware does."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from enphase_local.simulator import PRESETS, SimClock, SiteBackend, SiteConfig
from enphase_local.simulator.site.config import Counters, Quirks
from enphase_local.simulator.views.state import WRAP_WH


def at(cfg: SiteConfig, day: int, hour: int, minute: int = 0) -> float:
    return datetime(2024, 7, day, hour, minute, tzinfo=ZoneInfo(cfg.timezone)).timestamp()


def get(b: SiteBackend, path: str, **query: str) -> Any:
    reply = b.handle("GET", path, query, b"")
    assert reply is not None and reply.status == 200, path
    return orjson.loads(reply.body)


def test_total_consumption_equals_net_on_8_3_5433() -> None:
    cfg = replace(
        PRESETS["metered-split"],
        firmware="D8.3.5433",
        quirks=Quirks(total_equals_net_8_3_5433=True),
    )
    clock = SimClock(start=at(cfg, 3, 12), speed=0)
    b = SiteBackend(cfg, clock, seed=1)
    cons = {c["measurementType"]: c for c in get(b, "/production.json")["consumption"]}
    assert cons["total-consumption"]["wNow"] == cons["net-consumption"]["wNow"]
    assert cons["total-consumption"]["whLifetime"] == cons["net-consumption"]["whLifetime"]
    assert cons["total-consumption"]["wNow"] < 0  # exporting at noon: "total" went negative
    normal = SiteBackend(PRESETS["metered-split"], clock, seed=1)
    cons = {c["measurementType"]: c for c in get(normal, "/production.json")["consumption"]}
    assert cons["total-consumption"]["wNow"] != cons["net-consumption"]["wNow"]


def test_late_midnight_reset() -> None:
    cfg = replace(PRESETS["metered-split"], quirks=Quirks(late_midnight_reset=600.0))
    clock = SimClock(start=at(cfg, 3, 22), speed=0)
    b = SiteBackend(cfg, clock, seed=1)
    clock.set(at(cfg, 3, 23, 59))
    before = get(b, "/production.json")["production"][1]["whToday"]
    assert before > 1000
    clock.set(at(cfg, 4, 0, 5))
    assert get(b, "/production.json")["production"][1]["whToday"] == before  # not reset yet
    clock.set(at(cfg, 4, 0, 11))
    assert get(b, "/production.json")["production"][1]["whToday"] == 0


def test_lifetime_steps_down_by_1_19_mwh() -> None:
    base = PRESETS["standard"]
    n = base.inverters.count
    cfg = replace(
        base,
        counters=Counters(production_wh=n * (WRAP_WH - 300)),
        quirks=Quirks(lifetime_step_down=True),
    )
    clock = SimClock(start=at(cfg, 3, 6), speed=0)
    b = SiteBackend(cfg, clock, seed=1)
    lifetimes = []
    for minutes in range(0, 10 * 60, 10):
        clock.set(at(cfg, 3, 6) + minutes * 60)
        lifetimes.append(get(b, "/api/v1/production")["wattHoursLifetime"])
    drops = [a - b_ for a, b_ in itertools.pairwise(lifetimes) if b_ < a]
    assert len(drops) == 1
    assert 1_180_000 < drops[0] < 1_190_000 + 1
    plain = SiteBackend(base, clock, seed=1)
    assert get(plain, "/api/v1/production")["wattHoursLifetime"] > 0


def test_device_data_keeps_gone_devices() -> None:
    cfg = replace(PRESETS["metered-3phase"], quirks=Quirks(device_data_keeps_gone=True))
    clock = SimClock(start=at(cfg, 3, 12), speed=0)
    dd = get(SiteBackend(cfg, clock), "/ivp/pdm/device_data")
    devices = [d for d in dd.values() if isinstance(d, dict)]
    gone = [d for d in devices if d["modGone"]]
    assert len(devices) == 19 and len(gone) == 2 and all(not d["active"] for d in gone)
    normal = get(SiteBackend(PRESETS["metered-3phase"], clock), "/ivp/pdm/device_data")
    assert not any(d["modGone"] for d in normal.values() if isinstance(d, dict))
    inverters = get(SiteBackend(cfg, clock), "/api/v1/production/inverters")
    assert len(inverters) == 17  # gone devices are not in the v1 list


def test_v1_production_stalls_on_metered_without_cts() -> None:
    base = PRESETS["metered-3phase"]
    cts = tuple(replace(c, enabled=False) for c in base.cts)
    quirks = Quirks(v1_production_stalled=True)
    cfg = replace(base, firmware="D8.2.4264", cts=cts, quirks=quirks)
    clock = SimClock(start=at(cfg, 3, 10), speed=0)
    b = SiteBackend(cfg, clock)
    first = get(b, "/api/v1/production")
    assert first["wattsNow"] > 0 and first["wattHoursLifetime"] > 0  # stale, not zero
    clock.advance(3 * 3600)
    assert get(b, "/api/v1/production") == first
    assert get(b, "/production.json")["production"][0]["wNow"] != first["wattsNow"]
    fresh = SiteBackend(base, SimClock(start=at(cfg, 3, 10), speed=0))
    v1 = get(fresh, "/api/v1/production")
    fresh._clock.advance(3 * 3600)
    assert get(fresh, "/api/v1/production") != v1


def test_metered_without_cts_reports_zero_v1_and_inactive_eim() -> None:
    base = PRESETS["metered-3phase"]
    cts = tuple(replace(c, enabled=False) for c in base.cts)
    cfg = replace(base, cts=cts)
    clock = SimClock(start=at(cfg, 3, 12), speed=0)
    b = SiteBackend(cfg, clock)
    assert get(b, "/api/v1/production") == {
        "wattHoursToday": 0,
        "wattHoursSevenDays": 0,
        "wattHoursLifetime": 0,
        "wattsNow": 0,
    }
    pj = get(b, "/production.json")
    assert pj["production"][1]["activeCount"] == 0 and pj["production"][0]["wNow"] > 0
    assert {m["state"] for m in get(b, "/ivp/meters")} == {"disabled"}


def test_4x_inactive_consumption_lacks_measurement_type() -> None:
    base = PRESETS["metered-split"]
    cfg = replace(base, firmware="R4.10.35", cts=(replace(base.cts[0]),))
    clock = SimClock(start=at(cfg, 3, 12), speed=0)
    b = SiteBackend(cfg, clock)
    pj = get(b, "/production.json")
    assert all("measurementType" not in c and c["activeCount"] == 0 for c in pj["consumption"])
    assert "lines" in pj["production"][1]  # before 7.6 lines come without asking
    assert all("statusFlags" not in m for m in get(b, "/ivp/meters"))

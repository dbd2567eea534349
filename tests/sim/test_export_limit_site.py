"""The simulated gateway's export limiting and production switch: auth, rules, physics.

Auth is checked over real sockets (an installer writes, an owner reads DPEL
only from 8.3.5528); the physics in-process on a frozen clock, sampled every
30 s over a simulated hour around noon.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import orjson
import pytest

from enphase_local.simulator import PRESETS, SimClock, SimulatedGateway, SiteBackend
from enphase_local.simulator.site.config import CT

DPEL = "/ivp/ss/dpel"
POWER = "/ivp/mod/603980032/mode/power"
SITE = PRESETS["export-limit"]
NOON = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo(SITE.timezone)).timestamp()


def limit_body(watts: float, *, export: bool = True) -> bytes:
    return orjson.dumps(
        {
            "dynamic_pel_settings": {
                "enable": True,
                "export_limit": export,
                "limit_value_W": watts,
                "slew_rate": 50.0,
                "enable_dynamic_limiting": False,
            },
            "filename": "site_settings",
            "version": "00.00.01",
        }
    )


OFF_BODY = orjson.dumps({"dynamic_pel_settings": {"enable": False}})


def site(**changes: object) -> tuple[SiteBackend, SimClock]:
    clock = SimClock(start=NOON, speed=0)
    return SiteBackend(dataclasses.replace(SITE, **changes), clock), clock  # type: ignore[arg-type]


def post(b: SiteBackend, path: str, body: bytes, method: str = "POST") -> tuple[int, object]:
    reply = b.handle(method, path, {}, body)
    assert reply is not None
    return reply.status, orjson.loads(reply.body)


def hour_of_exports(b: SiteBackend, clock: SimClock) -> tuple[list[float], list[float]]:
    """Export (W, positive out) and production every 30 s for one simulated hour."""
    exports, pv = [], []
    for _ in range(120):
        clock.advance(30)
        state = b.state()
        exports.append(-state["grid_w"])
        pv.append(state["pv_w"])
    return exports, pv


def test_a_zero_limit_keeps_export_at_zero_for_an_hour_of_sun() -> None:
    b, clock = site()
    assert -b.state()["grid_w"] > 1000  # noon in June: exporting kilowatts before
    assert post(b, DPEL, limit_body(0))[0] == 200
    clock.advance(30)  # the energy of the 30 s step under way was integrated at its start
    before = b.state()["lifetime_wh"]
    exports, pv = hour_of_exports(b, clock)
    after = b.state()["lifetime_wh"]
    assert max(exports) <= 1e-6
    assert min(pv) > 100  # the house still runs on the sun: curtailed, not off
    net_export_wh = (after["exp"] - before["exp"]) - (after["imp"] - before["imp"])
    assert net_export_wh <= 1e-6
    assert post(b, DPEL, OFF_BODY)[0] == 200  # clear: the sun's surplus goes out again
    exports, _ = hour_of_exports(b, clock)
    assert max(exports) > 1000


def test_the_inverters_report_what_they_deliver_under_the_limit() -> None:
    b, clock = site()
    free = sum(r["lastReportWatts"] for r in get(b, "/api/v1/production/inverters"))
    post(b, DPEL, limit_body(1000, export=False))
    clock.advance(600)  # every inverter has reported since
    capped = sum(r["lastReportWatts"] for r in get(b, "/api/v1/production/inverters"))
    assert free > 2000 and 900 <= capped <= 1000 + 17  # a watt of rounding per inverter


def test_a_500_w_export_limit_and_a_production_limit() -> None:
    b, clock = site()
    post(b, DPEL, limit_body(500))
    exports, _ = hour_of_exports(b, clock)
    assert max(exports) <= 500 + 1e-6 and max(exports) > 400  # capped, at the cap
    post(b, DPEL, limit_body(1200, export=False))
    _, pv = hour_of_exports(b, clock)
    assert max(pv) <= 1200 + 1e-6


def test_the_read_shows_what_was_written_and_a_disable_keeps_the_last_limit() -> None:
    b, _ = site()
    post(b, DPEL, limit_body(300))
    assert get(b, DPEL)["dynamic_pel_settings"]["limit_value_W"] == 300
    post(b, DPEL, OFF_BODY)
    settings = get(b, DPEL)["dynamic_pel_settings"]
    assert settings["enable"] is False and settings["limit_value_W"] == 300


def get(b: SiteBackend, path: str) -> Any:
    reply = b.handle("GET", path, {}, b"")
    assert reply is not None and reply.status == 200
    return orjson.loads(reply.body)


def test_without_enlighten_enabling_the_write_is_accepted_and_nothing_happens() -> None:
    b, clock = site(export_limiting_enabled=False)
    status, _ = post(b, DPEL, limit_body(0))
    assert status == 200
    assert get(b, DPEL)["dynamic_pel_settings"]["enable"] is False
    exports, _ = hour_of_exports(b, clock)
    assert max(exports) > 1000


def test_without_a_consumption_ct_the_limit_is_refused() -> None:
    b, _ = site(cts=(CT("production"),))
    status, doc = post(b, DPEL, limit_body(0))
    assert status == 400 and "Needs Meter" in str(doc)
    assert b.controls.export.writes == 0


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"dynamic_pel_settings": {"enable": true}}',
        b'{"dynamic_pel_settings": {"enable": true, "export_limit": true, "limit_value_W": -1,'
        b' "slew_rate": 5}}',
    ],
)
def test_bad_bodies_change_nothing(body: bytes) -> None:
    b, _ = site()
    assert post(b, DPEL, body)[0] == 400
    assert b.controls.export.writes == 0


def test_firmware_7_has_no_dpel() -> None:
    b, _ = site(firmware="D7.6.175")
    reply = b.handle("GET", DPEL, {}, b"")
    assert reply is not None and b"404 - Not Found" in reply.body


def test_the_switch_stops_production_and_it_comes_back_late() -> None:
    b, clock = site(production_resume_s=1800.0)
    status, doc = post(b, POWER, orjson.dumps({"length": 1, "arr": [1]}), "PUT")
    assert status == 200 and doc == {
        "powerForcedOff": True,
        "pvPowerForcedOff": True,
        "enchargePowerForcedOff": False,
    }
    clock.advance(60)
    assert b.state()["pv_w"] == 0
    post(b, POWER, orjson.dumps({"length": 1, "arr": [0]}), "PUT")
    assert get(b, POWER)["powerForcedOff"] is False  # the switch reads on at once
    clock.advance(1700)
    assert b.state()["pv_w"] == 0  # ... but the inverters are still off
    clock.advance(200)
    assert b.state()["pv_w"] > 1000


def test_by_default_the_switch_leaves_production_off_until_the_next_morning() -> None:
    b, clock = site()
    post(b, POWER, orjson.dumps({"length": 1, "arr": [1]}), "PUT")
    clock.advance(600)
    post(b, POWER, orjson.dumps({"length": 1, "arr": [0]}), "PUT")
    clock.advance(4 * 3600)  # 16:10, still sunny
    assert b.state()["pv_w"] == 0
    clock.advance(17 * 3600)  # 09:10 the next morning
    assert b.state()["pv_w"] > 0


async def _status(session: aiohttp.ClientSession, method: str, url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    body = limit_body(0) if method == "POST" else None
    async with session.request(method, url, data=body, headers=headers, ssl=False) as response:
        await response.read()
        return response.status


@pytest.mark.parametrize(("firmware", "owner_read"), [("D8.3.5528", 200), ("D8.2.4345", 401)])
async def test_installer_writes_and_owner_reads(firmware: str, owner_read: int) -> None:
    b, clock = site(firmware=firmware)
    async with SimulatedGateway(b, clock=clock) as gw, aiohttp.ClientSession() as session:
        url = gw.https_url + DPEL
        owner, installer = gw.owner_token(), gw.installer_token()
        assert await _status(session, "GET", url, owner) == owner_read
        assert await _status(session, "POST", url, owner) == 401
        assert await _status(session, "GET", gw.https_url + POWER, owner) == 401
        assert b.controls.export.writes == 0
        assert await _status(session, "POST", url, installer) == 200
        assert await _status(session, "GET", url, installer) == 200
    assert b.controls.export.writes == 1


def test_the_controller_status_says_when_the_limit_curtails() -> None:
    b, clock = site()
    free = get(b, "/ivp/sc/status")
    assert free["events"] == [] and _pv_setpoint(free) == 100
    post(b, DPEL, limit_body(0))
    clock.advance(30)
    limited = get(b, "/ivp/sc/status")
    assert limited["events"] == ["PEL Active"] and 0 < _pv_setpoint(limited) < 100
    post(b, POWER, orjson.dumps({"length": 1, "arr": [1]}), "PUT")
    post(b, DPEL, OFF_BODY)
    clock.advance(30)
    off = get(b, "/ivp/sc/status")
    assert off["events"] == [] and _pv_setpoint(off) == 0  # switched off: not the limit


def _pv_setpoint(status: Any) -> int:
    groups = status["response"]["groups"]
    return int(next(g["setpoint_val"] for g in groups if g["id"] == "PV"))

"""Every site preset served over real sockets, with the auth of its firmware."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import aiohttp
import orjson
import pytest

from enphase_local.simulator import SimClock, SimulatedGateway

backend_module = pytest.importorskip("enphase_local.simulator.backend")
presets_module = pytest.importorskip("enphase_local.simulator.site.presets")
SiteBackend = backend_module.SiteBackend
PRESET_NAMES = sorted(presets_module.PRESETS)

PATHS = (
    "/production",
    "/production.json",
    "/production.json?details=1",
    "/api/v1/production",
    "/api/v1/production/inverters",
    "/ivp/meters",
    "/ivp/meters/readings",
    "/ivp/livedata/status",
    "/ivp/ensemble/inventory",
    "/ivp/pdm/device_data",
    "/admin/lib/tariff",
    "/inventory.json",
)


def noon(zone: str) -> float:
    return dt.datetime(2024, 6, 21, 12, 0, tzinfo=zoneinfo.ZoneInfo(zone)).timestamp()


def make(name: str) -> SimulatedGateway:
    timezone = presets_module.PRESETS[name].timezone
    clock = SimClock(noon(timezone), speed=0)
    return SimulatedGateway(SiteBackend.from_preset(name, clock=clock, seed=1), clock=clock)


def sessions(gw: SimulatedGateway) -> tuple[aiohttp.ClientSession, str]:
    """An installer session (reads everything) and the base URL its personality is used on."""
    if gw.personality.scheme == "digest":
        middleware = aiohttp.DigestAuthMiddleware("installer", gw.installer_password)
        return aiohttp.ClientSession(middlewares=(middleware,)), gw.http_url
    headers = {"Authorization": f"Bearer {gw.installer_token()}"}
    return aiohttp.ClientSession(headers=headers), gw.https_url


@pytest.mark.parametrize("name", PRESET_NAMES)
async def test_preset_serves_with_its_auth(name: str) -> None:
    async with make(name) as gw:
        backend = gw.backend
        expected_scheme = "token" if int(gw.firmware[1:].split(".")[0]) >= 7 else "digest"
        assert gw.personality.scheme == expected_scheme
        async with aiohttp.ClientSession() as anonymous:
            async with anonymous.get(gw.https_url + "/info", ssl=False) as resp:
                assert resp.status == 200
                assert f"<sn>{gw.serial}</sn>" in await resp.text()
            for path in PATHS:
                plain, _, query = path.partition("?")
                if gw.personality.access(plain) == "public":
                    continue
                async with anonymous.get(gw.https_url + path, ssl=False) as resp:
                    assert resp.status == 401, path
        gw.log.reset()
        session, base = sessions(gw)
        served = 0
        async with session:
            for path in PATHS:
                plain, _, query = path.partition("?")
                params = dict(p.split("=") for p in query.split("&") if p)
                direct = backend.handle("GET", plain, params, b"")
                async with session.get(base + path, ssl=False) as resp:
                    body = await resp.read()
                    if direct is None:
                        assert resp.status == 404, path
                        continue
                    served += 1
                    assert resp.status == direct.status, path
                    assert resp.headers["Content-Type"] == direct.content_type, path
                    if direct.content_type.startswith("application/json"):
                        orjson.loads(body)
        assert served >= 3
        challenges = 1 if gw.personality.scheme == "digest" else 0  # then the nonce is reused
        assert gw.log.count() == len(PATHS) + challenges
        assert gw.log.max_in_flight == 1


@pytest.mark.parametrize("name", ["metered-3phase", "legacy-5x"])
async def test_owner_refused_installer_only(name: str) -> None:
    async with make(name) as gw:
        if gw.personality.scheme == "digest":
            middleware = aiohttp.DigestAuthMiddleware("envoy", gw.owner_password)
            session, base = aiohttp.ClientSession(middlewares=(middleware,)), gw.http_url
        else:
            headers = {"Authorization": f"Bearer {gw.owner_token()}"}
            session, base = aiohttp.ClientSession(headers=headers), gw.https_url
        async with session:
            async with session.get(base + "/ivp/meters/cts", ssl=False) as resp:
                assert resp.status == 401
            async with session.get(base + "/ivp/meters/readings", ssl=False) as resp:
                assert resp.status == 200


async def test_reboot_zeroes_production_but_not_counters() -> None:
    async with make("metered-3phase") as gw:
        session, base = sessions(gw)
        async with session:

            async def production() -> dict[str, float]:
                async with session.get(base + "/api/v1/production", ssl=False) as resp:
                    assert resp.status == 200
                    data: dict[str, float] = await resp.json()
                    return data

            before = await production()
            assert before["wattsNow"] > 0  # June noon
            gw.faults.reboot(60, settle_s=300)
            async with session.get(base + "/api/v1/production", ssl=False) as resp:
                assert resp.status == 503
            gw.clock.advance(61)
            after = await production()
            assert after["wattsNow"] == 0
            assert after["wattHoursLifetime"] >= before["wattHoursLifetime"]
            gw.clock.advance(600)
            assert (await production())["wattsNow"] > 0

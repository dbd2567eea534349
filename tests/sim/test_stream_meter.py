"""/stream/meter: server-sent events of per-phase CT values, behind the firmware's auth."""

from __future__ import annotations

import aiohttp
import orjson
import pytest

from enphase_local.simulator import SimClock, SimulatedGateway, SiteBackend

START = 1_781_546_400.0


async def frames(gw: SimulatedGateway, token: str, count: int) -> tuple[int, list[dict]]:
    out: list[dict] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{gw.https_url}/stream/meter", headers=headers, ssl=False) as resp:
            if resp.status != 200:
                return resp.status, out
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            async for line in resp.content:
                if line.startswith(b"data: "):
                    out.append(orjson.loads(line[6:]))
                    if len(out) == count:
                        break
            return resp.status, out


async def test_frames_agree_with_the_readings() -> None:
    clock = SimClock(start=START, speed=0)
    backend = SiteBackend.from_preset("metered-3phase", clock=clock, seed=1)
    async with SimulatedGateway(backend, clock=clock) as gw:
        gw.core.stream_interval_s = 0.01
        status, got = await frames(gw, gw.owner_token(), 3)
    assert status == 200 and len(got) == 3
    frame = got[0]
    assert set(frame) == {"production", "net-consumption", "total-consumption"}
    assert set(frame["production"]) == {"ph-a", "ph-b", "ph-c"}
    state = backend.state()
    prod = sum(ph["p"] for ph in frame["production"].values())
    total = sum(ph["p"] for ph in frame["total-consumption"].values())
    assert prod == pytest.approx(state["pv_w"], abs=0.01)
    assert total == pytest.approx(state["load_w"], abs=0.01)


async def test_no_cts_no_stream_and_tokens_required() -> None:
    clock = SimClock(start=START, speed=0)
    async with SimulatedGateway(
        SiteBackend.from_preset("standard", clock=clock), clock=clock
    ) as gw:
        # 7.x: only installers may ask at all; then a site without CTs has no stream
        assert (await frames(gw, gw.installer_token(), 1))[0] == 404
        assert (await frames(gw, "not-a-token", 1))[0] == 401


async def test_owner_refused_on_7x_installer_streams() -> None:
    clock = SimClock(start=START, speed=0)
    backend = SiteBackend.from_preset("metered-split", clock=clock, seed=1)
    async with SimulatedGateway(backend, clock=clock) as gw:
        gw.core.stream_interval_s = 0.01
        assert (await frames(gw, gw.owner_token(), 1))[0] == 401
        status, got = await frames(gw, gw.installer_token(), 2)
    # split phase: a third, all-zero channel as on real readings
    assert status == 200 and {"ph-a", "ph-b"} <= set(got[0]["production"])

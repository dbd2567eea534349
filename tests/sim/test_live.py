"""Live data as real gateways give it: a stream to turn on, stale values when off, bursty SSE.

``/ivp/livedata/status`` reports `sc_stream: disabled` and the last live
values until ``POST /ivp/livedata/stream {"enable": 1}``, then turns itself
off after `livedata_timeout_s`; its flows balance on every preset;
``/stream/meter`` can hold frames back and burst, be cut mid-frame, stall.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import replace
from typing import Any

import aiohttp
import orjson
import pytest

from enphase_local.simulator import PRESETS, SimClock, SimulatedGateway, SiteBackend
from enphase_local.simulator.serve.stream import StreamFaults
from tests.sim.test_site_endpoints import noon

FLOWS = ("pv", "storage", "grid", "load", "generator")


def get(b: SiteBackend, path: str) -> Any:
    reply = b.handle("GET", path, {}, b"")
    assert reply is not None and reply.status == 200, path
    return orjson.loads(reply.body)


def enable(b: SiteBackend, on: int = 1) -> dict[str, Any]:
    reply = b.handle("POST", "/ivp/livedata/stream", {}, orjson.dumps({"enable": on}))
    assert reply is not None and reply.status == 200
    data: dict[str, Any] = orjson.loads(reply.body)
    return data


def battery(timeout_s: float | None = None) -> tuple[SiteBackend, SimClock]:
    clock = SimClock(start=noon("battery-backup") - 4 * 3600, speed=0)
    cfg = PRESETS["battery-backup"]
    if timeout_s is not None:
        cfg = replace(cfg, livedata_timeout_s=timeout_s)
    return SiteBackend(cfg, clock, seed=4), clock


def test_stale_until_enabled_then_off_again_after_15_minutes() -> None:
    b, clock = battery()
    first = get(b, "/ivp/livedata/status")
    assert first["connection"]["sc_stream"] == "disabled"
    assert first["info"].startswith("Last available status data shown")
    clock.advance(1800)  # the sun moved; the disabled live data did not
    stale = get(b, "/ivp/livedata/status")
    assert stale["meters"] == first["meters"]
    assert stale["tasks"]["timestamp"] > first["tasks"]["timestamp"]
    assert enable(b) == {"sc_stream": "enabled"}
    live = get(b, "/ivp/livedata/status")
    assert "info" not in live and live["connection"]["sc_stream"] == "enabled"
    assert live["meters"]["last_update"] == stale["meters"]["last_update"] + 1800
    assert live["meters"]["pv"] != stale["meters"]["pv"]
    clock.advance(899)
    last_live = get(b, "/ivp/livedata/status")
    assert last_live["connection"]["sc_stream"] == "enabled"
    clock.advance(2)  # 15 minutes after it was turned on
    off = get(b, "/ivp/livedata/status")
    assert off["connection"]["sc_stream"] == "disabled"
    assert off["meters"] == last_live["meters"]  # the last live moment, stale from now on
    clock.advance(60)
    assert get(b, "/ivp/livedata/status")["meters"] == last_live["meters"]


def test_disable_and_configurable_timeout() -> None:
    b, clock = battery(timeout_s=60)
    enable(b)
    clock.advance(30)
    assert get(b, "/ivp/livedata/status")["connection"]["sc_stream"] == "enabled"
    assert enable(b, 0) == {"sc_stream": "disabled"}
    enable(b)
    clock.advance(61)
    assert get(b, "/ivp/livedata/status")["connection"]["sc_stream"] == "disabled"
    with pytest.raises(ValueError, match="livedata_timeout_s"):
        replace(PRESETS["battery-backup"], livedata_timeout_s=-1)


def _balance(meters: dict[str, Any], key: str) -> int:
    pv, storage, grid, load, gen = (meters[f][key] for f in FLOWS)
    return int(pv + grid + storage + gen - load)


LIVE_PRESETS = sorted(n for n, cfg in PRESETS.items() if cfg.has_ensemble and cfg.fw.at_least(7))


@pytest.mark.parametrize("name", LIVE_PRESETS)
def test_live_flows_balance_on_every_preset(name: str) -> None:
    """pv + grid + storage (discharge +) + generator = load, per phase, to rounding."""
    clock = SimClock(start=noon(name) - 12 * 3600, speed=0)
    b = SiteBackend.from_preset(name, clock=clock, seed=5)
    if PRESETS[name].generator:
        b.handle("POST", "/ivp/ss/gen_mode", {}, b'{"gen_cmd": "on"}')
    seen = set()
    for hour in range(0, 24, 2):
        clock.set(noon(name) - 12 * 3600 + hour * 3600 + 11)
        enable(b)
        meters = get(b, "/ivp/livedata/status")["meters"]
        phases = meters["phase_count"]
        for ph in "abc"[:phases]:
            assert abs(_balance(meters, f"agg_p_ph_{ph}_mw")) <= 2, (hour, ph)
        assert abs(_balance(meters, "agg_p_mw")) <= 2 * phases, hour
        state = b.state()
        assert meters["pv"]["agg_p_mw"] == pytest.approx(state["pv_w"] * 1000, abs=3)
        for flow in FLOWS:
            if meters[flow]["agg_p_mw"]:
                seen.add(flow)
    assert {"pv", "load"} <= seen
    cfg = PRESETS[name]
    if (cfg.battery.count or cfg.acb.count) and cfg.storage.mode != "backup":
        assert "storage" in seen
    if PRESETS[name].generator:
        assert "generator" in seen


def test_every_live_preset_is_covered() -> None:
    assert {"battery-backup", "acb", "generator", "collar"} <= set(LIVE_PRESETS)


# -- /stream/meter pacing and faults -------------------------------------------------------


def test_burst_holds_are_seeded_and_bounded() -> None:
    def holds(seed: int) -> list[int]:
        pace = StreamFaults(seed)
        pace.bursty = True
        return [pace.next_hold() for _ in range(50)]

    assert holds(3) == holds(3) != holds(4)
    assert set(holds(3)) <= set(range(3, 14)) and len(set(holds(3))) > 5
    quiet = StreamFaults(3)
    assert quiet.next_hold() == 0  # off by default: every frame on time
    quiet.stall(60)
    assert quiet.next_hold() == 60 and quiet.next_hold() == 0


async def _arrivals(gw: SimulatedGateway, count: int) -> list[tuple[float, bytes]]:
    """(arrival time, chunk) of raw stream chunks until `count` frames came."""
    headers = {"Authorization": f"Bearer {gw.owner_token()}"}
    out: list[tuple[float, bytes]] = []
    frames = 0
    async with (
        aiohttp.ClientSession() as session,
        session.get(gw.https_url + "/stream/meter", headers=headers, ssl=False) as resp,
    ):
        assert resp.status == 200
        while frames < count:
            chunk = await resp.content.readany()
            if not chunk:
                break
            out.append((time.monotonic(), chunk))
            frames += chunk.count(b"data: ")
    return out


@pytest.fixture
async def stream_gw() -> Any:
    clock = SimClock(start=noon("battery-backup"), speed=0)
    backend = SiteBackend.from_preset("battery-backup", clock=clock, seed=1)  # 8.3: owner ok
    async with SimulatedGateway(backend, clock=clock) as gw:
        gw.core.stream_interval_s = 0.01
        yield gw


async def test_bursty_stream_sends_held_back_frames_together(stream_gw: SimulatedGateway) -> None:
    stream_gw.faults.apply_spec("stream-bursts")
    chunks = await _arrivals(stream_gw, 40)
    assert sum(chunk.count(b"data: ") for _, chunk in chunks) >= 40
    assert len(chunks) <= 20  # far fewer arrivals than frames
    sent = stream_gw.faults.to_dict()["stream"]["sent"]
    assert max(sent) <= 8 and min(sent[1:]) >= 3  # held back 3 to 13 periods, at most 8
    for _, chunk in chunks:  # every frame whole
        for event in chunk.split(b"\n\n")[:-1]:
            assert orjson.loads(event.removeprefix(b"data: "))["production"]


async def test_stream_on_time_by_default(stream_gw: SimulatedGateway) -> None:
    chunks = await _arrivals(stream_gw, 10)
    assert sum(chunk.count(b"data: ") for _, chunk in chunks) >= 10
    assert set(stream_gw.faults.stream.sent) == {1}


async def test_stream_cut_mid_frame(stream_gw: SimulatedGateway) -> None:
    stream_gw.faults.apply_spec("stream-drop-next")
    headers = {"Authorization": f"Bearer {stream_gw.owner_token()}"}
    received = b""
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientPayloadError):
            async with session.get(
                stream_gw.https_url + "/stream/meter", headers=headers, ssl=False
            ) as resp:
                while chunk := await resp.content.readany():
                    received += chunk
    assert received.startswith(b"data: {") and not received.endswith(b"\n\n")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(received.removeprefix(b"data: "))
    assert stream_gw.faults.stream.drops == 0
    assert len(await _arrivals(stream_gw, 3)) >= 1  # the next stream is healthy


async def test_stream_stall(stream_gw: SimulatedGateway) -> None:
    async def stall_later() -> None:
        await asyncio.sleep(0.05)
        stream_gw.faults.apply_spec("stream-stall=30")  # 30 periods: 0.3 s here

    task = asyncio.create_task(stall_later())
    chunks = await _arrivals(stream_gw, 25)
    await task
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(chunks)]
    assert max(gaps) >= 0.25
    assert max(stream_gw.faults.stream.sent) == 8  # what piled up, the newest 8
    assert stream_gw.faults.to_dict()["stream"]["stall_periods"] == 0

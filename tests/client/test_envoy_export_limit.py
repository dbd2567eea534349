"""Export limiting and the production switch through `envoy.control`, over real sockets.

Every refusal is proven to send nothing by the simulator's request log; the
limit is proven to hold by the simulated site's own grid meter, sampled
every 30 s of a simulated hour.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from enphase_local.client import Envoy
from enphase_local.control import Outcome
from enphase_local.control.export_limit import ENLIGHTEN_NOTE
from enphase_local.errors import EnvoyAuthError, EnvoyFeatureUnavailable
from enphase_local.simulator import PRESETS, SimClock, SimulatedGateway, SiteBackend
from enphase_local.simulator.site.config import CT

WRITES = ("PUT", "POST", "DELETE")
NOON = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo(PRESETS["export-limit"].timezone)).timestamp()


def writes(gw: SimulatedGateway) -> list[str]:
    return [e.endpoint for e in gw.log.entries if e.method in WRITES]


def sim_sleep(clock: SimClock) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    return sleep


@asynccontextmanager
async def connected(
    preset: str = "export-limit", *, role: str = "installer", **changes: Any
) -> AsyncIterator[tuple[Envoy, SimulatedGateway, SimClock]]:
    clock = SimClock(start=NOON, speed=0)
    config = dataclasses.replace(PRESETS[preset], **changes)
    async with SimulatedGateway(SiteBackend(config, clock, seed=1), clock=clock) as gw:
        token = gw.installer_token() if role == "installer" else gw.owner_token()
        async with Envoy(gw.https_host, token=token, clock=clock, sleep=sim_sleep(clock)) as envoy:
            yield envoy, gw, clock


def export_w(gw: SimulatedGateway) -> float:
    return -float(gw.backend.state()["grid_w"])  # type: ignore[attr-defined]


async def test_zero_export_is_confirmed_holds_for_an_hour_and_clear_restores_it() -> None:
    async with connected() as (envoy, gw, clock):
        assert export_w(gw) > 1000
        result = await envoy.control.set_export_limit(0)
        assert result.outcome is Outcome.CONFIRMED, result.message
        assert result.after == {
            "enabled": True,
            "mode": "export",
            "limit_watts": 0.0,
            "slew_rate": 50.0,
        }
        samples = []
        for _ in range(120):
            clock.advance(30)
            samples.append(export_w(gw))
        assert max(samples) <= 1e-6
        cleared = await envoy.control.clear_export_limit()
        assert cleared.outcome is Outcome.CONFIRMED and cleared.after == {"enabled": False}
        clock.advance(60)
        assert export_w(gw) > 1000
    assert writes(gw) == ["/ivp/ss/dpel", "/ivp/ss/dpel"]  # once each, never repeated


async def test_an_owner_token_is_refused_before_anything_is_sent() -> None:
    async with connected(role="owner") as (envoy, gw, _):
        with pytest.raises(EnvoyAuthError, match=r"installer token.*enphase token --installer"):
            await envoy.control.set_export_limit(0)
        with pytest.raises(EnvoyAuthError, match="installer"):
            await envoy.control.clear_export_limit()
        with pytest.raises(EnvoyAuthError, match="installer"):
            await envoy.control.set_production(False)
    assert writes(gw) == []


async def test_a_gateway_without_cts_is_refused_before_anything_is_sent() -> None:
    async with connected("standard") as (envoy, gw, _):
        with pytest.raises(EnvoyFeatureUnavailable, match=r"consumption CT.*no CTs in use"):
            await envoy.control.set_export_limit(0)
    assert writes(gw) == []
    assert not any(e.endpoint == "/ivp/ss/dpel" for e in gw.log.entries)


async def test_a_disabled_consumption_ct_is_refused_before_anything_is_sent() -> None:
    cts = (CT("production"), CT("net-consumption", enabled=False))
    async with connected(cts=cts) as (envoy, gw, _):
        with pytest.raises(EnvoyFeatureUnavailable, match=r"consumption CT.*none enabled"):
            await envoy.control.set_export_limit(0)
    assert writes(gw) == []


async def test_firmware_without_dpel_is_refused_before_anything_is_sent() -> None:
    async with connected("metered-split") as (envoy, gw, _):  # D7.6.175
        with pytest.raises(EnvoyFeatureUnavailable, match="offers no dynamic export limiting"):
            await envoy.control.set_export_limit(0)
    assert writes(gw) == []


async def test_without_enlighten_enabling_it_the_write_is_ignored_and_said_why() -> None:
    async with connected(export_limiting_enabled=False) as (envoy, gw, clock):
        result = await envoy.control.set_export_limit(0)
        clock.advance(60)
        assert export_w(gw) > 1000
    assert result.outcome is Outcome.IGNORED
    assert ENLIGHTEN_NOTE in result.message and "Enlighten Manager" in result.message
    assert writes(gw) == ["/ivp/ss/dpel"]  # ignored is not a reason to send again


async def test_bad_values_and_dry_runs_send_nothing() -> None:
    async with connected() as (envoy, gw, _):
        for bad in (-1, float("nan"), True, "0", 2e6):
            with pytest.raises(ValueError):
                await envoy.control.set_export_limit(bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="mode"):
            await envoy.control.set_export_limit(0, mode="grid")
        with pytest.raises(ValueError, match="slew"):
            await envoy.control.set_export_limit(0, slew_rate=0)
        dry = await envoy.control.set_export_limit(250, mode="production", dry_run=True)
    assert dry.outcome is Outcome.DRY_RUN
    assert dry.request.body is not None
    assert dry.request.body["dynamic_pel_settings"]["export_limit"] is False
    assert writes(gw) == []


async def test_the_production_switch_confirms_with_its_warning() -> None:
    async with connected(production_resume_s=900.0) as (envoy, gw, clock):
        off = await envoy.control.set_production(False)
        assert off.outcome is Outcome.CONFIRMED and (off.before, off.after) == (True, False)
        assert "next morning" in off.message and "export limit of 0 W" in off.message
        clock.advance(60)
        assert gw.backend.state()["pv_w"] == 0  # type: ignore[attr-defined]
        on = await envoy.control.set_production(True)
        assert on.outcome is Outcome.CONFIRMED and "next morning" in on.message
        clock.advance(60)
        assert gw.backend.state()["pv_w"] == 0  # type: ignore[attr-defined]
        clock.advance(900)
        assert gw.backend.state()["pv_w"] > 0  # type: ignore[attr-defined]
    assert writes(gw) == ["/ivp/mod/603980032/mode/power"] * 2

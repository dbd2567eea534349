"""The snapshot's ``export_limit`` section, read with whichever role the gateway allows.

Owners read ``/ivp/ss/dpel`` from 8.3.5528 (where the gateway lets them),
never the installer-only switch; a refusal is asked once and remembered
per gateway by the probe cache.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from enphase_local.capabilities import Capability
from enphase_local.client import Envoy
from enphase_local.engine.export_limit import compose_export_limit, limiting_active
from enphase_local.models.export_limit import DynamicExportLimit, LimitMode, ProductionPower
from enphase_local.net.probe_cache import ProbeCache
from enphase_local.simulator import PRESETS, SimClock, SimulatedGateway, SiteBackend

DPEL = "/ivp/ss/dpel"
POWER = "/ivp/mod/603980032/mode/power"
NOON = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("Europe/Amsterdam")).timestamp()


def gateway(preset: str = "export-limit") -> SimulatedGateway:
    clock = SimClock(start=NOON, speed=0)
    return SimulatedGateway(SiteBackend(PRESETS[preset], clock, seed=1), clock=clock)


async def test_an_owner_on_8_3_5528_sees_the_limit_but_not_the_switch() -> None:
    async with gateway() as gw:
        async with Envoy(gw.https_host, token=gw.owner_token(), clock=gw.clock.now) as envoy:
            snapshot = await envoy.update()
            assert Capability.EXPORT_LIMIT in envoy.capabilities
            assert Capability.PRODUCTION_SWITCH not in envoy.capabilities
    section = snapshot.to_dict()["export_limit"]
    assert section == {
        "enabled": False,
        "mode": None,
        "limit_watts": None,
        "slew_rate": None,
        "active": False,
        "production_forced_off": None,
    }
    assert gw.log.count(POWER) == 0  # installer-only: never asked with an owner's token


async def test_an_installer_sees_both_and_the_limit_after_a_write() -> None:
    async with gateway() as gw:
        async with Envoy(gw.https_host, token=gw.installer_token(), clock=gw.clock.now) as envoy:
            await envoy.update()
            await envoy.control.set_export_limit(0, timeout_s=0)
            gw.clock.advance(3600)  # the settings' period
            snapshot = await envoy.update()
    section = snapshot.to_dict()["export_limit"]
    assert section["enabled"] is True and section["mode"] == "export"
    assert section["limit_watts"] == 0.0 and section["production_forced_off"] is False
    assert section["active"] is True  # /ivp/sc/status: "PEL Active", PV setpoint under 100
    assert gw.log.count("/ivp/sc/status") >= 1


async def test_active_follows_the_controllers_status_and_clears_with_the_limit() -> None:
    async with gateway() as gw:
        async with Envoy(gw.https_host, token=gw.installer_token(), clock=gw.clock.now) as envoy:
            await envoy.control.set_export_limit(0, timeout_s=0)
            await envoy.update()
            gw.clock.advance(3600)
            limited = await envoy.update()
            await envoy.control.clear_export_limit(timeout_s=0)
            gw.clock.advance(3600)
            cleared = await envoy.update()
    assert limited.export_limit is not None and limited.export_limit.active is True
    assert cleared.export_limit is not None and cleared.export_limit.active is False


async def test_an_owner_refused_dpel_is_asked_once_and_remembered(tmp_path: Path) -> None:
    probes = ProbeCache(tmp_path / "probes.json")
    async with gateway() as gw:
        gw.faults.unauthorized_paths.add(DPEL)  # this gateway refuses owners, as some do
        asked = []
        for _ in range(2):  # two commands, one after the other
            async with Envoy(
                gw.https_host, token=gw.owner_token(), clock=gw.clock.now, probe_cache=probes
            ) as envoy:
                for _ in range(3):
                    gw.clock.advance(600)  # refusals are asked again only after 6 h
                    snapshot = await envoy.update()
                assert snapshot.export_limit is None
            asked.append(gw.log.count(DPEL))
    # the first probe's one ask (the transport renews the session once on a 401), then never
    assert asked[0] >= 1 and asked[1] == asked[0]
    assert {e.sim_time for e in gw.log.entries if e.endpoint == DPEL} == {NOON}


async def test_before_8_3_5528_owners_do_not_ask() -> None:
    async with gateway("metered-3phase") as gw:  # D8.2.4345
        async with Envoy(gw.https_host, token=gw.owner_token(), clock=gw.clock.now) as envoy:
            snapshot = await envoy.update()
    assert snapshot.export_limit is None and gw.log.count(DPEL) == 0


def test_limiting_active_is_the_gateways_word_or_unknown() -> None:
    on = DynamicExportLimit(enabled=True, mode=LimitMode.EXPORT, limit_watts=0.0)
    off = DynamicExportLimit(enabled=False)
    assert limiting_active(on) is None
    assert limiting_active(off) is False
    assert limiting_active(on, events=("PEL Active",)) is True
    assert limiting_active(on, events=()) is False
    assert limiting_active(on, pv_setpoint=40.0) is True
    assert limiting_active(on, pv_setpoint=100.0) is False
    assert compose_export_limit(None, None) is None
    switch_only = compose_export_limit(None, ProductionPower(forced_off=True))
    assert switch_only is not None
    assert switch_only.enabled is None and switch_only.production_forced_off is True


async def test_before_8_3_5528_an_installer_reads_the_limit_once_the_switch_answered() -> None:
    async with gateway("metered-3phase") as gw:  # D8.2.4345
        async with Envoy(gw.https_host, token=gw.installer_token(), clock=gw.clock.now) as envoy:
            snapshot = await envoy.update()
    assert snapshot.export_limit is not None
    assert snapshot.export_limit.enabled is False
    assert snapshot.export_limit.production_forced_off is False
    probe = [e.endpoint for e in gw.log.entries if e.endpoint in (POWER, DPEL)]
    assert probe == [POWER, DPEL]  # the switch first: it proves the installer's token

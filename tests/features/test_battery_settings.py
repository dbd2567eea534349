"""Battery settings in effect: the controller's on 8.2.4225 and later, the tariff's before.

On D8.3.x the tariff file is a stale copy the Enphase cloud never rewrites
(gateway.md section 5). The real 8.3.5167 capture shows it: the tariff says
a 30 % reserve, the controller (secctrl) runs with 20 %. The simulated
8.3 site takes a change from the cloud, as a real one does: secctrl and
``/ivp/sc/sched`` follow it, the tariff document does not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from enphase_local.client import Envoy
from enphase_local.features import Readings, by_id
from enphase_local.models.snapshot import Snapshot
from enphase_local.simulator import PRESETS, SimClock, SimulatedGateway, SiteBackend
from tests.simkit import NOON, envoy_for, gateway
from tests.support import REAL, needs_real


def _table(snap: Snapshot) -> dict[str, Any]:
    r = Readings(snap)
    out: dict[str, Any] = {}
    for fid in ("storage_mode", "reserve_soc", "shutdown_soc", "charge_from_grid"):
        feature = by_id(fid)
        out[fid] = feature.value(r) if feature.present(r) else None
        out[f"{fid}.read_from"] = feature.extra(r).get("read_from")
    return out


async def _replayed(folder: str) -> Snapshot:
    async with gateway(folder=REAL / folder) as (gw, clock), envoy_for(gw, clock) as envoy:
        await envoy.update()
        return await envoy.update(full=True)


@needs_real
async def test_a_real_8_3_gateway_shows_the_controllers_reserve_not_the_stale_tariffs() -> None:
    snap = await _replayed("8.3.5167_3rd-pv")
    assert snap.tariff is not None and snap.tariff.reserve_soc_percent == 30.0  # the stale copy
    got = _table(snap)
    assert got["reserve_soc"] == 20.0  # secctrl configured_backup_soc
    assert got["reserve_soc.read_from"] == "controller"
    assert got["shutdown_soc"] == 10.0  # secctrl VLS_Limit
    assert got["shutdown_soc.read_from"] == "controller"
    # the capture has no /ivp/sc/sched: charge from grid is the tariff's, and says so
    assert got["charge_from_grid"] is False
    assert got["charge_from_grid.read_from"] == "tariff"
    assert got["storage_mode"] == "self-consumption"
    doc = snap.to_dict()["battery_settings"]
    assert doc["reserve_soc_percent"] == 20.0
    assert doc["origins"]["reserve_soc_percent"] == "controller"


@needs_real
async def test_before_8_2_4225_the_tariff_is_what_the_gateway_runs_with() -> None:
    snap = await _replayed("8.2.127_with_3cts_and_battery_split")
    got = _table(snap)
    assert got["reserve_soc"] == 20.0
    assert got["reserve_soc.read_from"] == "tariff"
    assert got["shutdown_soc.read_from"] == "tariff"


@needs_real
async def test_a_site_without_batteries_has_no_battery_settings_entities() -> None:
    snap = await _replayed("8.3.5169_with_generator")  # secctrl answers, all zeros
    got = _table(snap)
    assert got["reserve_soc"] is None and got["shutdown_soc"] is None


@asynccontextmanager
async def _stale_tariff_site() -> AsyncIterator[tuple[Envoy, SimulatedGateway, SimClock]]:
    """An 8.3 battery site that ignores local tariff writes, as D8.3.6086 does."""
    config = dataclasses.replace(PRESETS["tariff-ignored"], firmware="D8.3.6086")
    clock = SimClock(start=NOON, speed=0)
    async with SimulatedGateway(SiteBackend(config, clock, seed=1), clock=clock) as gw:
        async with envoy_for(gw, clock) as envoy:
            yield envoy, gw, clock


async def test_a_cloud_change_shows_though_the_tariff_file_stays_stale() -> None:
    async with _stale_tariff_site() as (envoy, gw, clock):
        before = await envoy.update(full=True)
        assert _table(before)["reserve_soc"] == 20.0
        assert _table(before)["charge_from_grid"] is False
        gw.backend.cloud_apply(  # type: ignore[attr-defined]
            {"reserved_soc": 45, "charge_from_grid": True, "very_low_soc": 15}, clock()
        )
        clock.advance(3600)  # past every settings source's period
        after = await envoy.update(full=True)
    assert after.tariff is not None
    assert after.tariff.reserve_soc_percent == 20.0  # the file never hears of it
    assert after.tariff.charge_from_grid is False
    got = _table(after)
    assert got["reserve_soc"] == 45.0 and got["reserve_soc.read_from"] == "controller"
    assert got["charge_from_grid"] is True and got["charge_from_grid.read_from"] == "controller"
    assert got["shutdown_soc"] == 15.0


@pytest.mark.parametrize("firmware", ["D8.2.4264", "D7.6.175"])
async def test_the_source_follows_the_firmware_threshold(firmware: str) -> None:
    """8.2.4225 is the threshold (sources.tariff.tariff_writes_ignored), nothing else."""
    config = dataclasses.replace(PRESETS["battery-backup"], firmware=firmware)
    clock = SimClock(start=NOON, speed=0)
    async with SimulatedGateway(SiteBackend(config, clock, seed=1), clock=clock) as gw:
        async with envoy_for(gw, clock) as envoy:
            await envoy.update()
            snap = await envoy.update(full=True)
    got = _table(snap)
    want = "controller" if firmware == "D8.2.4264" else "tariff"
    assert got["reserve_soc.read_from"] == want
    assert got["reserve_soc"] == 20.0  # the same on both: this simulator honours both

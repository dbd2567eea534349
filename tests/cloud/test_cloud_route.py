"""Storage writes through the Enphase cloud, over real sockets, confirmed on the simulated gateway.

The gateway is the tariff-ignoring firmware (D8.2.4264); the cloud is the
simulator's, on the same loopback server. Waiting moves the simulated clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from enphase_local.client import Envoy
from enphase_local.control import Outcome
from enphase_local.control.cloud_route import PENDING_BOUND_S
from enphase_local.errors import EnvoyFeatureUnavailable, EnvoyHTTPError
from enphase_local.net.battery_cloud import BatteryCloud
from enphase_local.net.enlighten import EnlightenSession
from enphase_local.simulator import SimClock, SimulatedGateway
from tests.simkit import envoy_for, gateway

PASSWORD = "owner-password"


def sim_sleep(clock: SimClock):  # type: ignore[no-untyped-def]
    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    return sleep


def owner_cloud(gw: SimulatedGateway) -> BatteryCloud:
    return BatteryCloud(
        EnlightenSession(
            username="owner@example.com",
            password=PASSWORD,
            serial=gw.serial,
            enlighten_url=gw.cloud_base_url.enlighten,
        )
    )


@asynccontextmanager
async def site(
    preset: str = "tariff-ignored", *, cloud: bool = True
) -> AsyncIterator[tuple[SimulatedGateway, SimClock, Envoy, BatteryCloud]]:
    async with gateway(preset) as (gw, clock):
        battery = owner_cloud(gw)
        async with battery, envoy_for(gw, clock, sleep=sim_sleep(clock)) as envoy:
            if cloud:
                envoy.control.use_cloud(battery)
            yield gw, clock, envoy, battery


def tariff_writes(gw: SimulatedGateway) -> int:
    return sum(1 for e in gw.log.entries if e.method == "PUT" and e.endpoint == "/admin/lib/tariff")


async def test_reserve_through_the_cloud_is_confirmed_on_the_gateway() -> None:
    async with site() as (gw, _clock, envoy, battery):
        result = await envoy.control.set_reserve_soc(30)
        assert result.route == "cloud" and result.outcome is Outcome.CONFIRMED
        assert (result.before, result.after, result.requested) == (20.0, 30.0, 30.0)
        assert "read back on the gateway" in result.message
        assert 15 <= result.elapsed_s <= 25  # the gateway applies it 15 s after
        secctrl = await envoy.read("ensemble_secctrl")
        assert secctrl.configured_backup_soc_percent == 30.0
        assert tariff_writes(gw) == 0 and battery.writes == 1
        assert result.to_dict()["route"] == "cloud"


async def test_mode_through_the_cloud_is_confirmed_by_the_cloud() -> None:
    async with site() as (gw, _clock, envoy, battery):
        result = await envoy.control.set_storage_mode("backup")
        assert result.route == "cloud" and result.outcome is Outcome.CONFIRMED
        assert (result.before, result.after) == ("self-consumption", "backup")
        assert "Enphase cloud" in result.message
        assert gw.backend.state()["storage_mode"] == "backup"  # the site runs it
        assert gw.backend.state()["reserved_soc"] == 100.0  # Full Backup's own reserve
        assert battery.writes == 1


async def test_shutdown_level_and_charge_from_grid() -> None:
    async with site() as (gw, _clock, envoy, _battery):
        control = envoy.control
        shutdown = await control.set_shutdown_soc(15)
        assert shutdown.outcome is Outcome.CONFIRMED and shutdown.before == 10.0
        assert (await envoy.read("ensemble_secctrl")).very_low_soc_percent == 15.0
        with pytest.raises(ValueError, match="ITC disclaimer"):
            await control.set_charge_from_grid(True)
        on = await control.set_charge_from_grid(True, accept_itc_disclaimer=True)
        assert on.outcome is Outcome.CONFIRMED and on.route == "cloud"
        assert "read back on the gateway" in on.message  # /ivp/sc/sched, in effect
        assert (await envoy.read("sc_sched")).charge_from_grid_allowed is True
        assert gw.backend.controls.storage_at(gw.clock.now()).charge_from_grid is True
        off = await control.set_charge_from_grid(False)
        assert off.outcome is Outcome.CONFIRMED


async def test_out_of_range_values_send_nothing() -> None:
    async with site() as (_gw, _clock, envoy, battery):
        with pytest.raises(ValueError, match="between 5 and 25"):
            await envoy.control.set_shutdown_soc(40)
        with pytest.raises(ValueError, match="between 5 and 100"):
            await envoy.control.set_reserve_soc(2)
        assert battery.writes == 0


async def test_a_change_that_never_arrives_is_accepted_then_not_confirmed() -> None:
    async with site() as (gw, clock, envoy, _battery):
        assert gw.cloud is not None
        gw.cloud.battery.site(gw.serial).online = False  # the gateway never picks it up
        result = await envoy.control.set_reserve_soc(40)
        assert result.outcome is Outcome.ACCEPTED
        assert "accepted by Enphase, waiting for the gateway" in result.message
        clock.advance(PENDING_BOUND_S)
        later = await envoy.control.verify_later(result)
        assert later.outcome is Outcome.NOT_CONFIRMED and "has not applied" in later.message
        assert (await envoy.read("ensemble_secctrl")).configured_backup_soc_percent == 20.0
        long_wait = await envoy.control.set_shutdown_soc(20, timeout_s=PENDING_BOUND_S + 60)
        assert long_wait.outcome is Outcome.NOT_CONFIRMED


async def test_accepted_then_confirmed_by_verify_later() -> None:
    async with site() as (_gw, _clock, envoy, _battery):
        result = await envoy.control.set_reserve_soc(35, timeout_s=5)
        assert result.outcome is Outcome.ACCEPTED
        later = await envoy.control.verify_later(result, wait_s=30)
        assert later.outcome is Outcome.CONFIRMED and later.after == 35.0


async def test_auto_goes_local_before_8_2_4225_and_without_an_account() -> None:
    async with gateway("battery-backup") as (gw, clock):
        gw.backend.upgrade("D8.2.4200")  # type: ignore[attr-defined]  # before the threshold
        battery = owner_cloud(gw)
        async with battery, envoy_for(gw, clock, sleep=sim_sleep(clock)) as envoy:
            envoy.control.use_cloud(battery)
            result = await envoy.control.set_reserve_soc(30)
            assert result.route == "local" and result.outcome is Outcome.CONFIRMED
            assert battery.writes == 0
    async with site("tariff-ignored", cloud=False) as (gw, _clock, envoy, _battery):
        result = await envoy.control.set_reserve_soc(30)
        assert result.route == "local" and result.outcome is Outcome.IGNORED
        with pytest.raises(EnvoyFeatureUnavailable, match="Enlighten account"):
            await envoy.control.set_reserve_soc(30, route="cloud")
        with pytest.raises(EnvoyFeatureUnavailable, match="shutdown level"):
            await envoy.control.set_shutdown_soc(15)


async def test_local_route_forced_is_ignored_on_new_firmware() -> None:
    async with site() as (gw, _clock, envoy, battery):
        result = await envoy.control.set_reserve_soc(30, route="local")
        assert result.route == "local" and result.outcome is Outcome.IGNORED
        assert battery.writes == 0 and tariff_writes(gw) == 1


async def test_xsrf_refusal_raises_and_is_not_repeated() -> None:
    async with site() as (gw, _clock, envoy, battery):
        assert gw.cloud is not None
        site_state = gw.cloud.battery.site(gw.serial)
        await battery.battery_settings()
        # a write with a stale token: make the service forget the session's XSRF
        original = battery._xsrf

        async def stale() -> dict[str, str]:
            await original()
            return {"X-XSRF-Token": "stale"}

        battery._xsrf = stale  # type: ignore[method-assign]
        with pytest.raises(EnvoyHTTPError, match="XSRF"):
            await envoy.control.set_reserve_soc(30)
        assert site_state.writes == 0 and battery.writes == 1
        assert gw.cloud.battery.refused_xsrf == 1


async def test_expired_session_is_renewed_before_the_write() -> None:
    async with site() as (gw, _clock, envoy, battery):
        await battery.battery_settings()
        assert gw.cloud is not None
        gw.cloud.expire_sessions()
        result = await envoy.control.set_storage_mode("economy")
        assert result.outcome is Outcome.CONFIRMED
        assert battery.enlighten.logins == 2


async def test_dry_run_sends_nothing() -> None:
    async with site() as (_gw, _clock, envoy, battery):
        result = await envoy.control.set_reserve_soc(30, dry_run=True)
        assert result.outcome is Outcome.DRY_RUN and result.route == "cloud"
        assert "Enphase cloud" in result.message and battery.writes == 0
        assert result.request.body == {"profile": "self-consumption", "batteryBackupPercentage": 30}


async def test_no_secret_in_results_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    async with site() as (_gw, _clock, envoy, battery):
        result = await envoy.control.set_reserve_soc(30)
        login = await battery.enlighten.login()
        text = str(result.to_dict()) + repr(result) + caplog.text + repr(battery)
        for secret in (PASSWORD, login.session_id, str(login.manager_token)):
            assert secret not in text


async def test_storm_guard_is_confirmed_by_the_cloud() -> None:
    async with site() as (gw, _clock, envoy, _battery):
        result = await envoy.control.set_storm_guard(True)
        assert result.outcome is Outcome.CONFIRMED and result.route == "cloud"
        assert (result.before, result.after) == ("disabled", "enabled")
        assert gw.cloud is not None
        assert gw.cloud.battery.site(gw.serial).effective("stormGuardState") == "enabled"


async def test_charge_window_is_sent_with_the_switch() -> None:
    async with site() as (_gw, _clock, envoy, battery):
        result = await envoy.control.set_charge_from_grid(
            True, accept_itc_disclaimer=True, window_min=(120, 300)
        )
        assert result.outcome is Outcome.CONFIRMED
        settings = await battery.battery_settings()
        assert settings.requested["chargeBeginTime"] == 120
        assert settings.requested["chargeFromGridScheduleEnabled"] is True
        with pytest.raises(ValueError, match="minutes after midnight"):
            await envoy.control.set_charge_from_grid(True, window_min=(0, 1440))


async def test_schedules_added_and_deleted_are_read_back() -> None:
    async with site() as (_gw, _clock, envoy, battery):
        control = envoy.control
        added = await control.add_battery_schedule(
            "cfg", start="02:00", end="05:00", limit_percent=90, days=[6, 7]
        )
        assert added.outcome is Outcome.CONFIRMED and added.before == []
        assert added.after == [
            {"type": "CFG", "start": "02:00", "end": "05:00", "limit": 90, "days": [6, 7]}
        ]
        (listed,) = (await battery.schedules()).schedules
        assert listed.schedule_id is not None
        for bad in ({"start": "25:00"}, {"limit_percent": 101}, {"days": [0]}):
            options = {"start": "02:00", "end": "05:00", "limit_percent": 90, **bad}
            with pytest.raises(ValueError):
                await control.add_battery_schedule("CFG", **options)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="no schedule"):
            await control.delete_battery_schedule("nope")
        deleted = await control.delete_battery_schedule(listed.schedule_id)
        assert deleted.outcome is Outcome.CONFIRMED and deleted.after == []
        assert battery.writes == 2


NEW_FIRMWARE_BATTERY_SITES = [
    "tariff-ignored",
    "cloud-overwrite",
    "battery-backup",
    "acb",
    "collar",
]


@pytest.mark.parametrize("preset", NEW_FIRMWARE_BATTERY_SITES)
async def test_every_new_firmware_battery_site_confirms_through_the_cloud(preset: str) -> None:
    async with site(preset) as (gw, _clock, envoy, battery):
        assert envoy.firmware.at_least(8, 2, 4225)
        control = envoy.control
        mode = await control.set_storage_mode(
            "self-consumption" if preset == "collar" else "economy"
        )
        reserve = await control.set_reserve_soc(30)
        shutdown = await control.set_shutdown_soc(12)
        grid = await control.set_charge_from_grid(True, accept_itc_disclaimer=True)
        for result in (mode, reserve, shutdown, grid):
            assert (result.route, result.outcome) == ("cloud", Outcome.CONFIRMED), result.message
        state = gw.backend.controls.storage_at(gw.clock.now())  # type: ignore[attr-defined]
        assert (state.reserved_soc, state.very_low_soc, state.charge_from_grid) == (30, 12, True)
        assert tariff_writes(gw) == 0 and battery.writes == 5  # with the disclaimer


async def test_a_gateway_that_cannot_show_a_setting_leaves_it_to_the_cloud() -> None:
    async with gateway("battery-backup") as (gw, clock):
        gw.backend.upgrade("D7.6.175")  # type: ignore[attr-defined]  # no /ivp/sc/sched (404)
        battery = owner_cloud(gw)
        async with battery, envoy_for(gw, clock, sleep=sim_sleep(clock)) as envoy:
            envoy.control.use_cloud(battery)
            grid = await envoy.control.set_charge_from_grid(
                True, route="cloud", accept_itc_disclaimer=True
            )
            assert grid.outcome is Outcome.CONFIRMED, grid.message
            assert "confirmed by the Enphase cloud" in grid.message


async def test_auto_tries_the_cloud_after_an_ignored_local_write() -> None:
    from dataclasses import replace

    from enphase_local.simulator import SiteBackend
    from enphase_local.simulator.site.presets import PRESETS
    from tests.simkit import NOON

    # a gateway that ignores tariff writes below the known threshold: auto goes local first
    config = replace(PRESETS["tariff-ignored"], firmware="D8.2.4200")
    clock = SimClock(start=NOON, speed=0)
    async with SimulatedGateway(SiteBackend(config, clock, 1), clock=clock) as gw:
        battery = owner_cloud(gw)
        async with battery, envoy_for(gw, clock, sleep=sim_sleep(clock)) as envoy:
            envoy.control.use_cloud(battery)
            result = await envoy.control.set_reserve_soc(30)
            assert (result.route, result.outcome) == ("cloud", Outcome.CONFIRMED), result.message
            assert "the local write was ignored first" in result.message
            assert tariff_writes(gw) == 1 and battery.writes == 1

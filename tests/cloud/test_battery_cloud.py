"""The cloud battery client against the simulated Enlighten: login, reads, writes, the rules."""

from __future__ import annotations

import aiohttp
import pytest

from enphase_local.errors import EnvoyAuthError, EnvoyHTTPError, EnvoyMFARequiredError
from enphase_local.models.cloud_battery import CloudProfile
from enphase_local.net.battery_cloud import BatteryCloud
from enphase_local.net.cloud_http import CLOUD_USER_AGENT
from enphase_local.net.enlighten import EnlightenSession
from enphase_local.net.token_store import TokenStore
from enphase_local.simulator import SimulatedGateway
from enphase_local.simulator.serve.cloud import CloudAccount
from tests.simkit import gateway


def client(gw: SimulatedGateway, **kwargs: object) -> BatteryCloud:
    options: dict[str, object] = {
        "username": "owner@example.com",
        "password": "owner-password",
        "serial": gw.serial,
        "enlighten_url": gw.cloud_base_url.enlighten,
    }
    options.update(kwargs)
    return BatteryCloud(EnlightenSession(**options))  # type: ignore[arg-type]


async def test_reads_the_sites_settings() -> None:
    async with gateway("tariff-ignored") as (gw, _clock), client(gw) as cloud:
        settings = await cloud.battery_settings()
        # the preset: self-consumption, reserve 20 %, no charge from grid, shutdown 10 %
        assert settings.profile is CloudProfile.SELF_CONSUMPTION
        assert settings.reserve_percent == 20.0
        assert settings.charge_from_grid is False
        assert settings.very_low_soc_percent == 10.0
        assert (settings.very_low_soc_min_percent, settings.very_low_soc_max_percent) == (5, 25)
        assert settings.pending_gateways == () and settings.requested == {}
        assert settings.profile_reserves["backup_only"] == 100.0
        site = await cloud.site_settings()
        assert site.is_emea is False and site.is_owner is True
        assert (await cloud.schedules()).schedules == ()
        assert cloud.enlighten.logins == 1


async def test_a_write_is_pending_then_reaches_the_gateway_then_the_cloud() -> None:
    async with gateway("tariff-ignored") as (gw, clock), client(gw) as cloud:
        await cloud.put_battery_settings({"veryLowSoc": 15}, "set the shutdown level")
        now = await cloud.battery_settings()
        assert now.very_low_soc_percent == 10.0  # top level: the old value
        assert now.requested["veryLowSoc"] == 15 and now.pending_for(gw.serial)
        clock.advance(20)
        applied = await cloud.battery_settings()
        assert applied.pending_gateways == () and applied.requested["veryLowSoc"] == 15
        clock.advance(300)
        caught_up = await cloud.battery_settings()
        assert caught_up.very_low_soc_percent == 15.0 and caught_up.requested == {}
        assert cloud.writes == 1


async def test_profile_restores_its_own_reserve() -> None:
    async with gateway("tariff-ignored") as (gw, clock), client(gw) as cloud:
        await cloud.put_battery_settings({"batteryBackupPercentage": 30}, "set the reserve")
        await cloud.put_profile("backup_only", None)
        await cloud.put_profile("self-consumption", None)
        clock.advance(400)
        settings = await cloud.battery_settings()
        assert settings.profile is CloudProfile.SELF_CONSUMPTION
        assert settings.reserve_percent == 30.0  # self-consumption kept its 30
        assert settings.profile_reserves["backup_only"] == 100.0


async def test_a_write_without_a_fresh_xsrf_token_is_refused() -> None:
    async with gateway("tariff-ignored") as (gw, _clock), client(gw) as cloud:
        await cloud.battery_settings()
        login = await cloud.enlighten.login()
        async with aiohttp.ClientSession() as raw:  # a stale token: the service refuses it
            site = await cloud.enlighten.site_id()
            url = (
                f"{gw.cloud_base_url.enlighten}/service/batteryConfig/api/v1/batterySettings/{site}"
            )
            cookies = "; ".join(f"{k}={v}" for k, v in login.cookies.items())
            headers = {"Cookie": cookies, "Username": str(login.user_id), "X-XSRF-Token": "old"}
            async with raw.put(url, json={"veryLowSoc": 12}, headers=headers) as answer:
                assert answer.status == 403
        assert gw.cloud is not None and gw.cloud.battery.refused_xsrf == 1
        await cloud.put_battery_settings({"veryLowSoc": 12}, "set the shutdown level")
        assert (await cloud.battery_settings()).requested["veryLowSoc"] == 12


async def test_emea_sites_take_the_token_from_the_header() -> None:
    async with gateway("tariff-ignored") as (gw, _clock), client(gw) as cloud:
        assert gw.cloud is not None
        gw.cloud.battery.site(gw.serial).emea = True
        await cloud.put_battery_settings({"veryLowSoc": 20}, "set the shutdown level")
        assert (await cloud.battery_settings()).requested["veryLowSoc"] == 20
        assert gw.cloud.battery.refused_xsrf == 0


async def test_expired_session_is_renewed_for_reads_never_resent_for_writes() -> None:
    async with gateway("tariff-ignored") as (gw, _clock), client(gw) as cloud:
        await cloud.battery_settings()
        assert gw.cloud is not None
        gw.cloud.expire_sessions()
        await cloud.battery_settings()  # 302 -> a new login -> the read again
        assert cloud.enlighten.logins == 2
        gw.cloud.expire_sessions()
        await cloud.put_profile("cost_savings", None)  # the XSRF GET renews first
        assert cloud.enlighten.logins == 3
        assert gw.cloud.battery.site(gw.serial).writes == 1


async def test_a_home_assistant_session_still_sends_our_user_agent() -> None:
    async with gateway("tariff-ignored") as (gw, _clock):
        headers = {"User-Agent": "HomeAssistant/2026.9 aiohttp"}
        async with aiohttp.ClientSession(headers=headers) as hass:
            async with hass.post(gw.cloud_base_url.enlighten + "/login/login.json") as refused:
                assert refused.status == 406  # what Enlighten does to such a User-Agent
            async with client(gw, session=hass) as cloud:
                assert (await cloud.battery_settings()).reserve_percent == 20.0
        assert "HomeAssistant" not in CLOUD_USER_AGENT


async def test_mfa_login_needs_the_code_and_stores_the_session(tmp_path: object) -> None:
    store = TokenStore(f"{tmp_path}/tokens.json")
    async with gateway("tariff-ignored") as (gw, _clock):
        mfa = {"username": "mfa@example.com", "password": "mfa-password", "store": store}
        async with client(gw, **mfa) as cloud:
            with pytest.raises(EnvoyMFARequiredError, match="one-time code"):
                await cloud.battery_settings()
        asked: list[str] = []

        async def prompt() -> str:
            asked.append("code")
            return "123456"

        async with client(gw, otp=prompt, **mfa) as cloud:
            assert (await cloud.battery_settings()).reserve_percent == 20.0
        assert asked == ["code"]
        stored = store.enlighten_session("mfa@example.com")
        assert stored is not None and stored["session_id"]
        async with client(gw, **{**mfa, "password": None}) as cloud:  # the stored session
            assert (await cloud.battery_settings()).reserve_percent == 20.0
            assert cloud.enlighten.logins == 0


async def test_wrong_code_and_blocking() -> None:
    async with gateway("tariff-ignored") as (gw, _clock):
        mfa = {"username": "mfa@example.com", "password": "mfa-password"}
        async with client(gw, otp="000000", **mfa) as cloud:
            with pytest.raises(EnvoyAuthError, match="one-time code") as err:
                await cloud.battery_settings()
            assert "000000" not in str(err.value) and "mfa-password" not in str(err.value)


async def test_charge_from_grid_needs_the_disclaimer_first() -> None:
    async with gateway("tariff-ignored") as (gw, _clock), client(gw) as cloud:
        with pytest.raises(EnvoyHTTPError, match="disclaimer"):
            await cloud.put_battery_settings({"chargeFromGrid": True}, "charge from grid")
        await cloud.accept_itc_disclaimer()
        await cloud.put_battery_settings({"chargeFromGrid": True}, "charge from grid")
        settings = await cloud.battery_settings()
        assert settings.accepted_itc_disclaimer and settings.requested["chargeFromGrid"] is True


async def test_schedules_and_storm_guard() -> None:
    async with gateway("tariff-ignored") as (gw, _clock), client(gw) as cloud:
        await cloud.add_schedule(
            schedule_type="cfg",
            start="02:00",
            end="05:00",
            limit_percent=80,
            days=[1, 2, 3],
            timezone="US/Mountain",
        )
        (cfg,) = (await cloud.schedules()).of_type("CFG")
        assert (cfg.start, cfg.end, cfg.limit_percent, cfg.days) == (
            "02:00",
            "05:00",
            80,
            (1, 2, 3),
        )
        assert cfg.schedule_id is not None
        await cloud.delete_schedule(cfg.schedule_id)
        assert (await cloud.schedules()).schedules == ()
        await cloud.set_storm_guard(True)
        assert (await cloud.battery_settings()).requested["stormGuardState"] == "enabled"


async def test_several_sites_choose_the_gateways_own() -> None:
    async with gateway("tariff-ignored") as (gw, _clock), gateway("battery-backup") as (other, _):
        assert gw.cloud is not None
        # one account sees both sites: register the other gateway's site on this cloud
        assert other.cloud is not None
        gw.cloud.add_site(other.backend)  # type: ignore[arg-type]
        gw.cloud.add_account(CloudAccount("two@example.com", "pw"))
        for serial in (other.serial, gw.serial):  # not the landing site: the serial's own
            two = {"username": "two@example.com", "password": "pw", "serial": serial}
            async with client(gw, **two) as cloud:
                site = await cloud.enlighten.site_id()
                assert site == gw.cloud.battery.site(serial).site_id


def test_the_cloud_routes_secrets_are_redacted_by_key() -> None:
    from enphase_local.redact import Redactor

    doc = {
        "X-XSRF-Token": "xsrf-value-1",
        "BP-XSRF-Token": "xsrf-value-2",
        "e-auth-token": "manager-jwt",
        "otp": "654321",
        "session_id": "0123456789abcdef",
        "profile": "backup_only",
    }
    out = Redactor().redact_json(doc)
    text = str(out)
    for secret in ("xsrf-value-1", "xsrf-value-2", "manager-jwt", "654321", "0123456789abcdef"):
        assert secret not in text
    assert out["profile"] == "backup_only"


async def test_a_failing_cloud_write_is_one_clear_error_sent_once() -> None:
    async with gateway("tariff-ignored") as (gw, _clock), client(gw) as cloud:
        await cloud.battery_settings()
        assert gw.cloud is not None
        # the XSRF GET passes, the write meets a 503 (injected failures pop in order)
        site = gw.cloud.battery.site(gw.serial)
        real_put = cloud.enlighten.call

        async def put_fails(method: str, path: str, **kw: object) -> object:
            if method != "GET":
                gw.cloud.fail_next(1, status=503)  # type: ignore[union-attr]
            return await real_put(method, path, **kw)  # type: ignore[arg-type]

        cloud.enlighten.call = put_fails  # type: ignore[method-assign,assignment]
        with pytest.raises(EnvoyHTTPError, match=r"503.*read the settings") as err:
            await cloud.put_battery_settings({"veryLowSoc": 12}, "set the shutdown level")
        assert err.value.status == 503 and site.writes == 0 and cloud.writes == 1


async def test_concurrent_writes_each_take_their_own_fresh_token() -> None:
    import asyncio

    async with gateway("tariff-ignored") as (gw, _clock), client(gw) as cloud:
        await asyncio.gather(
            cloud.put_battery_settings({"veryLowSoc": 12}, "set the shutdown level"),
            cloud.set_storm_guard(True),
            cloud.put_profile("cost_savings", None),
        )
        assert gw.cloud is not None and gw.cloud.battery.refused_xsrf == 0
        assert gw.cloud.battery.site(gw.serial).writes == 3


async def test_a_session_ending_between_token_and_write_is_never_resent() -> None:
    async with gateway("tariff-ignored") as (gw, _clock), client(gw) as cloud:
        assert gw.cloud is not None
        sent: list[str] = []
        real_call = cloud.enlighten.call

        async def call(method: str, path: str, **kw: object) -> object:
            if method != "GET":
                gw.cloud.expire_sessions()  # type: ignore[union-attr]  # ends just now
                sent.append(method)
            return await real_call(method, path, **kw)  # type: ignore[arg-type]

        cloud.enlighten.call = call  # type: ignore[method-assign,assignment]
        with pytest.raises(EnvoyAuthError, match="not applied and was not sent again"):
            await cloud.put_battery_settings({"veryLowSoc": 12}, "set the shutdown level")
        assert sent == ["PUT"] and gw.cloud.battery.site(gw.serial).writes == 0

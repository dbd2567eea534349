"""Token and digest flows end to end: cloud login, cookie reuse, expiry mid-session, MFA."""

from __future__ import annotations

import stat

import pytest

from enphase_local.client import Envoy
from enphase_local.errors import (
    EnvoyAuthError,
    EnvoyBadCredentialsError,
    EnvoyMFARequiredError,
    EnvoyTokenExpiredError,
)
from enphase_local.net.credentials import CloudUrls
from enphase_local.net.token_store import TokenStore
from tests.simkit import envoy_for, gateway


def cloud(gw: object) -> CloudUrls:
    urls = gw.cloud_base_url  # type: ignore[attr-defined]
    return CloudUrls(enlighten=urls.enlighten, entrez=urls.entrez)


async def test_cloud_login_gets_a_token_and_stores_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = TokenStore(tmp_path / "tokens.json")
    async with gateway("battery-backup") as (gw, clock):
        async with Envoy(
            gw.https_host,
            username="owner@example.com",
            password="owner-password",
            cloud=cloud(gw),
            token_store=store,
            clock=clock,
        ) as envoy:
            snap = await envoy.update()
            assert snap.production is not None and envoy.role == "owner"
        assert store.get(gw.serial) is not None
        assert stat.S_IMODE((tmp_path / "tokens.json").stat().st_mode) == 0o600
        # the stored token is used next time, with no cloud round trip
        async with Envoy(gw.https_host, token_store=store, clock=clock) as envoy:
            assert (await envoy.update()).production is not None


async def test_session_cookie_is_reused() -> None:
    async with gateway("metered-split") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            for _ in range(5):
                clock.advance(60)
                await envoy.update()
    assert gw.log.count("/auth/check_jwt") == 1


async def test_expiry_mid_session_renews_with_credentials() -> None:
    async with gateway("metered-split") as (gw, clock):
        async with Envoy(
            gw.https_host,
            token=gw.owner_token(),
            username="owner@example.com",
            password="owner-password",
            cloud=cloud(gw),
            clock=clock,
        ) as envoy:
            await envoy.update()
            gw.expire_tokens()
            clock.advance(60)
            snap = await envoy.update()
    assert snap.production is not None and snap.errors == {}


async def test_expiry_without_credentials_says_what_to_do() -> None:
    async with gateway("metered-split") as (gw, clock):
        async with envoy_for(gw, clock, token=gw.owner_token(valid_for_s=120)) as envoy:
            await envoy.update()
            clock.advance(3600)  # the token is past its expiry
            gw.expire_tokens()
            with pytest.raises(EnvoyTokenExpiredError, match="enphase token"):
                await envoy.update()


async def test_no_token_and_no_credentials() -> None:
    async with gateway("standard") as (gw, clock):
        with pytest.raises(EnvoyAuthError, match="needs a token"):
            async with Envoy(gw.https_host, clock=clock):
                pass


async def test_mfa_account_is_told_to_paste_a_token() -> None:
    async with gateway("standard") as (gw, clock):
        with pytest.raises(EnvoyMFARequiredError):
            async with Envoy(
                gw.https_host,
                username="mfa@example.com",
                password="mfa-password",
                cloud=cloud(gw),
                clock=clock,
            ):
                pass


async def test_wrong_cloud_password() -> None:
    async with gateway("standard") as (gw, clock):
        with pytest.raises(EnvoyBadCredentialsError):
            async with Envoy(
                gw.https_host,
                username="owner@example.com",
                password="nope",
                cloud=cloud(gw),
                clock=clock,
            ):
                pass


async def test_installer_only_endpoint_is_remembered_and_not_asked_again() -> None:
    async with gateway("battery-backup") as (gw, clock):
        gw.faults.apply_spec("unauthorized=/ivp/ensemble/secctrl")
        async with envoy_for(gw, clock) as envoy:
            assert envoy.source_status["ensemble_secctrl"].value == "forbidden"
            asked = gw.log.count("/ivp/ensemble/secctrl")  # the probe: ask, renew, ask again
            for _ in range(3):
                clock.advance(60)
                snap = await envoy.update()
    assert asked <= 2
    assert gw.log.count("/ivp/ensemble/secctrl") == asked  # never again
    assert snap.battery is not None  # units and SoC still come from inventory and power


async def test_legacy_digest_with_derived_password_and_one_round_trip() -> None:
    async with gateway("legacy-3x") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            assert envoy.auth_kind == "digest"
            await envoy.update()
            gw.log.reset()
            for _ in range(10):
                clock.advance(300)
                await envoy.update()
    # the nonce is reused: no 401 challenge per request
    assert 401 not in gw.log.statuses("/api/v1/production/inverters")


async def test_legacy_wrong_password_keeps_the_public_pages() -> None:
    """Issue 12 case 4: production is read without login; the refusal goes in errors."""
    async with gateway("legacy-3x") as (gw, clock):
        async with envoy_for(gw, clock, password="000000") as envoy:
            snap = await envoy.update()
    assert snap.production is not None
    assert snap.inverters == {}
    message = snap.errors["inverters"]
    assert "refused the password" in message and "--password" in message
    assert "000000" not in message
    assert [s for s in snap.errors if "password" in snap.errors[s]] == ["inverters"]


async def test_legacy_wrong_password_and_nothing_readable() -> None:
    async with gateway("legacy-3x") as (gw, clock):
        gw.faults.apply_spec("unauthorized=/production.json,/production,/api/v1/production")
        with pytest.raises(EnvoyAuthError, match="refused the password"):
            async with envoy_for(gw, clock, password="000000"):
                pass

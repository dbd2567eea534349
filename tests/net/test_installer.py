"""Installer tokens from the (simulated) Entrez portal: fetched, checked, stored apart, renewed.

The portal is a real aiohttp server on 127.0.0.1 beside the simulated
gateway (`simulator.serve.entrez`); its tokens are the ones the gateway
accepts, so a fetched token is also proven to work by the gateway itself.
"""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enphase_local.errors import (
    EnvoyAuthError,
    EnvoyBadCredentialsError,
    EnvoyError,
    EnvoyInsecureConnectionError,
    EnvoyTokenExpiredError,
)
from enphase_local.net.claims import TokenClaims
from enphase_local.net.installer import (
    RENEW_BEFORE_S,
    InstallerTokens,
    fetch_installer_token,
    token_from_page,
)
from enphase_local.net.token_store import TokenStore
from enphase_local.simulator import SimClock, SimulatedGateway, SiteBackend
from enphase_local.simulator.serve.cloud import CloudAccount
from enphase_local.simulator.serve.entrez import entrez_portal

START = 1_781_546_400.0
INSTALLER = ("installer@example.com", "installer-password")


@pytest.fixture
async def gw() -> AsyncIterator[SimulatedGateway]:
    clock = SimClock(start=START, speed=0)
    async with SimulatedGateway(SiteBackend.from_preset("export-limit", clock=clock)) as gateway:
        yield gateway


def entrez(gw: SimulatedGateway) -> str:
    return gw.cloud_base_url.entrez


async def test_an_installer_account_gets_an_installer_token_the_gateway_accepts(
    gw: SimulatedGateway,
) -> None:
    token = await fetch_installer_token(
        username=INSTALLER[0], password=INSTALLER[1], serial=gw.serial, entrez_url=entrez(gw)
    )
    claims = TokenClaims.decode(token)
    assert (claims.role, claims.serial) == ("installer", gw.serial)
    assert claims.expires_at is not None and claims.issued_at is not None
    assert claims.expires_at - claims.issued_at == 12 * 3600
    async with aiohttp.ClientSession() as session:  # the installer-only switch answers it
        url = gw.https_url + "/ivp/mod/603980032/mode/power"
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(url, headers=headers, ssl=False) as response:
            assert response.status == 200
    assert entrez_portal(gw.cloud).counters.tokens == 1  # type: ignore[arg-type]


async def test_an_owner_account_is_refused_rather_than_stored_as_installer(
    gw: SimulatedGateway,
) -> None:
    with pytest.raises(EnvoyAuthError, match="owner token, not an installer's"):
        await fetch_installer_token(
            username="owner@example.com",
            password="owner-password",
            serial=gw.serial,
            entrez_url=entrez(gw),
        )


async def test_wrong_password_mfa_and_foreign_serial_say_why(gw: SimulatedGateway) -> None:
    with pytest.raises(EnvoyBadCredentialsError, match="username or password") as wrong:
        await fetch_installer_token(
            username=INSTALLER[0], password="nope", serial=gw.serial, entrez_url=entrez(gw)
        )
    assert "nope" not in str(wrong.value)
    with pytest.raises(EnvoyBadCredentialsError, match="without a token"):
        await fetch_installer_token(
            username="mfa@example.com",
            password="mfa-password",
            serial=gw.serial,
            entrez_url=entrez(gw),
        )
    portal = entrez_portal(gw.cloud)  # type: ignore[arg-type]
    portal.add_account(
        CloudAccount("other@example.com", "pw", installer=True, serials=frozenset({"1" * 12}))
    )
    with pytest.raises(EnvoyBadCredentialsError, match="refused a token for gateway"):
        await fetch_installer_token(
            username="other@example.com", password="pw", serial=gw.serial, entrez_url=entrez(gw)
        )
    assert portal.counters.tokens == 0


async def test_the_password_never_goes_out_in_clear() -> None:
    with pytest.raises(EnvoyInsecureConnectionError, match="https"):
        await fetch_installer_token(
            username="u", password="p", serial="1" * 12, entrez_url="http://entrez.example.com"
        )


def test_pages_are_read_defensively() -> None:
    with pytest.raises(EnvoyBadCredentialsError, match="without a token"):
        token_from_page(b"<html><form></form></html>", "1" * 12)
    with pytest.raises(EnvoyBadCredentialsError, match="Error: no such system"):
        token_from_page(b"<textarea>\n Error: no such system</textarea>", "1" * 12)
    with pytest.raises(Exception, match="not a token"):
        token_from_page(b"<TEXTAREA rows=3>hello</TEXTAREA>", "1" * 12)


async def test_stored_apart_renewed_before_expiry_and_said_when_it_cannot_be(
    gw: SimulatedGateway, tmp_path: Path
) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    store.put(gw.serial, "owner-token-untouched")
    now = [START]
    tokens = InstallerTokens(
        store,
        username=INSTALLER[0],
        password=INSTALLER[1],
        entrez_url=entrez(gw),
        clock=lambda: now[0],
    )
    first = await tokens.get(gw.serial)
    assert tokens.fetched == 1 and store.installer(gw.serial) == first
    assert store.get(gw.serial) == "owner-token-untouched"
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert await tokens.get(gw.serial) == first and tokens.fetched == 1  # still good: kept
    now[0] = START + 12 * 3600 - RENEW_BEFORE_S + 60  # inside the renewal margin
    gw.clock.set(now[0])  # the portal issues from its own (simulated) now
    second = await tokens.get(gw.serial)
    assert tokens.fetched == 2 and second != first
    assert store.installer(gw.serial) == second
    claims = TokenClaims.decode(second)
    assert claims.expires_at is not None and claims.expires_at > now[0] + 11 * 3600
    # without the account: a low token is still used; an expired one is an error that says how
    bare = InstallerTokens(store, entrez_url=entrez(gw), clock=lambda: now[0])
    now[0] += 12 * 3600 - 60
    assert await bare.get(gw.serial) == second
    now[0] += 120
    with pytest.raises(EnvoyTokenExpiredError, match="enphase token --installer"):
        await bare.get(gw.serial)
    assert bare.stored(gw.serial) is None


@settings(deadline=None, max_examples=200)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.text(max_size=200).map(lambda t: f"<html><textarea>{t}</textarea></html>".encode()),
    )
)
def test_any_page_gives_a_token_or_an_enphase_error(page: bytes) -> None:
    try:
        token = token_from_page(page, "1" * 12)
    except EnvoyError:
        return
    assert TokenClaims.decode(token).role == "installer"  # only a real installer JWT gets out

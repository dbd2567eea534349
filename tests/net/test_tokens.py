"""Token claims, the cloud token flow against a fake Enlighten/Entrez, and the token store."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import jwt
import pytest
from aiohttp import web

from enphase_local.errors import (
    EnvoyBadCredentialsError,
    EnvoyConnectionError,
    EnvoyMFARequiredError,
    EnvoyParseError,
)
from enphase_local.net.claims import TokenClaims
from enphase_local.net.cloud import fetch_cloud_token
from enphase_local.net.token_store import TokenStore

KEY = "k" * 32
SERIAL = "122112123456"


def make_token(**claims: object) -> str:
    base: dict[str, object] = {
        "aud": SERIAL,
        "iss": "Entrez",
        "enphaseUser": "owner",
        "exp": 1_780_000_000,
        "iat": 1_750_000_000,
        "username": "me@example.com",
    }
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, KEY, algorithm="HS256")


# -- claims -------------------------------------------------------------------------


def test_decode_reads_the_claims_without_verifying() -> None:
    claims = TokenClaims.decode(make_token())
    assert claims == TokenClaims(
        expires_at=1_780_000_000,
        issued_at=1_750_000_000,
        role="owner",
        username="me@example.com",
        serial=SERIAL,
    )
    assert claims.seconds_left(1_779_999_000) == 1000
    assert not claims.expired(1_779_999_999)
    assert claims.expired(1_780_000_000)


def test_decode_is_lenient_about_missing_or_odd_claims() -> None:
    claims = TokenClaims.decode(make_token(enphaseUser="boss", exp=None, aud=[SERIAL]))
    assert (claims.role, claims.expires_at, claims.serial) == ("unknown", None, SERIAL)
    assert claims.seconds_left(0) is None and not claims.expired(1e12)
    # an already expired token still decodes: deciding is the caller's job
    installer = TokenClaims.decode("  " + make_token(enphaseUser="installer", exp=1) + "\n")
    assert (installer.role, installer.expires_at) == ("installer", 1)


@pytest.mark.parametrize("text", ["", "hello", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.bad"])
def test_malformed_token_says_what_to_do(text: str) -> None:
    with pytest.raises(EnvoyBadCredentialsError, match="enphase token") as info:
        TokenClaims.decode(text)
    assert len(text) < 5 or text not in str(info.value)  # a paste is never echoed


# -- cloud ----------------------------------------------------------------------------


class FakeCloud:
    """Enlighten login and Entrez tokens, as gateway.md section 2 describes them."""

    def __init__(self, *, mfa: bool = False, token: str | None = None) -> None:
        self.mfa = mfa
        self.token = token if token is not None else make_token()
        self.logins: list[dict[str, str]] = []
        self.requests: list[dict[str, str]] = []
        self.app = web.Application()
        self.app.router.add_post("/login/login.json", self.login)
        self.app.router.add_post("/tokens", self.tokens)

    async def login(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.logins.append({k: str(v) for k, v in form.items()})
        if form.get("user[password]") != "s3cret-pw":
            return web.json_response({"message": "Invalid email or password"}, status=401)
        if self.mfa:
            return web.json_response({"message": "Login requires OTP", "isBlocked": False})
        return web.json_response(
            {"session_id": "cloud-session-1", "manager_token": "m", "is_consumer": True}
        )

    async def tokens(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        if body.get("session_id") != "cloud-session-1" or body.get("serial_num") != SERIAL:
            return web.Response(status=401, text="not yours")
        return web.Response(text=self.token)


@contextlib.asynccontextmanager
async def cloud(fake: FakeCloud) -> AsyncIterator[str]:
    runner = web.AppRunner(fake.app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def fetch(url: str, password: str = "s3cret-pw", serial: str = SERIAL) -> str:
    async with aiohttp.ClientSession() as session:
        return await fetch_cloud_token(
            session,
            username="me@example.com",
            password=password,
            serial=serial,
            enlighten_url=url,
            entrez_url=url + "/",
        )


async def test_cloud_token_flow() -> None:
    fake = FakeCloud()
    async with cloud(fake) as url:
        token = await fetch(url)
    assert token == fake.token
    assert fake.logins == [{"user[email]": "me@example.com", "user[password]": "s3cret-pw"}]
    assert fake.requests == [
        {"session_id": "cloud-session-1", "serial_num": SERIAL, "username": "me@example.com"}
    ]


async def test_cloud_login_without_session_means_multi_factor_login() -> None:
    async with cloud(FakeCloud(mfa=True)) as url:
        with pytest.raises(EnvoyMFARequiredError, match="paste"):
            await fetch(url)


async def test_cloud_bad_password_and_foreign_serial_are_bad_credentials() -> None:
    async with cloud(FakeCloud()) as url:
        with pytest.raises(EnvoyBadCredentialsError, match="username or password") as info:
            await fetch(url, password="wrong-pw")
        assert "wrong-pw" not in str(info.value)
        with pytest.raises(EnvoyBadCredentialsError, match="serial"):
            await fetch(url, serial="999999999999")


async def test_cloud_answering_something_else_than_a_token_is_a_parse_error() -> None:
    async with cloud(FakeCloud(token="<html>maintenance</html>")) as url:
        with pytest.raises(EnvoyParseError):
            await fetch(url)


async def test_unreachable_cloud_is_a_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(EnvoyConnectionError, match="internet") as info:
        await fetch(f"http://127.0.0.1:{port}")
    assert "s3cret-pw" not in str(info.value)
    assert isinstance(info.value.__cause__, aiohttp.ClientError)


# -- store ----------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_round_trip_with_private_file_and_directory(tmp_path: Path) -> None:
    path = tmp_path / "new-dir" / "tokens.json"
    store = TokenStore(path)
    assert store.get(SERIAL) is None
    store.put(SERIAL, "tok-1")
    store.put("202020202020", "tok-2")
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert TokenStore(path).get(SERIAL) == "tok-1"
    store.put(SERIAL, "tok-3")
    assert store.get(SERIAL) == "tok-3"
    assert store.delete(SERIAL) is True
    assert store.delete(SERIAL) is False
    assert store.get(SERIAL) is None
    assert store.get("202020202020") == "tok-2"
    assert "tok-2" not in repr(store)
    assert sorted(p.name for p in path.parent.iterdir()) == ["tokens.json"]  # no temp files


def test_store_path_defaults_to_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENPHASE_TOKEN_STORE", str(tmp_path / "env.json"))
    assert TokenStore().path == tmp_path / "env.json"
    monkeypatch.delenv("ENPHASE_TOKEN_STORE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert TokenStore().path == tmp_path / ".config" / "enphase-local" / "tokens.json"


def test_rewrite_is_atomic_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tokens.json"
    store = TokenStore(path)
    store.put(SERIAL, "tok-1")
    before = path.read_bytes()

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.put(SERIAL, "tok-2")
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["tokens.json"]
    assert store.get(SERIAL) == "tok-1"


@pytest.mark.parametrize("content", ["{not json", '{"tokens": [1]}', "[]", '{"version": 1}'])
def test_corrupt_store_is_moved_aside_with_a_warning_naming_both_files(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(content)
    path.chmod(0o600)
    store = TokenStore(path)
    with caplog.at_level(logging.WARNING, logger="enphase_local.tokens"):
        assert store.get(SERIAL) is None
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("tokens.json.damaged-")]
    assert len(aside) == 1 and aside[0].read_text() == content  # kept, never overwritten
    assert str(path) in caplog.text and str(aside[0]) in caplog.text
    store.put(SERIAL, "tok-1")  # and it heals on the next save
    assert json.loads(path.read_text())["tokens"] == {SERIAL: "tok-1"}
    assert aside[0].read_text() == content


def test_store_readable_by_others_is_tightened_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "store"
    path = folder / "tokens.json"
    TokenStore(path).put(SERIAL, "tok-1")
    path.chmod(0o644)
    folder.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="enphase_local.tokens"):
        assert TokenStore(path).get(SERIAL) == "tok-1"
    assert (mode(path), mode(folder)) == (0o600, 0o755)  # the user's folder: left alone
    assert "tightened to 0600" in caplog.text and "0700" not in caplog.text
    assert "tok-1" not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="enphase_local.tokens"):
        TokenStore(path).get(SERIAL)
    assert caplog.text == ""  # once tight, silent


def test_a_shared_folder_is_left_alone(tmp_path: Path) -> None:
    """A sticky folder (like /tmp) or a home directory is not ours to lock down."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    path = folder / "tokens.json"
    TokenStore(path).put(SERIAL, "tok-1")
    path.chmod(0o640)
    assert TokenStore(path).get(SERIAL) == "tok-1"
    assert (mode(path), stat.S_IMODE(folder.stat().st_mode)) == (0o600, 0o1777)


def test_certificates_live_beside_the_tokens(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    store = TokenStore(path)
    store.put(SERIAL, "tok-1")
    store.put_certificate(SERIAL, "AB:CD")
    assert TokenStore(path).certificate(SERIAL) == "AB:CD"
    assert TokenStore(path).get(SERIAL) == "tok-1"
    store.delete(SERIAL)  # forgetting the token keeps the trusted certificate
    assert store.certificate(SERIAL) == "AB:CD"
    document = json.loads(path.read_text())
    assert document == {"version": 1, "tokens": {}, "certificates": {SERIAL: "AB:CD"}}
    assert TokenStore(tmp_path / "absent.json").certificate(SERIAL) is None


def test_a_store_of_the_previous_format_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"version": 1, "tokens": {SERIAL: "tok-1"}}))
    path.chmod(0o600)
    assert TokenStore(path).get(SERIAL) == "tok-1"
    assert TokenStore(path).certificate(SERIAL) is None

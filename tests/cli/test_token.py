"""`enphase token`: from the (emulated) cloud into the store, and checking pasted tokens."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from enphase_local.cli.commands import token as token_module
from enphase_local.net.claims import TokenClaims
from enphase_local.net.token_store import TokenStore

from .conftest import SimThread, enphase


@pytest.fixture
def cloud(battery: SimThread, monkeypatch: pytest.MonkeyPatch) -> SimThread:
    urls = battery.gw.cloud_base_url
    monkeypatch.setenv("ENPHASE_ENLIGHTEN_URL", urls.enlighten)
    monkeypatch.setenv("ENPHASE_ENTREZ_URL", urls.entrez)
    return battery


def test_token_is_fetched_stored_and_used(
    cloud: SimThread, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENPHASE_PASSWORD", "owner-password")
    result = enphase("token", cloud.host, "--username", "owner@example.com")
    assert result.exit_code == 0, result.stderr
    assert f"gateway {cloud.gw.serial}: owner token" in result.stdout
    assert "eyJ" not in result.stdout + result.stderr  # never shown without --print
    store_file = clean_env / "store" / "tokens.json"
    assert stat.S_IMODE(os.stat(store_file).st_mode) == 0o600
    stored = TokenStore(store_file).get(cloud.gw.serial)
    assert stored is not None and TokenClaims.decode(stored).role == "owner"
    # every command now finds it by itself
    read = enphase("read", cloud.host, "--json")
    assert read.exit_code == 0, read.stderr
    assert json.loads(read.stdout)["gateway"]["role"] == "owner"


def test_token_print_and_no_store(
    cloud: SimThread, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENPHASE_PASSWORD", "owner-password")
    result = enphase(
        "token", "--serial", cloud.gw.serial, "-u", "owner@example.com", "--print", "--no-store"
    )
    assert result.exit_code == 0, result.stderr
    token = result.stdout.strip()
    assert TokenClaims.decode(token).serial == cloud.gw.serial
    assert "owner token" in result.stderr
    assert not (clean_env / "store" / "tokens.json").exists()


def test_token_password_prompt_is_hidden(cloud: SimThread, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_module, "_interactive", lambda: True)
    result = enphase(
        "token", cloud.host, "-u", "owner@example.com", "--json", input="owner-password\n"
    )
    assert result.exit_code == 0, result.stderr
    assert "owner-password" not in result.stdout + result.stderr


def test_token_wrong_password_and_mfa(cloud: SimThread, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENPHASE_PASSWORD", "wrong")
    wrong = enphase("token", cloud.host, "-u", "owner@example.com", "--json")
    assert wrong.exit_code == 4
    assert json.loads(wrong.stdout)["error"]["kind"] == "bad_credentials"
    monkeypatch.setenv("ENPHASE_PASSWORD", "mfa-password")
    mfa = enphase("token", cloud.host, "-u", "mfa@example.com")
    assert mfa.exit_code == 4 and "multi-factor" in mfa.stderr


def test_token_needs_a_gateway() -> None:
    result = enphase("token", "-u", "owner@example.com", "--password", "x")
    assert result.exit_code == 2 and "--serial" in result.stderr


def test_check_from_env_and_stdin(battery: SimThread, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENPHASE_TOKEN", battery.token())
    result = enphase("token", "--check", "--json")
    assert result.exit_code == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["role"] == "owner" and info["serial"] == battery.gw.serial
    assert info["expired"] is False and "token" not in info
    monkeypatch.delenv("ENPHASE_TOKEN")
    piped = enphase("token", "--check", battery.host, input=battery.token() + "\n")
    assert piped.exit_code == 0, piped.stderr
    assert "owner token" in piped.stdout and "the gateway accepted it" in piped.stdout


def test_check_expired_and_garbage(battery: SimThread) -> None:
    expired = enphase("token", "--check", input=battery.token(valid_for_s=-10))
    assert expired.exit_code == 4 and "expired" in expired.stderr
    garbage = enphase("token", "--check", "--json", input="hello\n")
    assert garbage.exit_code == 4
    assert json.loads(garbage.stdout)["error"]["kind"] == "bad_credentials"


def test_check_expired_json_is_one_document(battery: SimThread) -> None:
    """Issue 18 item 4: the error envelope alone, never details then an envelope."""
    result = enphase("token", "--check", "--token", battery.token(valid_for_s=-10), "--json")
    assert result.exit_code == 4
    document = json.loads(result.stdout)  # raises on two documents
    assert document["error"]["kind"] == "token_expired"
    assert battery.gw.serial in document["error"]["message"]


def test_check_sends_the_token_to_the_gateway(battery: SimThread, three_phase: SimThread) -> None:
    """Issue 18 item 5: a token of another gateway does not "pass"."""
    other = enphase("token", "--check", battery.host, "--token", three_phase.token(), "--json")
    assert other.exit_code == 4, other.stdout
    assert json.loads(other.stdout)["error"]["kind"] in ("auth", "bad_credentials")
    assert "accepted" not in other.stdout
    good = enphase("token", "--check", battery.host, "--token", battery.token(), "--json")
    assert good.exit_code == 0, good.stdout + good.stderr
    assert json.loads(good.stdout)["gateway_accepted"] is True
    entries = battery.call(lambda: battery.gw.log.entries)
    hits = [e for e in entries if e.endpoint == "/api/v1/production"]
    assert hits, "the check never asked the gateway anything with the token"


def test_a_pasted_token_is_checked_then_stored(battery: SimThread, clean_env: Path) -> None:
    """MFA accounts paste a token: `--check --store` checks it against the gateway, keeps it."""
    store_file = clean_env / "store" / "tokens.json"
    pasted = battery.token()
    plain = enphase("token", "--check", battery.host, input=pasted + "\n")
    assert plain.exit_code == 0, plain.stderr
    assert TokenStore(store_file).get(battery.gw.serial) is None  # --check alone keeps nothing
    kept = enphase("token", "--check", "--store", battery.host, input=pasted + "\n")
    assert kept.exit_code == 0, kept.stderr
    assert "stored in" in kept.stdout + kept.stderr
    assert TokenStore(store_file).get(battery.gw.serial) == pasted
    assert stat.S_IMODE(os.stat(store_file).st_mode) == 0o600
    # a token the gateway refuses is not kept
    refused = enphase("token", "--store", "--token", pasted[:-4] + "AAAA", battery.host)
    assert refused.exit_code == 4, refused.stderr
    assert TokenStore(store_file).get(battery.gw.serial) == pasted
    # every command now finds the stored one
    read = enphase("read", battery.host, "--json")
    assert read.exit_code == 0, read.stderr

"""Helpers shared by the server tests (a tiny backend, digest headers), and the pure auth rules.

The socket tests in the other test_server_* / test_faults* / test_cloud*
files import `StubBackend`, `digest_header` and `CLOCK_START` from here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import jwt
import pytest

from enphase_local.simulator.contract import JSON, Reply
from enphase_local.simulator.serve import auth as auth_module
from enphase_local.simulator.serve.auth import (
    DigestVerifier,
    SessionStore,
    decode_token,
    installer_password,
    issue_token,
    owner_password,
    parse_digest,
)
from enphase_local.simulator.serve.personalities import LEGACY, TOKEN, TOKEN_7X, personality_for

CLOCK_START = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


class StubBackend:
    """Answers every GET with a small JSON naming the path; remembers calls and reboots."""

    def __init__(
        self, serial: str = "122112123456", firmware: str = "D8.2.4345", timezone: str = "UTC"
    ) -> None:
        self._serial = serial
        self._firmware = firmware
        self.timezone = timezone
        self.calls: list[tuple[str, str, dict[str, str], bytes]] = []
        self.reboots: list[float] = []
        self.missing: set[str] = {"/nope"}

    @property
    def serial(self) -> str:
        return self._serial

    @property
    def firmware(self) -> str:
        return self._firmware

    def reboot(self, duration_s: float) -> None:
        self.reboots.append(duration_s)

    def handle(self, method: str, path: str, query: Mapping[str, str], body: bytes) -> Reply | None:
        self.calls.append((method, path, dict(query), body))
        if path in self.missing:
            return None
        if path == "/info":
            return None  # let the server's fallback /info answer
        text = f'{{"path": "{path}", "method": "{method}", "size": {len(body)}}}'
        return Reply(200, text.encode(), JSON)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def digest_header(
    challenge: str,
    method: str,
    uri: str,
    user: str,
    password: str,
    *,
    nc: int = 1,
    cnonce: str = "0a4f113b",
) -> str:
    """An ``Authorization`` value answering `challenge`, computed by hand (RFC 7616, MD5)."""
    params = parse_digest(challenge)
    assert params is not None
    realm, nonce = params["realm"], params["nonce"]
    ha1 = md5(f"{user}:{realm}:{password}")
    ha2 = md5(f"{method}:{uri}")
    nc_text = f"{nc:08x}"
    response = md5(f"{ha1}:{nonce}:{nc_text}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", qop=auth, nc={nc_text}, cnonce="{cnonce}", algorithm=MD5'
    )


# -- pure rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "password"),
    [("122112123456", "d525d2jh"), ("123456789012", "7edE24ed"), ("202020202020", "h3C684b4")],
)
def test_installer_password_vectors(serial: str, password: str) -> None:
    assert installer_password(serial) == password


def test_owner_password_is_last_six_of_serial() -> None:
    assert owner_password("122112123456") == "123456"


def test_personality_by_firmware() -> None:
    assert personality_for("R3.9.36") is LEGACY
    assert personality_for("D5.0.62") is LEGACY
    assert personality_for("D7.3.130") is TOKEN_7X
    assert personality_for("D7.6.175") is TOKEN_7X
    assert personality_for("D8.2.4345") is TOKEN
    assert personality_for("D8.10.1") is TOKEN


@pytest.mark.parametrize(
    ("path", "legacy", "token"),
    [
        ("/info", "public", "public"),
        ("/info.xml", "public", "public"),
        ("/home", "public", "public"),
        ("/production", "public", "login"),
        ("/production.json", "public", "login"),
        ("/api/v1/production", "public", "login"),
        ("/api/v1/production/inverters", "login", "login"),
        ("/inventory.json", "login", "login"),
        ("/ivp/meters/readings", "login", "login"),
        ("/admin/lib/tariff", "login", "login"),
        ("/installer/agf/index.json", "installer", "installer"),
        ("/ivp/peb/devstatus", "installer", "installer"),
        ("/ivp/meters/cts", "installer", "installer"),
        ("/ivp/meters/cts/704643328", "installer", "installer"),
        ("/ivp/mod/603980032/mode/power", "installer", "installer"),
        ("/ivp/ss/dpel", "installer", "installer"),
        ("/ivp/ss/dpel_settings", "login", "login"),
        ("/stream/meter", "login", "login"),
    ],
)
def test_access_rules(path: str, legacy: str, token: str) -> None:
    assert LEGACY.access(path) == legacy
    assert TOKEN.access(path) == token


def test_stream_meter_is_installer_only_on_7x() -> None:
    assert TOKEN_7X.access("/stream/meter") == "installer"
    assert TOKEN.access("/stream/meter") == "login"


def test_token_claims_and_checks() -> None:
    now = CLOCK_START
    token = issue_token("122112123456", "owner", now=now, username="me@example.com")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["enphaseUser"] == "owner"
    assert claims["aud"] == "122112123456"
    assert claims["username"] == "me@example.com"
    assert claims["iat"] == int(now)
    assert 364 * 86400 < claims["exp"] - now <= 366 * 86400
    installer = jwt.decode(
        issue_token("122112123456", "installer", now=now), options={"verify_signature": False}
    )
    assert installer["exp"] - now == 12 * 3600

    decoded = decode_token(token, "122112123456", now=now + 10)
    assert decoded is not None and decoded.role == "owner"
    assert decode_token(token, "999999999999", now=now) is None  # other gateway
    assert decode_token(token, "122112123456", now=now + 400 * 86400) is None  # expired
    assert decode_token("not-a-jwt", "122112123456", now=now) is None
    forged = jwt.encode(dict(claims), "someone-else-" * 4, algorithm="HS256")
    assert decode_token(forged, "122112123456", now=now) is None
    head, _body, sig = token.split(".")
    tampered = jwt.encode({**claims, "enphaseUser": "installer"}, "x" * 32, algorithm="HS256")
    assert decode_token(f"{head}.{tampered.split('.')[1]}.{sig}", "122112123456", now=now) is None
    secret = auth_module._SECRET  # a well-signed token with a role the gateway does not know
    weird = jwt.encode({**claims, "enphaseUser": "admin"}, secret, algorithm="HS256")
    assert decode_token(weird, "122112123456", now=now) is None


def test_sessions_expire_after_idle_time() -> None:
    store = SessionStore()
    claims = decode_token(issue_token("1", "owner", now=CLOCK_START), "1", now=CLOCK_START)
    assert claims is not None
    sid = store.create(claims, CLOCK_START)
    assert store.use(sid, CLOCK_START + 590) == "owner"
    assert store.use(sid, CLOCK_START + 1180) == "owner"  # kept alive by use
    assert store.use(sid, CLOCK_START + 1790) is None  # 610 s idle
    assert store.use("unknown", CLOCK_START) is None


def test_digest_verify_by_hand() -> None:
    auth = DigestVerifier({"envoy": "123456"})
    challenge = auth.challenge()
    good = digest_header(challenge, "GET", "/ivp/meters", "envoy", "123456")
    assert auth.verify("GET", "/ivp/meters", good) == "envoy"
    assert auth.verify("POST", "/ivp/meters", good) is None  # method is part of the hash
    bad = digest_header(challenge, "GET", "/ivp/meters", "envoy", "654321")
    assert auth.verify("GET", "/ivp/meters", bad) is None
    stranger = digest_header(challenge, "GET", "/ivp/meters", "root", "123456")
    assert auth.verify("GET", "/ivp/meters", stranger) is None
    auth.forget_nonces()
    assert auth.verify("GET", "/ivp/meters", good) is None  # nonce no longer known

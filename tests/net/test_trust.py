"""Certificate trust: fingerprint formats, the choices (learn, pin, verify), and binding a
learned certificate to a gateway serial in the token store."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from pathlib import Path

import aiohttp
import pytest

from enphase_local.errors import EnvoyCertificateChangedError, EnvoyConnectionError
from enphase_local.net.token_store import TokenStore
from enphase_local.net.trust import (
    CertificateTrust,
    fetch_certificate,
    format_fingerprint,
    parse_fingerprint,
)
from tests.net.certs import make_identity
from tests.net.test_transport import free_port

DIGEST = hashlib.sha256(b"certificate").digest()
SERIAL = "122112123456"


@pytest.mark.parametrize(
    "text",
    [
        format_fingerprint(DIGEST),
        format_fingerprint(DIGEST).lower(),
        DIGEST.hex(),
        "SHA256:" + DIGEST.hex(":"),
        f"  sha256 {DIGEST.hex()}  ",
    ],
)
def test_fingerprints_are_read_in_the_usual_spellings(text: str) -> None:
    assert parse_fingerprint(text) == DIGEST


@pytest.mark.parametrize("text", ["", "abc", DIGEST.hex()[:-2], DIGEST.hex() + "00", "zz" * 32])
def test_other_text_is_not_a_fingerprint(text: str) -> None:
    with pytest.raises(ValueError, match="64 hex digits"):
        parse_fingerprint(text)


def test_format_is_what_openssl_prints() -> None:
    text = format_fingerprint(DIGEST)
    assert len(text) == 95 and text.count(":") == 31 and text == text.upper()


def test_the_three_modes_give_aiohttp_the_right_check() -> None:
    learning = CertificateTrust()
    assert learning.learning and learning.ssl_for_request() is False
    learning.observe(b"certificate")
    assert not learning.learning and learning.pinned == DIGEST
    check = learning.ssl_for_request()
    assert isinstance(check, aiohttp.Fingerprint) and check.fingerprint == DIGEST
    learning.observe(b"another one")  # the first one stays pinned
    assert learning.pinned == DIGEST
    pinned = CertificateTrust(pin=DIGEST.hex())
    assert pinned.pinned == DIGEST and not pinned.learning
    verifying = CertificateTrust(verify=True)
    context = verifying.ssl_for_request()
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED
    assert not verifying.learning
    with pytest.raises(ValueError, match="not both"):
        CertificateTrust(pin=DIGEST.hex(), verify=True)


def test_bind_records_on_first_use_then_checks(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    first = CertificateTrust(store=store)
    first.observe(b"certificate")
    first.bind(SERIAL, "envoy.local")
    assert store.certificate(SERIAL) == format_fingerprint(DIGEST)
    again = CertificateTrust(store=store)
    again.observe(b"certificate")
    again.bind(SERIAL, "envoy.local")  # same certificate: fine
    other = CertificateTrust(store=store)
    other.observe(b"impostor")
    with pytest.raises(EnvoyCertificateChangedError, match=r"enphase trust envoy\.local") as info:
        other.bind(SERIAL, "envoy.local")
    assert info.value.old == format_fingerprint(DIGEST)
    assert info.value.new == format_fingerprint(hashlib.sha256(b"impostor").digest())
    assert store.certificate(SERIAL) == format_fingerprint(DIGEST)


def test_bind_does_nothing_without_a_store_or_with_an_explicit_choice(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    for trust in (
        CertificateTrust(pin=DIGEST.hex(), store=store),
        CertificateTrust(verify=True, store=store),
        CertificateTrust(store=store),  # nothing seen (an HTTP gateway)
    ):
        trust.bind(SERIAL, "envoy.local")
    assert store.certificate(SERIAL) is None
    CertificateTrust().bind(SERIAL, "envoy.local")  # no store: memory only


async def test_fetch_certificate_reads_the_servers_certificate() -> None:
    identity = make_identity()
    server = await asyncio.start_server(
        lambda r, w: w.close(), "127.0.0.1", 0, ssl=identity.context
    )
    port = server.sockets[0].getsockname()[1]
    try:
        assert hashlib.sha256(await fetch_certificate("127.0.0.1", port, 2)).digest() == (
            identity.fingerprint
        )
    finally:
        server.close()
        await server.wait_closed()
    with pytest.raises(EnvoyConnectionError, match="could not open HTTPS"):
        await fetch_certificate("127.0.0.1", free_port(), 2)


def test_one_fingerprint_object_per_pin_so_keep_alive_connections_are_reused() -> None:
    """aiohttp keys its pool on ``ssl=`` by identity: a new object per request would open a
    new TLS connection for every request (found by bench/live.py: 8 MB per gateway)."""
    trust = CertificateTrust(pin=bytes(range(32)))
    assert trust.ssl_for_request() is trust.ssl_for_request()

"""Which certificate a gateway must present before we send it a credential: trust on first use.

Gateways on firmware 7 and later serve HTTPS with a self-signed certificate,
so no certificate authority can vouch for them. Skipping the check entirely
(``ssl=False``) hands the owner token to anyone who answers on the address.
So, like SSH: the SHA-256 fingerprint of the certificate seen on the first
connection is remembered (in memory for the life of the `Envoy`, and with
the gateway serial in the token store when there is one), and every later
connection must present the same certificate. aiohttp checks a pinned
fingerprint as the TLS handshake completes, before the request (and its
token) is written, so a changed certificate never sees a credential.

A library user may instead pin a fingerprint explicitly (``pin=``) or ask
for normal verification against certificate authorities (``verify=True``
or an `ssl.SSLContext`, e.g. for a gateway behind a reverse proxy).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import re
import ssl
from typing import TYPE_CHECKING

import aiohttp

from ..errors import (
    EnvoyCertificateChangedError,
    EnvoyConnectionError,
    EnvoyParseError,
    EnvoyTimeoutError,
)
from ..sources.info import parse_info
from .connector import PINNED_CONTEXT

if TYPE_CHECKING:
    from .token_store import TokenStore

__all__ = [
    "CertificateTrust",
    "Verify",
    "certificate_changed",
    "fetch_certificate",
    "fingerprint_of",
    "format_fingerprint",
    "parse_fingerprint",
]

_LOGGER = logging.getLogger("enphase_local.trust")

_HEX = re.compile(r"[0-9a-f]{64}")

# `verify=`: False (fingerprints: learned or pinned), True (certificate authorities), or a context
Verify = bool | ssl.SSLContext


def fingerprint_of(der: bytes) -> bytes:
    """The SHA-256 digest of a DER certificate (what browsers and OpenSSL show)."""
    return hashlib.sha256(der).digest()


def format_fingerprint(digest: bytes) -> str:
    """``AB:CD:...``: the form ``openssl x509 -fingerprint -sha256`` and browsers print."""
    return ":".join(f"{byte:02X}" for byte in digest)


def parse_fingerprint(text: str) -> bytes:
    """A SHA-256 fingerprint from hex, with or without colons or a ``sha256:`` prefix."""
    cleaned = text.strip().lower().removeprefix("sha256:").removeprefix("sha256 ").strip()
    cleaned = cleaned.replace(":", "").replace(" ", "")
    if not _HEX.fullmatch(cleaned):
        raise ValueError(
            f"{text!r} is not a SHA-256 fingerprint: give 64 hex digits (colons allowed)"
        )
    return bytes.fromhex(cleaned)


def certificate_changed(netloc: str, old: bytes, new: bytes) -> EnvoyCertificateChangedError:
    """The error for a gateway presenting `new` where `old` is trusted, saying what to do."""
    old_text, new_text = format_fingerprint(old), format_fingerprint(new)
    return EnvoyCertificateChangedError(
        f"the gateway at {netloc} presented a different certificate than the one trusted "
        f"for it, so no credential was sent.\n  trusted: SHA256 {old_text}\n  "
        f"presented: SHA256 {new_text}\nA firmware update may generate a new certificate; "
        "if the gateway was just updated, accept the new one with "
        f"`enphase trust {netloc}` (it shows the fingerprint and asks). Otherwise something on "
        "your network may be intercepting the connection: do not accept it.",
        old=old_text,
        new=new_text,
    )


async def fetch_certificate(hostname: str, port: int, timeout_s: float) -> bytes:
    """The DER certificate the server presents, from a bare TLS handshake (no HTTP sent).

    Apart from the request because aiohttp releases the connection of a
    small answer before its caller could look at it: learning the
    certificate first lets every HTTP request, the first included, be
    checked against the pin.
    """
    where = f"[{hostname}]:{port}" if ":" in hostname else f"{hostname}:{port}"
    # self-signed: the fingerprint is what gets checked, so no CA store is loaded (that
    # cost 29 ms of CPU per gateway, most of a first connect: issue 31)
    context = PINNED_CONTEXT
    try:
        async with asyncio.timeout(timeout_s):
            _, writer = await asyncio.open_connection(hostname, port, ssl=context)
    except TimeoutError as err:
        raise EnvoyTimeoutError(
            f"the gateway at {where} did not complete a TLS handshake within {timeout_s:g} s: "
            "it may be busy or rebooting; try again later"
        ) from err
    except (OSError, ssl.SSLError) as err:
        raise EnvoyConnectionError(
            f"could not open HTTPS to the gateway at {where} ({type(err).__name__}): check the "
            "address, the network and that it is powered"
        ) from err
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    if not der:
        raise EnvoyConnectionError(f"the gateway at {where} presented no certificate")
    return bytes(der)


@functools.cache
def _authorities() -> ssl.SSLContext:
    """Normal verification (system certificate authorities, host name), built once."""
    return ssl.create_default_context()


class CertificateTrust:
    """What certificate the gateway must present, learned on first use unless told.

    `pin`: a fingerprint to require (no learning). `verify`: True for normal
    certificate-authority verification, or an `ssl.SSLContext`; either
    replaces fingerprint checks. `store`: where fingerprints are kept by
    gateway serial, so a new `Envoy` checks the one learned before.
    """

    def __init__(
        self,
        *,
        pin: str | bytes | None = None,
        verify: Verify = False,
        store: TokenStore | None = None,
    ) -> None:
        if pin is not None and verify is not False:
            raise ValueError("give pin= or verify=, not both")
        self.store = store
        self._verify = verify
        self._explicit = pin is not None
        self._bound = False
        self._pinned: bytes | None = None
        # one object per pin: aiohttp keys its connection pool on `ssl=` by identity, so a
        # new Fingerprint per request would open a new TLS connection for every request
        self._fingerprint: aiohttp.Fingerprint | None = None
        if pin is not None:
            self._pinned = pin if isinstance(pin, bytes) else parse_fingerprint(pin)
            if len(self._pinned) != 32:
                raise ValueError("a SHA-256 fingerprint has 32 bytes")

    def __repr__(self) -> str:
        mode = "verify" if self.verifying else "pinned" if self._pinned else "learning"
        return f"CertificateTrust({mode})"

    @property
    def verifying(self) -> bool:
        """Certificate authorities decide (``verify=``): no fingerprints."""
        return self._verify is not False

    @property
    def learning(self) -> bool:
        """Nothing known yet: the next HTTPS connection's certificate will be pinned."""
        return not self.verifying and self._pinned is None

    @property
    def pinned(self) -> bytes | None:
        """The fingerprint every HTTPS connection must present, once known."""
        return self._pinned

    @property
    def pinned_text(self) -> str | None:
        return format_fingerprint(self._pinned) if self._pinned else None

    def ssl_for_request(self) -> ssl.SSLContext | aiohttp.Fingerprint | bool:
        """aiohttp's ``ssl=`` for the next HTTPS request.

        The transport learns the certificate with a bare TLS handshake
        before the first request (`observe`), so every request, the first
        included, is checked; False (no check) remains only if none was
        learned.
        """
        if isinstance(self._verify, ssl.SSLContext):
            return self._verify
        if self._verify:
            return _authorities()
        if self._pinned is not None:
            if self._fingerprint is None or self._fingerprint.fingerprint != self._pinned:
                self._fingerprint = aiohttp.Fingerprint(self._pinned)
            return self._fingerprint
        return False

    def observe(self, der: bytes) -> None:
        """The certificate of an unchecked connection: pin it for the life of this object."""
        if self.verifying or self._pinned is not None:
            return
        self._pinned = fingerprint_of(der)
        _LOGGER.debug("first certificate seen: SHA256 %s", self.pinned_text)

    def bind_info(self, body: bytes, netloc: str) -> None:
        """The gateway's ``/info`` answer arrived over the pinned connection: `bind` its serial.

        Done by the transport on the first ``/info`` (always public, asked
        before anything else), so the check happens before any credential
        exists to send. A body that does not parse is left to the caller's
        own parse to report.
        """
        if self._bound or self.store is None or self._explicit or self.verifying:
            return
        try:
            serial = parse_info(body).serial
        except EnvoyParseError:
            return
        self.bind(serial, netloc)

    def bind(self, serial: str, netloc: str) -> None:
        """Tie the pinned certificate to the gateway's serial in the store (trust on first use).

        A certificate already on record for `serial` must match the one
        pinned, else `EnvoyCertificateChangedError` (before any credential
        is sent: the caller binds right after reading the public ``/info``).
        """
        if self.verifying or self._explicit or self._pinned is None or self.store is None:
            return
        known = self.store.certificate(serial)
        if known is None:
            self.store.put_certificate(serial, format_fingerprint(self._pinned))
            self._bound = True
            _LOGGER.info(
                "trusting the certificate of gateway %s at %s on first use: SHA256 %s",
                serial,
                netloc,
                self.pinned_text,
            )
            return
        try:
            old = parse_fingerprint(known)
        except ValueError:
            _LOGGER.warning("the trusted certificate of %s in %s is damaged", serial, self.store)
            old = b""
        if old != self._pinned:
            # not bound: every later /info raises again, so retrying never lets a token out
            raise certificate_changed(netloc, old, self._pinned)
        self._bound = True

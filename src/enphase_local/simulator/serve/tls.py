"""The simulator's self-signed certificate, made once per process.

Why once: generating a key and signing a certificate costs milliseconds, and
a fleet of a thousand gateways shares one `ssl.SSLContext` anyway (each
context holds its own copy of the chain in OpenSSL memory). Real gateways on
firmware 7 and later also present a self-signed certificate, so clients
must be told to skip verification (``ssl=False`` in aiohttp) exactly as they
would for real hardware.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import tempfile
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["certificate_pem", "server_ssl_context"]


@cache
def certificate_pem() -> tuple[bytes, bytes]:
    """(certificate, private key) in PEM, valid ten years, for ``envoy.local`` and loopback."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "envoy.local"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "enphase-local simulator"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    alt_names: list[x509.GeneralName] = [
        x509.DNSName("envoy.local"),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert_pem, key_pem


@cache
def server_ssl_context() -> ssl.SSLContext:
    """One server context for every simulated gateway of this process.

    `ssl` can only load a chain from files, so the PEMs go through a private
    temporary directory that is removed straight away.
    """
    cert_pem, key_pem = certificate_pem()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory(prefix="enphase-sim-") as folder:
        cert_path = os.path.join(folder, "cert.pem")
        key_path = os.path.join(folder, "key.pem")
        with open(cert_path, "wb") as handle:
            handle.write(cert_pem)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key_pem)
        context.load_cert_chain(cert_path, key_path)
    return context

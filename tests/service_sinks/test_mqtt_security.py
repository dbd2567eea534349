"""The broker connection's security, against real Mosquitto brokers started here.

TLS with a CA and a client certificate (``require_certificate``), generated
in the test with `cryptography`; user names and passwords with the ACL that
docs/mqtt.md shows, read from the page itself so that the documented file is
the tested one.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import logging
import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import aiomqtt
import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from enphase_local.service.mqtt import MqttSink
from enphase_local.service.mqtt_config import MqttSettings
from tests.simkit import envoy_for, gateway

from .helpers import recorder, start_for_one
from .services import Broker, mosquitto_binary, unavailable
from .test_mqtt_commands import writes
from .test_mqtt_discovery import names

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def running_broker(conf: Callable[[Path], str]) -> Iterator[Broker]:
    """A Mosquitto of this test, started, then closed: `conf(its folder)` after its listener.

    `conf` writes the files the settings name into the broker's folder (readable to it).
    """
    broker = Broker(mosquitto_binary("the TLS and ACL tests need their own broker"))
    try:
        broker.config.write_text(
            f"listener {broker.port} 127.0.0.1\n{conf(broker.dir)}persistence false\n"
        )
        broker.start()
        yield broker
    finally:
        broker.close()


def acl_broker(users: dict[str, str]) -> contextlib.AbstractContextManager[Broker]:
    """A running broker with these users and the ACL docs/mqtt.md shows; no anonymous."""

    def conf(folder: Path) -> str:
        acl = folder / "acl"
        acl.write_text(_documented_acl())
        acl.chmod(0o644)
        passwd = _passwd(folder, users)
        return f"allow_anonymous false\npassword_file {passwd}\nacl_file {acl}\n"

    return running_broker(conf)


# -- certificates -------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    ip: str | None = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer if issuer is not None else (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    else:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    if ip is not None:
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    for suffix in (".pem", ".key"):
        path.with_suffix(suffix).chmod(0o644)  # the broker may run as its own user


def _pki(folder: Path) -> None:
    """ca.pem, broker.pem/.key (for 127.0.0.1) and client.pem/.key, all from one new CA."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("enphase-local test CA", ca_key, None, ca=True)
    _write(folder / "ca", ca, ca_key)
    for name, ip in (("broker", "127.0.0.1"), ("client", None)):
        key = ec.generate_private_key(ec.SECP256R1())
        _write(folder / name, _cert(name, key, (ca.subject, ca_key), ip=ip), key)


def _tls(d: Path) -> str:
    _pki(d)
    return (
        f"allow_anonymous true\ncafile {d / 'ca.pem'}\ncertfile {d / 'broker.pem'}\n"
        f"keyfile {d / 'broker.key'}\nrequire_certificate true\n"
    )


async def test_tls_with_a_client_certificate_against_require_certificate() -> None:
    base, prefix = names()
    with running_broker(_tls) as broker:
        d = broker.dir
        url = f"mqtts://127.0.0.1:{broker.port}"
        settings = MqttSettings(
            url=url,
            base=base,
            discovery_prefix=prefix,
            collector="tls",
            ca_file=str(d / "ca.pem"),
            cert_file=str(d / "client.pem"),
            key_file=str(d / "client.key"),
        )
        sink = MqttSink(settings)
        async with gateway("metered-split") as (gw, clock):
            async with envoy_for(gw, clock) as envoy:
                snap = await envoy.update()
                await start_for_one(sink, envoy, snap)
                assert sink.connected and sink._link.mqtt5
                context = ssl.create_default_context(cafile=str(d / "ca.pem"))
                context.load_cert_chain(str(d / "client.pem"), str(d / "client.key"))
                bridge = f"{base}/bridge/tls/availability"
                async with recorder(url, bridge, tls_context=context) as rec:
                    assert await rec.wait_for(bridge) == b"online"
                await sink.stop()
        # the same broker refuses a client without a certificate
        bare = ssl.create_default_context(cafile=str(d / "ca.pem"))
        with pytest.raises(aiomqtt.MqttError):
            async with recorder(url, bridge, tls_context=bare):
                pass


def test_tls_settings_fail_at_start_with_one_line(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(ValueError, match="ca_file") as err:
        MqttSettings(url="mqtts://h", ca_file=missing)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="client certificate"):
        MqttSettings(url="mqtts://h", cert_file=missing)
    with pytest.raises(ValueError, match="not TLS"):
        MqttSettings(url="mqtt://h", ca_file=missing)
    with pytest.raises(ValueError, match="without cert_file"):
        MqttSettings(url="mqtts://h", key_file=missing)
    with pytest.raises(ValueError, match="password_file") as err:
        MqttSettings.from_config({"password_file": missing})
    assert "\n" not in str(err.value)
    secret = tmp_path / "pw"
    secret.write_text("hunter2\n")
    s = MqttSettings.from_config({"username": "u", "password_file": str(secret)})
    assert s.credentials() == ("u", "hunter2") and "hunter2" not in repr(s)


def _documented_acl() -> str:
    """The ACL file docs/mqtt.md shows, exactly as shown."""
    page = (ROOT / "docs" / "mqtt.md").read_text()
    block = page.split("<!-- mosquitto-acl -->", 1)[1].split("```text\n", 1)[1]
    return block.split("```", 1)[0]


def _passwd(folder: Path, users: dict[str, str]) -> Path:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        unavailable("mosquitto_passwd is not installed: the ACL test needs it to make users")
    assert tool is not None
    path = folder / "passwd"
    for user, password in users.items():
        args = [tool, "-b", *(["-c"] if not path.exists() else []), str(path), user, password]
        subprocess.run(args, check=True, capture_output=True, timeout=30)
    path.chmod(0o644)
    return path


async def test_the_documented_acl_lets_only_home_assistant_command(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    base = "enphase"  # the base topic the documented ACL names
    users = {"enphase": "collector-pw-1", "homeassistant": "ha-pw-2", "viewer": "viewer-pw-3"}
    secret = tmp_path / "mqtt-password"
    secret.write_text("collector-pw-1\n")
    secret.chmod(0o600)
    as_ha = {"username": "homeassistant", "password": users["homeassistant"]}
    with acl_broker(users) as broker:
        url = broker.url
        caplog.set_level(logging.DEBUG, logger="enphase_local")
        async with gateway("battery-backup") as (gw, clock):
            async with envoy_for(gw, clock) as envoy:
                snap = await envoy.update()
                serial = snap.gateway.serial
                sink = MqttSink.from_config(
                    {
                        "url": url,
                        "username": "enphase",
                        "password_file": str(secret),
                        "collector": "acl",
                        "commands": ["reserve_soc"],
                    }
                )
                await start_for_one(sink, envoy, snap)
                result = f"{base}/{serial}/result/reserve_soc"
                command = f"{base}/{serial}/set/reserve_soc"
                async with (
                    recorder(url, result, **as_ha) as ha,
                    aiomqtt.Client(
                        "127.0.0.1", broker.port, username="viewer", password=users["viewer"]
                    ) as viewer,
                ):
                    await viewer.publish(command, b"77", qos=1)  # the broker drops it
                    await ha.client.publish(command, b"33", qos=1)
                    done = await ha.wait_json(result)
                    # the viewer's command was routed (PUBACKed) before Home Assistant's:
                    # had it reached the collector, its result would be here first
                    assert [orjson.loads(p)["requested"] for p in ha.payloads(result)] == [33.0]
                    assert done["outcome"] == "confirmed"
                await sink.stop()
        assert writes(gw) == ["/admin/lib/tariff"]  # only Home Assistant's command
        assert gw.backend.state()["reserved_soc"] == 33  # type: ignore[attr-defined]
        assert all("collector-pw-1" not in r.getMessage() for r in caplog.records)

"""Redaction: stable, format-preserving fakes, JSON documents, and log records."""

from __future__ import annotations

import io
import ipaddress
import logging
import re

import jwt

from enphase_local.redact import RedactingFilter, Redactor

SERIAL = "122112123456"
OTHER = "202020202020"
TOKEN = jwt.encode({"enphaseUser": "owner", "exp": 1}, "k" * 32, algorithm="HS256")


def test_same_input_same_fake_and_format_preserved() -> None:
    r = Redactor()
    first = r.redact_text(f"gateway {SERIAL} inverter {OTHER}")
    second = r.redact_text(f"inverter {OTHER} of gateway {SERIAL}")
    fake_serial, fake_other = re.findall(r"\d{12}", first)
    assert SERIAL not in first + second and OTHER not in first + second
    assert fake_serial != fake_other
    assert second == f"inverter {fake_other} of gateway {fake_serial}"
    # another redactor is another table, but just as consistent
    assert Redactor().redact_text(SERIAL) == Redactor().redact_text(SERIAL)


def test_redacting_twice_changes_nothing_more() -> None:
    r = Redactor(secrets=["hunter2-pw"])
    text = f"{SERIAL} 192.168.1.20 fe80::1c2 00:1d:c0:12:34:56 me@mail.org hunter2-pw {TOKEN}"
    once = r.redact_text(text)
    assert r.redact_text(once) == once


def test_addresses_become_documentation_addresses() -> None:
    r = Redactor()
    out = r.redact_text(
        "lan 192.168.1.20:443 wlan 10.0.0.7 v6 fe80::1c2:3ff:fe4a:1 mac 00:1D:C0:12:34:56"
    )
    v4 = re.findall(r"\d+\.\d+\.\d+\.\d+", out)
    assert len(v4) == 2 and all(
        ipaddress.ip_address(a) in ipaddress.ip_network("192.0.2.0/24") for a in v4
    )
    assert ":443" in out
    v6 = re.search(r"v6 (\S+)", out)
    assert v6 and ipaddress.ip_address(v6[1]) in ipaddress.ip_network("2001:db8::/32")
    mac = re.search(r"mac (\S+)", out)
    assert mac and re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", mac[1])
    assert "00:1D:C0" not in out and "192.168" not in out and "10.0.0.7" not in out


def test_things_that_are_not_secrets_survive() -> None:
    r = Redactor()
    text = (
        "firmware D8.2.4345 at 12:30:45, 127.0.0.1, ::1, mask 255.255.255.0, 3.1415, 1234567890123"
    )
    assert r.redact_text(text) == text


def test_secrets_tokens_cookies_and_emails_are_replaced() -> None:
    r = Redactor(secrets=["s3cret-pw"], serials=["T1234X"])
    text = (
        f"Authorization: Bearer {TOKEN}\nAuthorization: Bearer opaque-token-abc\n"
        "Cookie: sessionId=a1b2c3d4e5; Path=/\nuser me@mail.org password s3cret-pw "
        "battery T1234X"
    )
    out = r.redact_text(text)
    for secret in (TOKEN, "opaque-token-abc", "a1b2c3d4e5", "me@mail.org", "s3cret-pw", "T1234X"):
        assert secret not in out
    assert "sessionId=REDACTED_SESSION_1" in out
    assert "Bearer REDACTED_JWT_1" in out
    assert "user1@example.com" in out


def test_redact_json_keeps_shape_and_cross_references() -> None:
    r = Redactor()
    doc = {
        "serial_num": int(SERIAL),
        "devices": [{"serial_num": SERIAL, "joulesProduced": 123456789012, "ip": "192.168.1.2"}],
        SERIAL: {"password": "whatever", "session_id": "abc", "token": ""},
        "flags": [True, None, 1.5],
    }
    out = r.redact_json(doc)
    fake = r.redact_text(SERIAL)
    assert out["serial_num"] == int(fake)
    assert out["devices"][0]["serial_num"] == fake
    assert out["devices"][0]["joulesProduced"] == 123456789012  # energies are not serials
    assert out["devices"][0]["ip"].startswith("192.0.2.")
    assert set(out) == {"serial_num", "devices", fake, "flags"}
    assert out[fake]["password"].startswith("REDACTED_")
    assert out[fake]["session_id"].startswith("REDACTED_")
    assert out[fake]["token"] == ""
    assert out["flags"] == [True, None, 1.5]
    assert doc["serial_num"] == int(SERIAL)  # the input is left alone


def test_no_secret_survives_in_a_formatted_log_line() -> None:
    r = Redactor(secrets=["s3cret-pw"], serials=[SERIAL])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactingFilter(r))
    logger = logging.getLogger("enphase_local.test_redact")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        logger.debug("login %s with %s", "me@mail.org", "s3cret-pw")
        logger.info("headers %r", {"Authorization": f"Bearer {TOKEN}", "Cookie": "sessionId=zz9"})
        try:
            raise ValueError(f"gateway {SERIAL} at 192.168.1.5 said no")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "DEBUG enphase_local.test_redact login user1@example.com" in text
    assert "ValueError: gateway" in text
    for secret in ("me@mail.org", "s3cret-pw", TOKEN, "zz9", SERIAL, "192.168.1.5"):
        assert secret not in text


def test_values_under_serial_keys_whatever_their_length() -> None:
    r = Redactor()
    doc = {
        "serial_num": "12345678901001",
        "sn": "122503008808EIM1",
        "other_sn": 4567891234,
        "pv_serial_nb": ["AB1234", "CD5678"],
        "note": "meter 122503008808EIM2 of 12345678901001",
    }
    out = r.redact_json(doc)
    assert out["serial_num"] != doc["serial_num"] and len(out["serial_num"]) == 14
    assert out["sn"].endswith("EIM1") and out["sn"][:12].isdigit()
    assert "122503008808" not in out["sn"]
    assert isinstance(out["other_sn"], int) and out["other_sn"] != doc["other_sn"]
    assert [v for v in out["pv_serial_nb"] if v in doc["pv_serial_nb"]] == []
    # learnt serials are found in later text, with the same fakes
    assert out["note"] == f"meter {out['sn'][:12]}EIM2 of {out['serial_num']}"
    assert r.redact_json(out) == out


def test_a_12_digit_serial_glued_to_a_suffix_in_text() -> None:
    out = Redactor().redact_text("eid 122503008808EIM1 and 122503008808")
    assert "122503008808" not in out
    assert re.fullmatch(r"eid (9\d{11})EIM1 and \1", out)


def test_one_mac_in_every_notation_gets_one_fake_in_its_own_notation() -> None:
    """Colon, hyphen, dotted and bare forms of one MAC map to forms of one fake (issue 30)."""
    r = Redactor()
    text = "a 00:1D:C0:7F:B6:3B b 001DC07FB63B c 001d.c07f.b63b d 00-1d-c0-7f-b6-3b"
    out = r.redact_text(text)
    assert "1dc07f" not in out.lower().replace(":", "").replace("-", "").replace(".", "")
    forms = re.findall(r"[abcd] (\S+)", out)
    assert len({re.sub(r"[:.-]", "", f) for f in forms}) == 1  # one fake, four notations
    assert re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", forms[0])
    assert re.fullmatch(r"[0-9a-f]{12}", forms[1])
    assert re.fullmatch(r"[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}", forms[2])
    assert re.fullmatch(r"([0-9a-f]{2}-){5}[0-9a-f]{2}", forms[3])
    assert r.redact_text(out) == out


def test_hex_that_is_not_a_mac_survives() -> None:
    """Only exactly 12 hex digits standing alone: a build hash or a 16-digit id is left alone."""
    r = Redactor()
    text = "build 5c3a00 id 0123456789abcdef flags 0x0000abcdef12"
    assert r.redact_text(text) == text

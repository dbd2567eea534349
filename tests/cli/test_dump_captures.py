"""Every shared capture, replayed by the simulator and dumped: nothing identifying survives.

The identifiers are collected from the capture independently of the
redactor: values under keys naming a serial (any length, string or number),
the ``<sn>`` of /info, runs of 12 or more digits inside strings, MAC and IP
addresses and e-mail addresses anywhere in the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import REAL, needs_real, real_folders

from .conftest import SimThread, enphase

_SERIAL_KEY = re.compile(r"(?i)(serial|^sn$|_sn$|^sn_)")
_MAC = re.compile(r"(?<![\w:])[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}(?![\w:])")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_LONG_DIGITS = re.compile(r"(?<![\dxX])\d{12,16}(?!\d)")  # not hex flags 0x0000...
_KEEP_IP = ("0.", "127.", "255.")


def _walk(obj: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, str(k))
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v, key)
    else:
        yield key, obj


def identifiers(folder: Path) -> set[str]:
    found: set[str] = set()
    for file in folder.iterdir():
        if file.name.endswith("_log.json") or file.name in ("README.md", "_readme"):
            continue
        text = file.read_text(errors="replace")
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if doc is not None:
            for key, value in _walk(doc):
                serial_like = isinstance(value, str | int) and not isinstance(value, bool)
                if _SERIAL_KEY.search(key) and serial_like and len(str(value)) >= 6:
                    found.add(str(value))
                if isinstance(value, str):
                    found.update(_LONG_DIGITS.findall(value))
        found.update(re.findall(r"<sn>(\w+)</sn>", text))
        found.update(m.lower() for m in _MAC.findall(text))
        found.update(ip for ip in _IPV4.findall(text) if not ip.startswith(_KEEP_IP))
        found.update(e for e in _EMAIL.findall(text) if not e.endswith("example.com"))
    return found


def _dumped_text(folder: Path) -> str:
    return "\n".join(f.read_text(errors="replace") for f in sorted(folder.iterdir()))


@needs_real
@pytest.mark.parametrize("name", real_folders())
def test_dump_of_every_capture_leaks_nothing(name: str, tmp_path: Path) -> None:
    source = REAL / name
    secret = identifiers(source)
    assert secret, "the collector found no identifier: it is blind"
    replay = SimThread(folder=source)
    try:
        out = tmp_path / "dump"
        result = enphase("dump", replay.host, str(out), "--token", replay.token(), "--json")
        assert result.exit_code == 0, result.stdout + result.stderr
        text = _dumped_text(out)
        lowered = text.lower()
        leaked = sorted(s for s in secret if s in text or s.lower() in lowered)
        assert not leaked, f"{name}: {leaked}"
        # the dump replays in its turn
        again = SimThread(folder=out)
        try:
            read = enphase("read", again.host, "--token", again.token(), "--json")
            assert read.exit_code == 0, read.stdout + read.stderr
        finally:
            again.close()
    finally:
        replay.close()


def _notations(mac: str) -> list[str]:
    """One MAC written every way a gateway, a router or a person writes it."""
    pairs = mac.lower().split(":")
    digits = "".join(pairs)
    dotted = ".".join(digits[i : i + 4] for i in (0, 4, 8))
    forms = [":".join(pairs), "-".join(pairs), digits, dotted]
    return [*forms, *(f.upper() for f in forms)]


def _folders_with_macs() -> list[str]:
    return [n for n in real_folders() if _MAC.search(_dumped_text(REAL / n))]


@needs_real
@pytest.mark.parametrize("name", _folders_with_macs())
@pytest.mark.parametrize("style", range(8), ids=lambda i: f"notation{i}")
def test_every_mac_notation_in_a_capture_is_redacted(name: str, style: int) -> None:
    """A MAC without separators (`001DC07FB63B`) survived the dump (issue 30): every form goes."""
    from enphase_local.cli.commands.endpoints import redact_body
    from enphase_local.redact import Redactor

    redactor = Redactor()
    for file in sorted((REAL / name).iterdir()):
        if file.name.endswith("_log.json") or file.name == "README.md":
            continue
        text = file.read_text(errors="replace")
        macs = _MAC.findall(text)
        if not macs:
            continue
        for mac in macs:
            text = text.replace(mac, _notations(mac)[style])
        out = redact_body(text.encode(), redactor).decode().lower()
        for mac in macs:
            kept = [form for form in _notations(mac) if form.lower() in out]
            assert not kept, f"{name}/{file.name}: {kept}"


def test_some_captures_carry_macs() -> None:
    """The test above is not vacuous: the capture set holds MACs to write differently."""
    assert not REAL.is_dir() or _folders_with_macs()

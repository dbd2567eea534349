"""Serve a folder of real gateway captures exactly as they were recorded.

Why: real captures are the ground truth of what firmware says, including its
odd status codes and content types. Replaying them through the simulator's
server (which adds the auth of the capture's firmware) lets the client be
tested against every real installation over real sockets.

The folder layout is the one of ``fixtures/real/README.md``: one body file
per endpoint named after the request path (``/``, ``?``, ``=``, ``&`` become
``_``), ``<name>_log.json`` with the recorded status and headers, ``info``
for ``/info``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .contract import HTML, JSON, Reply

__all__ = ["ReplayBackend", "capture_name"]

_SEPARATORS = re.compile(r"[/?=&]")
_SN = re.compile(rb"<sn>\s*([^<\s]+)\s*</sn>")
_SOFTWARE = re.compile(rb"<software>\s*([^<\s]+)\s*</software>")
_KEPT_HEADERS = ("www-authenticate",)


def capture_name(path: str, query: Mapping[str, str] | str = "") -> str:
    """The capture file name of a request.

    ``/production.json?details=1`` -> ``production.json_details_1``.
    """
    if not isinstance(query, str):
        query = "&".join(f"{k}={v}" for k, v in query.items())
    target = path.lstrip("/") + (f"?{query}" if query else "")
    return _SEPARATORS.sub("_", target)


@dataclass(frozen=True, slots=True)
class _Capture:
    status: int
    content_type: str
    body: bytes
    headers: Mapping[str, str]


def _is_stray(name: str) -> bool:
    """``ivp_ss_gen_schedule.json``, ``production.json_details_1.json``: copies, not endpoints.

    Gateway endpoints that end in ``.json`` are single path segments
    (``production.json``, ``inventory.json``); a ``.json`` suffix on a name
    that already encodes a deeper path or a query is a stray duplicate.
    """
    return name.endswith(".json") and "_" in name[: -len(".json")]


def _sniff(body: bytes) -> str:
    head = body.lstrip()[:5]
    if head.startswith((b"{", b"[")):
        return JSON
    if head.startswith(b"<?xml"):
        return "text/xml"
    return HTML


def _load(file: Path) -> _Capture:
    body = file.read_bytes()
    log_file = file.with_name(file.name + "_log.json")
    status, content_type, headers = 200, _sniff(body), {}
    if log_file.is_file():
        log = json.loads(log_file.read_text())
        status = int(log.get("code", 200))
        recorded = {str(k).lower(): str(v) for k, v in dict(log.get("headers", {})).items()}
        content_type = recorded.get("content-type", content_type)
        headers = {k: recorded[k] for k in _KEPT_HEADERS if k in recorded}
    return _Capture(status, content_type, body, headers)


class ReplayBackend:
    """A `Backend` answering from one capture folder; `serial` renames the gateway (fleets)."""

    def __init__(self, folder: str | Path, *, serial: str | None = None) -> None:
        self.folder = Path(folder)
        info_file = self.folder / "info"
        if not info_file.is_file():
            raise FileNotFoundError(f"{self.folder} has no 'info' capture: not a capture folder")
        self._captures: dict[str, _Capture] = {}
        for file in sorted(self.folder.iterdir()):
            name = file.name
            if not file.is_file() or name.endswith("_log.json") or name.startswith("_"):
                continue
            if _is_stray(name):
                continue
            self._captures[name] = _load(file)
        info = self._captures["info"]
        sn = _SN.search(info.body)
        software = _SOFTWARE.search(info.body)
        if sn is None or software is None:
            raise ValueError(f"{info_file} lacks <sn> or <software>")
        self._firmware = software.group(1).decode()
        self._serial = sn.group(1).decode()
        if serial is not None and serial != self._serial:
            body = info.body.replace(sn.group(0), b"<sn>" + serial.encode() + b"</sn>", 1)
            self._captures["info"] = _Capture(info.status, info.content_type, body, info.headers)
            self._serial = serial
        self.timezone = "UTC"
        self.reboots = 0

    @property
    def serial(self) -> str:
        return self._serial

    @property
    def firmware(self) -> str:
        return self._firmware

    @property
    def names(self) -> tuple[str, ...]:
        """Capture names this folder answers (for tests and listings)."""
        return tuple(self._captures)

    def reboot(self, duration_s: float) -> None:
        """Recorded answers cannot change; only count the reboot."""
        self.reboots += 1

    def upgrade(self, firmware: str) -> None:
        """Come back from a reboot on `firmware`: /info says so; the other answers stay."""
        info = self._captures["info"]
        found = _SOFTWARE.search(info.body)
        if found is not None:
            tag = b"<software>" + firmware.encode() + b"</software>"
            body = info.body.replace(found.group(0), tag, 1)
            self._captures["info"] = _Capture(info.status, info.content_type, body, info.headers)
        self._firmware = firmware

    def lookup(self, name: str) -> Reply | None:
        capture = self._captures.get(name)
        if capture is None:
            return None
        return Reply(capture.status, capture.body, capture.content_type, capture.headers)

    def handle(self, method: str, path: str, query: Mapping[str, str], body: bytes) -> Reply | None:
        if method != "GET":
            return None
        if path == "/info.xml":
            path = "/info"
        name = capture_name(path, query)
        reply = self.lookup(name)
        if reply is None and name == "production.json_details_1":
            reply = self.lookup("production.json")
        return reply

"""Replay of every real capture folder over real sockets, byte for byte, behind the right auth."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from enphase_local.firmware import Firmware
from enphase_local.simulator import ReplayBackend, SimClock, SimulatedGateway
from enphase_local.simulator.replay import capture_name
from tests.support import REAL, needs_real, real_folders

# Path segments that contain an underscore themselves (so `_` is not a `/` there).
_WORDS = (
    "dry_contact_settings",
    "dry_contacts",
    "gen_config",
    "gen_mode",
    "gen_schedule",
    "pel_settings",
    "device_data",
)


def request_for(name: str) -> str:
    """The request path (and query) a capture file name was recorded from."""
    text = name
    for query in ("details_1", "deleted_1"):
        if text.endswith(".json_" + query):
            key, value = query.split("_")
            return "/" + request_for(text[: -len(query) - 1]).lstrip("/") + f"?{key}={value}"
    marks = {word: f"\0{i}\0" for i, word in enumerate(_WORDS)}
    for word, mark in marks.items():
        text = text.replace(word, mark)
    text = text.replace("_", "/")
    for word, mark in marks.items():
        text = text.replace(mark, word)
    return "/" + text


def expected(folder: Path, name: str) -> tuple[int, bytes, str | None]:
    body = (folder / name).read_bytes()
    log = folder / f"{name}_log.json"
    if not log.is_file():
        return 200, body, None
    recorded = json.loads(log.read_text())
    headers = {k.lower(): v for k, v in recorded.get("headers", {}).items()}
    return int(recorded["code"]), body, headers.get("content-type")


def body_files(folder: Path) -> list[str]:
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.endswith("_log.json")
        and not p.name.startswith("_")
        and not (p.name.endswith(".json") and "_" in p.name[:-5])
    )


def test_capture_names() -> None:
    assert capture_name("/production.json", {"details": "1"}) == "production.json_details_1"
    assert capture_name("/inventory.json", "deleted=1") == "inventory.json_deleted_1"
    assert capture_name("/api/v1/production/inverters") == "api_v1_production_inverters"
    assert capture_name("/ivp/ss/dry_contact_settings") == "ivp_ss_dry_contact_settings"
    for name in (
        "production.json_details_1",
        "ivp_ss_dry_contact_settings",
        "ivp_meters_gridReading",
    ):
        path, _, query = request_for(name).partition("?")
        assert capture_name(path, query) == name
    assert request_for("ivp_ss_dry_contact_settings") == "/ivp/ss/dry_contact_settings"


def _mini_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mini"
    folder.mkdir()
    (folder / "info").write_bytes(
        b"<?xml version='1.0'?><envoy_info><device><sn>123456789012</sn>"
        b"<software>D8.2.4345</software></device></envoy_info>"
    )
    (folder / "production.json").write_bytes(b'{"production": []}')
    (folder / "ivp_ss_gen_schedule").write_bytes(b'{"a": 1}')
    (folder / "ivp_ss_gen_schedule.json").write_bytes(b'{"stray": 1}')
    (folder / "ivp_meters").write_bytes(b"Error: 401")
    (folder / "ivp_meters_log.json").write_text(
        '{"code": 401, "headers": {"Content-Type": "text/html", "Content-Length": "10"}}'
    )
    (folder / "_readme").write_text("notes")
    return folder


def test_replay_backend_rules(tmp_path: Path) -> None:
    backend = ReplayBackend(_mini_folder(tmp_path))
    assert (backend.serial, backend.firmware) == ("123456789012", "D8.2.4345")
    assert set(backend.names) == {"info", "production.json", "ivp_ss_gen_schedule", "ivp_meters"}
    details = backend.handle("GET", "/production.json", {"details": "1"}, b"")
    assert details is not None and details.body == b'{"production": []}'
    assert details.content_type == "application/json"
    refused = backend.handle("GET", "/ivp/meters", {}, b"")
    assert refused is not None and (refused.status, refused.content_type) == (401, "text/html")
    assert backend.handle("GET", "/ivp/ss/gen_schedule.json", {}, b"") is None
    assert backend.handle("GET", "/ivp/nothing", {}, b"") is None
    assert backend.handle("POST", "/production.json", {}, b"{}") is None
    info_xml = backend.handle("GET", "/info.xml", {}, b"")
    assert info_xml is not None and info_xml.content_type == "text/xml"


def test_replay_serial_override(tmp_path: Path) -> None:
    backend = ReplayBackend(_mini_folder(tmp_path), serial="999999000001")
    assert backend.serial == "999999000001"
    info = backend.handle("GET", "/info", {}, b"")
    assert info is not None and b"<sn>999999000001</sn>" in info.body


def test_not_a_capture_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ReplayBackend(tmp_path)
    (tmp_path / "info").write_bytes(b"<envoy_info></envoy_info>")
    with pytest.raises(ValueError, match="lacks"):
        ReplayBackend(tmp_path)


@needs_real
@pytest.mark.parametrize("folder_name", real_folders())
async def test_every_real_folder_replays(folder_name: str) -> None:
    folder = REAL / folder_name
    backend = ReplayBackend(folder)
    firmware = Firmware.parse(backend.firmware)
    names = body_files(folder)
    assert "info" in names
    async with SimulatedGateway(backend, clock=SimClock(1_700_000_000, speed=0)) as gw:
        if firmware.uses_tokens:
            session = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {gw.installer_token()}"}
            )
            base = gw.https_url
        else:
            middleware = aiohttp.DigestAuthMiddleware("installer", gw.installer_password)
            session = aiohttp.ClientSession(middlewares=(middleware,))
            base = gw.http_url
        requests = [(name, request_for(name)) for name in names]
        if "production.json" in names and "production.json_details_1" not in names:
            requests.append(("production.json", "/production.json?details=1"))
        async with session:
            for name, path in requests:
                status, body, content_type = expected(folder, name)
                async with session.get(base + path, ssl=False) as resp:
                    got = await resp.read()
                    assert resp.status == status, (name, path)
                    assert got == body, (name, path)
                    if content_type is not None:
                        assert resp.headers["Content-Type"] == content_type, name
            async with session.get(base + "/definitely/not/captured", ssl=False) as resp:
                assert resp.status == 404
    assert gw.log.count() >= len(names)

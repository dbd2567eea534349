"""`dump` captures a gateway into the real-captures layout, anonymised, and it replays."""

from __future__ import annotations

import json
import re
from pathlib import Path

from enphase_local.simulator import LatencyProfile, ReplayBackend

from .conftest import SimThread, enphase
from .contract import check_snapshot

_MAC = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}")
_IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")


def _all_text(folder: Path) -> str:
    return "\n".join(f.read_text(errors="replace") for f in sorted(folder.iterdir()))


def test_dump_replays_without_secrets(battery: SimThread, tmp_path: Path) -> None:
    token = battery.token()
    source = json.loads(enphase("read", battery.host, "--token", token, "--json").stdout)
    folder = tmp_path / "capture"
    result = enphase("dump", battery.host, str(folder), "--token", token)
    assert result.exit_code == 0, result.stderr
    assert "saved" in result.stdout

    # the layout of fixtures/real/README.md
    names = {f.name for f in folder.iterdir()}
    for name in (
        "info",
        "production.json_details_1",
        "ivp_meters_readings",
        "ivp_ensemble_inventory",
        "ivp_pdm_device_data",
        "home",
    ):
        assert name in names, name
        log = json.loads((folder / f"{name}_log.json").read_text())
        assert log["code"] == 200 and "headers" in log

    # nothing identifying of the source survives
    text = _all_text(folder)
    identifiers = {source["gateway"]["serial"], *source["inverters"], *source["battery"]["units"]}
    identifiers.add(source["enpower"]["serial"])
    for identifier in identifiers:
        assert identifier not in text, identifier
    assert token not in text and "eyJ" not in text
    assert not re.search(r"(?<!\d)(?!9)\d{12}(?!\d)", text), "a 12-digit serial survived"
    raw_home = enphase("raw", battery.host, "/home", "--token", token).stdout
    for mac in {m.group(0) for m in _MAC.finditer(raw_home)}:
        assert mac not in text
    for ip in set(_IP.findall(raw_home)) - {"0.0.0.0", "127.0.0.1", "255.255.255.0"}:
        assert ip not in text, ip

    # and it replays through the simulator
    backend = ReplayBackend(folder)
    assert backend.serial != source["gateway"]["serial"] and len(backend.serial) == 12
    replay = SimThread(folder=folder)
    try:
        result = enphase("read", replay.host, "--token", replay.token(), "--json")
        assert result.exit_code == 0, result.stderr
        doc = json.loads(result.stdout)
        check_snapshot(doc)
        assert doc["gateway"]["serial"] == backend.serial
        assert doc["production"]["watts"] == source["production"]["watts"]
        assert len(doc["inverters"]) == len(source["inverters"])
        assert set(doc["inverters"]).isdisjoint(source["inverters"])
        assert len(doc["battery"]["units"]) == 3
    finally:
        replay.close()


def test_dump_refuses_a_full_folder(battery: SimThread, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = enphase("dump", battery.host, str(tmp_path), "--token", battery.token())
    assert result.exit_code == 2 and "not empty" in result.stderr


def test_dump_legacy_digest(legacy: SimThread, tmp_path: Path) -> None:
    result = enphase("dump", legacy.host, str(tmp_path / "legacy"), "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["endpoints"]["/info"] == 200
    assert legacy.gw.serial not in _all_text(tmp_path / "legacy")
    assert legacy.gw.owner_password not in _all_text(tmp_path / "legacy")


def test_dump_with_username_envoy_replays(legacy: SimThread, tmp_path: Path) -> None:
    """Issue 18 item 2: `-u envoy` is a credential, not text to redact in every body."""
    folder = tmp_path / "legacy-u"
    result = enphase("dump", legacy.host, str(folder), "-u", "envoy")
    assert result.exit_code == 0, result.stderr
    assert "<envoy_info>" in (folder / "info").read_text()
    assert "REDACTED_SECRET" not in _all_text(folder)
    replay = SimThread(folder=folder)
    try:
        read = enphase("read", replay.host, "-u", "envoy", "--json")
        assert read.exit_code == 0, read.stdout + read.stderr
        check_snapshot(json.loads(read.stdout))
    finally:
        replay.close()


def test_dump_gives_home_the_slow_timeout(fresh_battery: SimThread, tmp_path: Path) -> None:
    """Issue 18 item 6: /home is slow on real gateways; dump waits for it as `read` does."""
    slow = LatencyProfile("slow-home", ((r"^/home", 0.6, 0.6),))
    fresh_battery.call(lambda: setattr(fresh_battery.gw.faults, "latency", slow))
    result = enphase(
        "dump", fresh_battery.host, str(tmp_path / "d"), "--token", fresh_battery.token(),
        "--timeout", "0.3", "--retries", "0", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["endpoints"]["/home"] == 200

"""`read`, `watch`, `info` and the focused commands against simulated gateways."""

from __future__ import annotations

import json

import pytest

from enphase_local.cli.render.format import fmt_watts, fmt_wh
from tests.support import REAL, needs_real

from .conftest import SimThread, enphase
from .contract import check_snapshot


def _creds(sim: SimThread) -> list[str]:
    """A token for token firmware; digest firmware needs nothing (default password)."""
    return ["--token", sim.token()] if sim.host.startswith("https") else []


@pytest.fixture(params=["battery", "three_phase", "legacy"])
def sim(request: pytest.FixtureRequest) -> SimThread:
    return request.getfixturevalue(request.param)


def test_read_json_is_the_contract(sim: SimThread) -> None:
    result = enphase("read", sim.host, *_creds(sim), "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)  # only JSON on stdout
    check_snapshot(doc)
    assert doc["gateway"]["serial"] == sim.gw.serial
    assert doc["production"]["watts"] > 0
    assert doc["gateway"]["auth"] == ("token" if sim.host.startswith("https") else "digest")


def _row(out: str, label: str) -> list[str]:
    """The cells of the Energy table's row `label` (cells are two or more spaces apart)."""
    for line in out.splitlines():
        cells = [c for c in line.strip().split("  ") if c.strip()]
        if cells and cells[0].strip() in (label, f"{label} (derived)"):
            return [c.strip() for c in cells]
    raise AssertionError(f"no {label!r} row in:\n{out}")


def test_read_tables(sim: SimThread) -> None:
    """The Energy table shows the simulator's own numbers (its clock is frozen)."""
    result = enphase("read", sim.host, *_creds(sim))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert f"Gateway {sim.gw.serial}" in out
    assert "Solar" in out and "Freshness" in out and "Inverters" in out
    state = sim.call(sim.gw.backend.state)  # type: ignore[attr-defined]
    solar = _row(out, "Solar")
    if sim.gw.backend.config.metered:  # type: ignore[attr-defined]
        # CT sites: the power and today's energy the site model measures now
        assert solar[1:3] == [fmt_watts(state["pv_w"]), fmt_wh(state["today_wh"]["prod"])]
        assert _row(out, "House")[1] == fmt_watts(state["load_w"])
        assert _row(out, "Grid (net)")[1] == fmt_watts(state["grid_w"], signed=True)
    else:  # the v1 production page, as the simulated gateway serves it
        reply = sim.call(lambda: sim.gw.backend.handle("GET", "/api/v1/production", {}, b""))
        v1 = json.loads(reply.body)  # type: ignore[attr-defined]
        assert solar[1:3] == [fmt_watts(v1["wattsNow"]), fmt_wh(v1["wattHoursToday"])]


def test_read_battery_sections(battery: SimThread) -> None:
    out = enphase("read", battery.host, "--token", battery.token()).stdout
    for title in (
        "Phases",
        "Meters",
        "Inverters (35",
        "Battery units",
        "Controllers",
        "Dry contacts",
        "Storage settings",
        "Grid (net)",
    ):
        assert title in out, title


def test_host_and_token_from_environment(
    battery: SimThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENPHASE_HOST", battery.host)
    monkeypatch.setenv("ENPHASE_TOKEN", battery.token())
    result = enphase("read", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["gateway"]["role"] == "owner"


def test_watch_json_lines(three_phase: SimThread) -> None:
    result = enphase(
        "watch",
        three_phase.host,
        "--token",
        three_phase.token(),
        "--json",
        "--count",
        "2",
        "--interval",
        "0.5",
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        check_snapshot(json.loads(line))


def test_watch_not_on_a_terminal_prints_lines(battery: SimThread) -> None:
    result = enphase("watch", battery.host, "--token", battery.token(), "--count", "2")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for word in ("solar", "house", "grid", "battery"):
        assert word in lines[0], word


def test_watch_follows_live_power_by_default(battery: SimThread) -> None:
    """Without --interval, `watch --json` prints live frames (schema live/1) that balance."""
    result = enphase("watch", battery.host, "--token", battery.token(), "--json", "--count", "3")
    assert result.exit_code == 0, result.stderr
    frames = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(frames) == 3
    for frame in frames:
        assert frame["schema"] == "live/1"
        assert frame["source"] in ("livedata", "stream_meter", "meters_readings")
        assert frame["age_s"] >= 0 and frame["stale"] is False
        supply = frame["solar_watts"] + frame["grid_watts"] + frame["battery_watts"]
        supply += frame.get("generator_watts") or 0.0
        assert abs(supply - frame["house_watts"]) < 5.0, frame  # the tiles add up


def test_watch_live_lines_on_a_pipe_show_source_and_age(battery: SimThread) -> None:
    result = enphase("watch", battery.host, "--token", battery.token(), "--count", "2")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(" s old" in line for line in lines), lines


def test_info_without_credentials_shows_identity_only(battery: SimThread) -> None:
    result = enphase("info", battery.host, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["gateway"]["serial"] == battery.gw.serial
    assert doc["gateway"]["firmware"] == battery.gw.firmware
    assert doc["auth"] == "token" and doc["capabilities"] is None
    table = enphase("info", battery.host).stdout
    assert "Capabilities need credentials" in table and battery.gw.firmware in table


def test_info_with_credentials_lists_capabilities(battery: SimThread, legacy: SimThread) -> None:
    doc = json.loads(enphase("info", battery.host, "--token", battery.token(), "--json").stdout)
    assert doc["role"] == "owner"
    assert {"production", "encharge", "enpower", "dry_contacts"} <= set(doc["capabilities"])
    assert doc["sources"]["production_json"] == "ok"
    out = enphase("info", legacy.host).stdout  # digest: the default password is enough
    assert "digest (owner)" in out and "Capabilities" in out


@pytest.mark.parametrize("sort", ["watts", "serial", "last-report", "temperature"])
def test_inverters_sorted(battery: SimThread, sort: str) -> None:
    result = enphase(
        "inverters", battery.host, "--token", battery.token(), "--sort", sort, "--json"
    )
    assert result.exit_code == 0, result.stderr
    inverters = json.loads(result.stdout)["inverters"]
    assert len(inverters) == 35
    key = {"watts": "watts", "last-report": "last_report", "temperature": "temperature_c"}
    if sort == "serial":
        assert list(inverters) == sorted(inverters)
    else:
        values = [inv[key[sort]] for inv in inverters.values()]
        assert values == sorted(values, reverse=True)
    table = enphase("inverters", battery.host, "--token", battery.token(), "--sort", sort).stdout
    assert "Inverters (35" in table


def test_meters(three_phase: SimThread) -> None:
    result = enphase("meters", three_phase.host, "--token", three_phase.token(), "--json")
    doc = json.loads(result.stdout)
    assert "production" in doc["meters"] and set(doc["phases"]) == {"L1", "L2", "L3"}
    table = enphase("meters", three_phase.host, "--token", three_phase.token()).stdout
    assert "net-consumption" in table and "L3" in table


def test_battery(battery: SimThread) -> None:
    doc = json.loads(enphase("battery", battery.host, "--token", battery.token(), "--json").stdout)
    assert len(doc["battery"]["units"]) == 3 and doc["enpower"] is not None
    assert doc["tariff"]["storage_mode"] in ("backup", "self-consumption", "economy")
    table = enphase("battery", battery.host, "--token", battery.token()).stdout
    assert "Battery units" in table and "Enpower" in table and "Storage settings" in table


def test_battery_absent_is_feature_unavailable(three_phase: SimThread) -> None:
    result = enphase("battery", three_phase.host, "--token", three_phase.token(), "--json")
    assert result.exit_code == 6
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "unavailable" and "no batteries" in error["message"]
    plain = enphase("battery", three_phase.host, "--token", three_phase.token())
    assert plain.exit_code == 6 and plain.stdout == ""
    assert "no batteries" in plain.stderr


def test_raw_pretty_prints_json(battery: SimThread) -> None:
    result = enphase("raw", battery.host, "/ivp/meters", "--token", battery.token())
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["eid"]
    assert result.stdout.startswith("[\n  {")
    assert "HTTP 200 /ivp/meters" in result.stderr


def test_raw_missing_path_exits_5(battery: SimThread, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENPHASE_HOST", battery.host)
    monkeypatch.setenv("ENPHASE_TOKEN", battery.token())
    result = enphase("raw", "ivp/nothing/here")
    assert result.exit_code == 5
    assert "HTTP 404 /ivp/nothing/here" in result.stderr


def test_watch_into_a_pipe_writes_a_flushed_line_per_update(battery: SimThread) -> None:
    """Issue 18 item 11: `watch H > file` shows each update at once, as plain text."""
    import subprocess
    import sys

    script = "import sys; from enphase_local.cli.app import main; sys.exit(main())"
    child = subprocess.Popen(
        [sys.executable, "-c", script, "watch", battery.host, "--token", battery.token(),
         "--interval", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        first = child.stdout.readline()  # would block until exit without the flush
        second = child.stdout.readline()
    finally:
        child.terminate()
        child.wait(10)
    for line in (first, second):
        assert "solar " in line and "house " in line and "battery " in line, line
        assert "\x1b[" not in line and "╭" not in line


@needs_real
def test_battery_shows_a_controller_site_without_batteries() -> None:
    """Issue 18 item 7: an Enpower, a generator and dry contacts, no batteries: exit 0."""
    replay = SimThread(folder=REAL / "8.3.5169_with_generator")
    try:
        result = enphase("battery", replay.host, "--token", replay.token())
        assert result.exit_code == 0, result.stderr
        for title in ("Controllers", "Generator", "Dry contacts"):
            assert title in result.stdout, title
        doc = json.loads(
            enphase("battery", replay.host, "--token", replay.token(), "--json").stdout
        )
        assert doc["battery"] is None and doc["enpower"] and doc["generator"]
    finally:
        replay.close()


def test_info_on_a_healthy_legacy_gateway_shows_no_failure(legacy: SimThread) -> None:
    """Polish: 3.9's HTML /production is not a failure when /api/v1/production answers."""
    result = enphase("info", legacy.host)
    assert result.exit_code == 0, result.stderr
    assert "failed" not in result.stdout
    assert "not needed (production_v1 answers)" in result.stdout

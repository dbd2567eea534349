"""`enphase collect --demo` as a process (SIGTERM flushes), `enphase history`, the config file."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from enphase_local.cli.app import cli
from enphase_local.service.config import ConfigError, load_config
from tests.service.helpers import collecting, run_for

_ENV = {k: v for k, v in os.environ.items() if not k.startswith("ENPHASE_")}
DAY = 86_400.0


def test_demo_collects_hours_in_seconds_and_stops_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-W",
            "always::ResourceWarning",  # an unclosed session or socket would say so on stderr
            "-c",
            "import sys; from enphase_local.cli.app import main; sys.exit(main())",
            "collect",
            "--demo",
            "--db",
            str(db),
            "--port",
            "0",
            "--demo-speed",
            "3600",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=_ENV,
    )
    try:
        assert proc.stderr is not None
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            match = re.search(r"dashboard: (http://127\.0\.0\.1:\d+/)", line)
            url = match.group(1) if match else None
        assert url, "the collector never announced its dashboard"
        health = _follow_events(url, db, deadline + 30)
        assert health.get("status") == "ok", health
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped, history flushed" in err
    assert "Unclosed" not in err and "ResourceWarning" not in err, err
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        first, last, n = conn.execute(
            "SELECT MIN(at), MAX(at), COUNT(*) FROM power_samples"
        ).fetchone()
        assert last - first > 2 * 3600 and n >= 20  # hours of history in seconds
        kinds = {k for (k,) in conn.execute("SELECT kind FROM events")}
        assert "connected" in kinds


def _follow_events(url: str, db: Path, deadline: float) -> dict[str, object]:
    """Follow the dashboard's event stream until the gateway is connected and hours of
    history are on disk; the collector's health as it was once connected.

    Each step waits on the collector's next pushed event (about one a second), never
    on a sleep of our own: a loaded machine runs the demo slower, and is waited for.
    """
    health: dict[str, object] = {}
    with urllib.request.urlopen(url + "events", timeout=30) as stream:
        for raw in stream:
            if time.monotonic() > deadline:
                raise AssertionError(f"not enough history in time: {_history_span(db)}")
            if not raw.startswith(b"data: "):
                continue
            gateways = json.loads(raw[len(b"data: ") :])["gateways"]
            if not health and any(g["state"] == "connected" for g in gateways):
                with urllib.request.urlopen(url + "healthz", timeout=30) as resp:
                    health = json.load(resp)
            if health and _enough_history(db):
                return health
    raise AssertionError("the event stream ended before enough history was kept")


def _enough_history(db: Path) -> bool:
    span, n = _history_span(db)
    return span > 3 * 3600 and n > 100


def _history_span(db: Path) -> tuple[float, int]:
    """Seconds of power history and samples in `db` so far ((0, 0) before the table exists)."""
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            first, last, n = conn.execute(
                "SELECT MIN(at), MAX(at), COUNT(*) FROM power_samples"
            ).fetchone()
    except sqlite3.Error:
        return (0.0, 0)
    return ((last - first) if n else 0.0, n)


async def test_history_command_table_csv_json(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    async with collecting(db, "metered-3phase") as (collector, sink, _gw, clock):
        await run_for(collector, clock, DAY, 600)
        await sink.flush()
    runner = CliRunner()
    span = ["--db", str(db), "--from", "2026-06-14", "--to", "2026-06-15", "--utc"]
    as_json = runner.invoke(cli, ["history", *span, "--every", "1d", "--json"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.output)
    flows = {r["flow"]: r["wh"] for r in rows}
    # the six flows (issue 23): this site has no battery and no generator
    assert set(flows) == {"solar", "house", "grid_import", "grid_export"}
    assert flows["solar"] > 1000
    hourly = runner.invoke(cli, ["history", *span, "--every", "1h", "--csv"])
    table = list(csv.DictReader(io.StringIO(hourly.output)))
    assert sum(float(r["wh"]) for r in table if r["flow"] == "solar") == pytest.approx(
        flows["solar"]
    )
    power = runner.invoke(cli, ["history", *span, "--what", "power", "--every", "1h", "--json"])
    assert {r["flow"] for r in json.loads(power.output)} >= {"solar", "house", "grid"}
    inv = runner.invoke(cli, ["history", *span, "--what", "inverters", "--json"])
    assert {r["inverter"] for r in json.loads(inv.output)}
    shown = runner.invoke(cli, ["history", *span])
    assert shown.exit_code == 0 and "solar" in shown.output


def test_history_without_a_file_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["history", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2 and "run `enphase collect` first" in result.output


def test_collect_without_a_gateway_is_a_usage_error() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from enphase_local.cli.app import main; sys.exit(main())",
            "collect",
        ],
        capture_output=True,
        text=True,
        env=_ENV,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and "ENPHASE_HOST" in result.stderr


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "sites.toml"
    path.write_text(
        "[collect]\ninterval = 30\nport = 9000\n\n"
        '[[gateway]]\nname = "home"\nhost = "192.168.1.50"\ntoken = "secret-token"\n\n'
        '[[gateway]]\nhost = "192.168.1.51"\n'
    )
    config = load_config(path)
    assert [g.name for g in config.gateways] == ["home", "192.168.1.51"]
    assert config.interval_s == 30 and config.port == 9000 and not config.lan
    assert "secret-token" not in repr(config)
    path.write_text('[[gateway]]\nhost = "h"\ntoken = 5\n')
    with pytest.raises(ConfigError, match="token must be non-empty text, got \\*\\*\\*"):
        load_config(path)
    path.write_text('[collect]\nintervall = 3\n[[gateway]]\nhost = "h"\n')
    with pytest.raises(ConfigError, match=r"unknown key.*intervall"):
        load_config(path)
    path.write_text("[collect]\n")
    with pytest.raises(ConfigError, match="at least one"):
        load_config(path)


def _collect_process(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from enphase_local.cli.app import main; sys.exit(main())",
            "collect",
            *args,
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _enphase(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`enphase ARGS` run to its end (at most a minute), stdout and stderr captured."""
    return subprocess.run(
        [sys.executable, "-m", "enphase_local.cli.app", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def _dashboard(proc: subprocess.Popen[str]) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        match = re.search(r"dashboard: (http://127\.0\.0\.1:(\d+)/)", line)
        if match:
            return match.group(1)
        if not line and proc.poll() is not None:
            break
    raise AssertionError("the collector never announced its dashboard")


def test_demo_then_history_without_flags(tmp_path: Path) -> None:
    """`enphase collect --demo`, Ctrl-C, then `enphase history`: the demo's history shows."""
    env = {**_ENV, "XDG_DATA_HOME": str(tmp_path), "HOME": str(tmp_path)}
    proc = _collect_process("--demo", "--port", "0", "--demo-speed", "3600", env=env)
    try:
        _dashboard(proc)
        db = tmp_path / "enphase-local" / "demo-history.db"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _history_span(db)[1] < 20:
            time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    shown = _enphase(["history", "--what", "power", "--json"], env)
    assert shown.returncode == 0, shown.stderr
    assert "demo" in shown.stderr and json.loads(shown.stdout), shown.stdout


_COLLECT = ["collect", "--demo"]


def test_a_second_collector_on_one_history_and_a_busy_port_are_usage_errors(
    tmp_path: Path,
) -> None:
    db = tmp_path / "h.db"
    env = {**_ENV, "XDG_DATA_HOME": str(tmp_path), "HOME": str(tmp_path)}
    first = _collect_process("--demo", "--db", str(db), "--port", "0", env=env)
    try:
        port = re.search(r":(\d+)/", _dashboard(first))
        assert port is not None
        second = _enphase([*_COLLECT, "--db", str(db), "--port", "0"], env)
        assert second.returncode == 2, second.stderr
        assert "already written by another `enphase collect`" in second.stderr
        assert f"pid {first.pid}" in second.stderr and "Traceback" not in second.stderr
        busy = _enphase(
            [*_COLLECT, "--db", str(tmp_path / "other.db"), "--port", port.group(1)], env
        )
        assert busy.returncode == 2, busy.stderr
        assert "choose another --port" in busy.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=20)


def test_lan_needs_a_token_and_secrets_on_the_command_line_are_warned_about(
    tmp_path: Path,
) -> None:
    env = {**_ENV, "XDG_DATA_HOME": str(tmp_path), "HOME": str(tmp_path)}
    refused = _enphase([*_COLLECT, "--db", str(tmp_path / "a.db"), "--port", "0", "--lan"], env)
    assert refused.returncode == 2 and "--lan-token-file" in refused.stderr, refused.stderr
    token_file = tmp_path / "lan-token"
    token_file.write_text("a-long-enough-lan-token-0123\n")
    proc = _collect_process(
        "--demo",
        "--db",
        str(tmp_path / "b.db"),
        "--port",
        "0",
        "--lan",
        "--lan-token-file",
        str(token_file),
        env=env,
    )
    try:
        assert proc.stderr is not None
        lines: list[str] = []
        while not any("LAN token" in line for line in lines) and len(lines) < 10:
            lines.append(proc.stderr.readline())
        port = next(m.group(1) for line in lines if (m := re.search(r":(\d+)/ ", line)))
        assert any("other machines must send the LAN token" in line for line in lines), lines
        base = f"http://127.0.0.1:{port}/"
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(base + "metrics", timeout=5)
        assert denied.value.code == 401
        asked = urllib.request.Request(
            base + "metrics", headers={"Authorization": "Bearer a-long-enough-lan-token-0123"}
        )
        with urllib.request.urlopen(asked, timeout=5) as resp:
            assert resp.status == 200 and b"enphase_up" in resp.read()
        # a browser opens /?token=... once: a cookie, and the token leaves the address bar
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(base + "?token=a-long-enough-lan-token-0123", timeout=5) as resp:
            assert resp.status == 200 and resp.url == base
        with opener.open(base + "api/gateways", timeout=5) as resp:
            assert resp.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert "a-long-enough-lan-token-0123" not in err
    secret = ["--token", "secret-on-the-command-line"]
    bad_db = ["--db", str(token_file / "h.db")]  # a file as its folder: the run ends at once
    warned = _enphase(["collect", "127.0.0.1:9", *secret, "--port", "0", *bad_db], env)
    assert "--token on the command line is visible" in warned.stderr, warned.stderr
    assert warned.returncode == 2 and "cannot create the folder" in warned.stderr
    assert "secret-on-the-command-line" not in warned.stderr


def test_collect_without_the_service_extra_says_what_to_install(tmp_path: Path) -> None:
    hide = "import sys; sys.modules['prometheus_client'] = None; "
    code = hide + "from enphase_local.cli.app import main; sys.exit(main())"
    args = ["collect", "--demo", "--db", str(tmp_path / "h.db"), "--port", "0"]
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=_ENV,
        timeout=60,
        check=False,
    )
    assert result.returncode == 6, result.stderr
    assert "pip install 'enphase-local[service]'" in result.stderr
    assert "Traceback" not in result.stderr

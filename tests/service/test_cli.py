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
        health: dict[str, object] = {}
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "healthz", timeout=5) as resp:
                    health = json.load(resp)
                    break
            except OSError:
                time.sleep(0.2)
        assert health.get("status") == "ok", health
        # Wait for hours of simulated history (polled: a loaded machine runs the demo slower).
        while time.monotonic() < deadline + 30 and not _enough_history(db):
            time.sleep(0.5)
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
    assert result.exit_code == 1 and "run `enphase collect` first" in result.output


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

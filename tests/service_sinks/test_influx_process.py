"""The real `enphase collect` process writing to a real InfluxDB, which restarts mid-run.

The config is docs/influxdb.md's (``[sinks.influx]`` with the database in
``url``, here with ``live_interval_s = 0`` to compare every power point), the
gateway a simulated one on 127.0.0.1 in real time, the server an ``influxd``
of the test's own. Every energy counter read the SQLite history kept is in
InfluxDB with the same value, including those read while InfluxDB was down;
and ``--influx URL`` alone writes too.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .influx_server import InfluxServer
from .test_collect_process import collect, live_gateway, process_env


async def until(check: Callable[[], Any], within: float) -> Any:
    """Wait for `check()` to be true (polled; `within` bounds a broken run, not the pace)."""
    deadline = time.monotonic() + within
    while not (result := check()):
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not come true")
        await asyncio.sleep(0.1)
    return result


def points(server: InfluxServer, db: str, query: str) -> list[dict[str, Any]]:
    try:
        return server.query(db, query)
    except (OSError, RuntimeError):  # down, or the database not made yet
        return []


async def test_collect_writes_influx_and_loses_nothing_across_its_restart(
    tmp_path: Path, influx_server: InfluxServer
) -> None:
    async with live_gateway("battery-backup") as gw:
        serial = gw.serial
        history = tmp_path / "h.db"
        config = tmp_path / "collect.toml"
        config.write_text(
            f'[collect]\ninterval = 1\nport = 0\ndb = "{history}"\n\n'
            f'[[gateway]]\nname = "house"\nhost = "{gw.https_host}"\n'
            f'token = "{gw.owner_token()}"\ntoken_store = "{tmp_path / "tokens.json"}"\n\n'
            f'[sinks.influx]\nurl = "{influx_server.url}/?db=e2e"\n'
            "live_interval_s = 0\nflush_interval_s = 0.5\n"
        )
        config.chmod(0o600)
        energy = "SELECT solar_lifetime_wh FROM enphase_energy WHERE phase = 'total'"
        run = collect(["--config", str(config)], process_env(tmp_path), tmp_path)
        async with run as (proc, _url, lines):
            await until(lambda: len(points(influx_server, "e2e", energy)) >= 2, 60)
            influx_server.stop()
            down_at = time.time()
            await until(lambda: any("InfluxDB at" in line for line in lines), 60)
            await asyncio.sleep(3)  # snapshots go on being read while the server is away
            influx_server.start()
            await until(lambda: any("writing again" in line for line in lines), 60)
            up_at = time.time()
        text = "".join(lines)
        assert proc.returncode == 0 and "Traceback" not in text, text
    db = sqlite3.connect(history)
    kept = db.execute(
        "SELECT at, wh_lifetime FROM energy_counters WHERE serial = ? AND flow = 'production' "
        "AND phase = '' ORDER BY at",
        (serial,),
    ).fetchall()
    written = {
        r["time"]: r["solar_lifetime_wh"]
        for r in influx_server.query("e2e", energy + f" AND serial = '{serial}'")
    }
    assert kept and {int(at): wh for at, wh in kept}.items() <= written.items()
    during = [t for t in written if down_at <= t <= up_at - 1]
    assert during, "no point of the outage was written once InfluxDB came back"
    power = influx_server.query("e2e", "SELECT count(solar_w) FROM enphase_power")
    samples = db.execute("SELECT count(*) FROM power_samples WHERE phase = ''").fetchone()[0]
    assert power[0]["count"] >= samples > 0  # every frame, none lost (same second: one point)


async def test_the_influx_flag_alone_writes(tmp_path: Path, influx_server: InfluxServer) -> None:
    async with live_gateway("metered-split") as gw:
        env = process_env(tmp_path, ENPHASE_TOKEN=gw.owner_token())
        args = [gw.https_host, "--interval", "1", "--port", "0", "--db", str(tmp_path / "h.db")]
        args += ["--influx", f"{influx_server.url}/?db=flag"]
        query = f"SELECT * FROM enphase_power WHERE serial = '{gw.serial}'"
        async with collect(args, env, tmp_path) as (proc, _url, lines):
            rows = await until(lambda: points(influx_server, "flag", query), 60)
        assert proc.returncode == 0
        assert rows[0]["site"] == gw.https_host and rows[0]["solar_w"] is not None
        text = "".join(lines)
        assert gw.owner_token() not in text and "Traceback" not in text


async def test_a_two_gateway_site_is_summed_by_the_collect_process(
    tmp_path: Path, influx_server: InfluxServer
) -> None:
    async with live_gateway("battery-backup") as one, live_gateway("metered-split") as two:
        config = tmp_path / "collect.toml"
        gateways = ""
        for name, gw in (("main", one), ("garage", two)):
            gateways += (
                f'[[gateway]]\nname = "{name}"\nhost = "{gw.https_host}"\n'
                f'token = "{gw.owner_token()}"\ntoken_store = "{tmp_path / "tokens.json"}"\n\n'
            )
        config.write_text(
            f'[collect]\ninterval = 1\nport = 0\ndb = "{tmp_path / "h.db"}"\n\n{gateways}'
            '[[site]]\nname = "farm"\ngateways = ["main", "garage"]\n\n'
            f'[sinks.influx]\nurl = "{influx_server.url}/?db=site"\nflush_interval_s = 0.5\n'
        )
        config.chmod(0o600)
        query = (
            "SELECT solar_lifetime_wh FROM enphase_energy WHERE site = 'farm' "
            "AND phase = 'total' GROUP BY serial"
        )
        run = collect(["--config", str(config)], process_env(tmp_path), tmp_path)
        async with run as (proc, _url, _lines):
            await until(
                lambda: len({r["serial"] for r in points(influx_server, "site", query)}) == 3, 60
            )
        assert proc.returncode == 0
    rows = influx_server.query("site", query)
    values: dict[str, set[float]] = {}
    for r in rows:
        values.setdefault(r["serial"], set()).add(r["solar_lifetime_wh"])
    assert set(values) == {one.serial, two.serial, "site-farm"}
    sums = {round(a + b, 3) for a in values[one.serial] for b in values[two.serial]}
    assert values["site-farm"] and {round(v, 3) for v in values["site-farm"]} <= sums

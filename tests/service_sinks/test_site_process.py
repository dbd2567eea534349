"""Issue 29 item 2 through the real `enphase collect` process: a two-gateway site everywhere.

One config file as docs/many-sites.md shows it (``[[site]]`` naming two
``[[gateway]]`` entries), every sink at once: the SQLite history (read back
with ``enphase history --site``), PostgreSQL, InfluxDB, MQTT with Home
Assistant discovery, Prometheus and the dashboard's gateway list. The gateways
are simulated ones on 127.0.0.1 in real time; broker and servers are real.
In each place the site is there, marked as a sum, with its gateways' sums;
and docs/evcc.md's meters read the site's state document.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sqlite3
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from .helpers import Recorder, recorder
from .influx_server import InfluxServer
from .services import unavailable
from .test_collect_process import _get, collect, live_gateway, process_env
from .test_evcc_recipe import DOC_SERIAL, evaluate, evcc_meters
from .test_influx_process import points, until


def _config(
    tmp_path: Path, gateways: list[tuple[str, Any]], mqtt: str, names: str, influx: str
) -> Path:
    """The collector's file: two gateways, the site of both, MQTT, PostgreSQL and InfluxDB."""
    text = f'[collect]\ninterval = 1\nport = 0\ndb = "{tmp_path / "h.db"}"\n\n'
    for name, gw in gateways:
        text += (
            f'[[gateway]]\nname = "{name}"\nhost = "{gw.https_host}"\n'
            f'token = "{gw.owner_token()}"\ntoken_store = "{tmp_path / "tokens.json"}"\n\n'
        )
    text += '[[site]]\nname = "house"\ngateways = ["main", "garage"]\n\n'
    text += f'[sinks.mqtt]\nurl = "{mqtt}"\nbase = "{names}"\ndiscovery_prefix = "{names}ha"\n\n'
    text += '[sinks.postgres]\ndsn_env = "SITE_PG_DSN"\n\n'
    text += f'[sinks.influx]\nurl = "{influx}/?db=house"\nflush_interval_s = 0.5\n'
    path = tmp_path / "collect.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def _site_counters(db: Path) -> int:
    """How many house counter values of the site the collector's SQLite history holds."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            query = (
                "SELECT count(DISTINCT wh_lifetime) FROM energy_counters "
                "WHERE serial = 'site-house' AND flow = 'e:house' AND phase = ''"
            )
            return int(conn.execute(query).fetchone()[0])
    except sqlite3.Error:  # not made yet
        return 0


def _site_summed(rec: Recorder, base: str, serials: list[str]) -> dict[str, Any] | None:
    """The site's energy message once it equals the sum of messages its gateways published."""
    site = [orjson.loads(p) for p in rec.payloads(f"{base}/site-house/energy") if p]
    each = [[orjson.loads(p) for p in rec.payloads(f"{base}/{s}/energy") if p] for s in serials]
    for doc in reversed(site):
        sums = {round(a["production_wh"] + b["production_wh"], 1) for a in each[0] for b in each[1]}
        if round(doc["production_wh"], 1) in sums:
            return doc
    return None


async def test_a_two_gateway_site_is_in_every_sink_of_the_collect_process(
    tmp_path: Path, mqtt_url: str, pg_dsn: str, influx_server: InfluxServer
) -> None:
    jq = shutil.which("jq")
    if jq is None:
        unavailable("no jq program: install jq (.ci/services.sh does)")
    assert jq is not None
    base = f"s{uuid.uuid4().hex[:8]}"
    async with live_gateway("battery-backup") as one, live_gateway("metered-split") as two:
        serials = sorted([one.serial, two.serial])
        gateways = [("main", one), ("garage", two)]
        config = _config(tmp_path, gateways, mqtt_url, base, influx_server.url)
        env = process_env(tmp_path, SITE_PG_DSN=pg_dsn)
        influx = (
            "SELECT solar_lifetime_wh FROM enphase_energy WHERE phase = 'total' GROUP BY serial"
        )
        async with recorder(mqtt_url, f"{base}/#", f"{base}ha/#") as rec:
            run = collect(["--config", str(config)], env, tmp_path)
            async with run as (proc, url, lines):
                energy = await until(lambda: _site_summed(rec, base, serials), 60)
                await until(
                    lambda: len({r["serial"] for r in points(influx_server, "house", influx)}) == 3,
                    60,
                )
                # two house counter values of the site in the SQLite history: a day's energy
                # (house, not solar: the sun may have set where the simulated gateways are)
                await until(lambda: _site_counters(tmp_path / "h.db") >= 2, 60)
                metrics = await asyncio.to_thread(_get, url + "metrics")
                listed = orjson.loads(await asyncio.to_thread(_get, url + "api/gateways"))
                await asyncio.sleep(0)
            text = "".join(lines)
            assert proc.returncode == 0 and "Traceback" not in text, text
    # MQTT: the site is a Home Assistant device of its own, a sum by its model
    configs = [
        orjson.loads(p)
        for t, p, _r in rec.messages
        if t.startswith(f"{base}ha/") and "enphase_site-house/" in t and p
    ]
    assert configs and {c["device"]["model"] for c in configs} == {
        f"Sum of 2 gateways ({', '.join(serials)})"
    }
    assert not [c for c in configs if "configuration_url" in c["device"]]
    assert energy["battery_charge_wh"] is not None  # the garage has no battery: the house's
    # docs/evcc.md's recipe "for a site, the serial is site-<name>": every meter reads a number
    state = [p for p in rec.payloads(f"{base}/site-house/state") if p]
    assert state, "no state document for the site"
    for name, readings in evcc_meters().items():
        for what, settings in readings.items():
            assert settings["topic"] == f"enphase/{DOC_SERIAL}/state"
            value = evaluate(jq, settings, state[-1])  # a number, never null
            assert value >= 0 or what == "power", (name, what, value)
            assert what != "soc" or 0 <= value <= 100, (name, value)
    # Prometheus and the dashboard: the site beside its gateways, the dashboard saying of whom
    assert 'serial="site-house"' in metrics
    assert metrics.count('enphase_site_gateway{gateway="') == 2  # marked as the sum of two
    shown = {g["serial"]: g for g in listed["gateways"]}
    assert set(shown) == {*serials, "site-house"} and shown["site-house"]["sum_of"] == serials
    # InfluxDB: the site's points are the sums of its gateways' (tagged with the site)
    rows = influx_server.query("house", influx.replace("GROUP BY", "AND site = 'house' GROUP BY"))
    values: dict[str, set[float]] = {}
    for r in rows:
        values.setdefault(r["serial"], set()).add(round(r["solar_lifetime_wh"], 3))
    sums = {round(a + b, 3) for a in values[serials[0]] for b in values[serials[1]]}
    assert values["site-house"] and values["site-house"] <= sums
    # PostgreSQL: the site is a gateway of the history, its firmware and host say it is a sum
    conn = await asyncpg.connect(pg_dsn)
    try:
        site_row = await conn.fetchrow(
            "SELECT firmware, host FROM gateways WHERE serial = 'site-house'"
        )
        counters = await conn.fetchval(
            "SELECT count(*) FROM energy_counters WHERE serial = 'site-house'"
        )
    finally:
        await conn.close()
    assert site_row is not None, text
    assert dict(site_row) == {
        "firmware": "site",
        "host": "+".join(serials),
    }
    assert counters > 0
    # SQLite: `enphase history --site house` is the site's rows, equal to its gateways' sum
    history = [sys.executable, "-c", "from enphase_local.cli.app import main; main()"]
    history += ["history", "--db", str(tmp_path / "h.db"), "--json", "--every", "1d"]
    site = await asyncio.create_subprocess_exec(
        *history, "--site", "house", stdout=asyncio.subprocess.PIPE, env=env
    )
    out, _err = await site.communicate()
    assert site.returncode == 0
    site_rows = json.loads(out)
    assert {r["serial"] for r in site_rows} == {"site-house"}
    site_house = sum(r["wh"] for r in site_rows if r["flow"] == "house")
    each = await asyncio.create_subprocess_exec(
        *history, *(f"--serial={s}" for s in serials), stdout=asyncio.subprocess.PIPE, env=env
    )
    members = json.loads((await each.communicate())[0])
    members_house = sum(r["wh"] for r in members if r["flow"] == "house")
    # the site's readings lie within its gateways' (a sum needs both): at most their sum
    assert 0 < site_house <= members_house + 1e-6, (site_house, members_house)

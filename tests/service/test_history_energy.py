"""Issue 23: the history keeps every flow, and a restart continues the derived counters.

A battery site without a storage CT (most IQ Battery sites): its battery
energy exists only as the client integrates it. The collector is built the
way `enphase collect` builds it (`runner.envoy_factory`, which restores the
derived counters from the history file), stopped, and started again; then
`enphase history` is asked, in the site's zone, for the day's flows.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from enphase_local.cli.app import cli
from enphase_local.models.energy_flows import ENERGY_FLOWS
from enphase_local.service.collector import Collector, Target
from enphase_local.service.config import GatewayEntry
from enphase_local.service.history_sink import HistorySink
from enphase_local.service.runner import envoy_factory
from enphase_local.simulator import SimClock, SimulatedGateway, SiteBackend
from tests.energy_day import TRUTH, day_start, host_on_utc, site
from tests.service.helpers import run_for

PRESET = "battery-no-storage-ct"

__all__ = ["host_on_utc"]  # the autouse fixture: the host on UTC


async def _collect(
    db: Path, gw: SimulatedGateway, clock: SimClock, tokens: Path, seconds: float
) -> None:
    entry = GatewayEntry(
        name="site", host=gw.https_host, token=gw.owner_token(), token_store=str(tokens)
    )
    sink = HistorySink(db, clock=clock, flush_every_s=3600)
    target = Target("site", envoy_factory(entry, clock, None, db))
    collector = Collector([target], [sink], clock=clock)
    await collector.start_sinks()
    try:
        await collector.poll_once()
        await run_for(collector, clock, seconds, 60.0)
        await sink.flush()
    finally:
        await collector.close_envoys()
        await collector.stop_sinks()


def _lifetimes(db: Path) -> dict[str, list[float]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT flow, wh_lifetime FROM energy_counters WHERE flow LIKE 'e:%' ORDER BY at"
        ).fetchall()
    out: dict[str, list[float]] = {}
    for flow, wh in rows:
        out.setdefault(flow, []).append(wh)
    return out


async def test_a_restart_continues_derived_counters_and_history_shows_the_flows(
    tmp_path: Path,
) -> None:
    db, tokens = tmp_path / "h.db", tmp_path / "tokens.json"
    start = day_start(PRESET)
    clock = SimClock(start=start, speed=0)
    backend = SiteBackend(site(PRESET), clock, seed=1)
    async with SimulatedGateway(backend, clock=clock) as gw:
        await _collect(db, gw, clock, tokens, 6 * 3600)  # 23:40 to 05:40: night discharge
        before = _lifetimes(db)
        await _collect(db, gw, clock, tokens, 6 * 3600)  # a restart, then until 11:40
        truth = backend.state()["today_wh"]
    after = _lifetimes(db)
    for flow in ("e:battery_charge", "e:battery_discharge", "e:house"):
        values = after[flow]
        assert all(b >= a for a, b in itertools.pairwise(values)), flow
        assert values[-1] > before[flow][-1]  # continued, not restarted from zero
    assert before["e:battery_discharge"][-1] > 500  # the night's discharge was counted
    with sqlite3.connect(db) as conn:  # "today" went on after the restart, the same day
        today = conn.execute(
            "SELECT wh_today FROM energy_counters WHERE flow = 'e:battery_discharge' "
            "ORDER BY at DESC LIMIT 1"
        ).fetchone()[0]
    assert today is not None
    assert abs(today - sum(truth[k] for k in TRUTH["battery_discharge"])) < 0.02 * today + 30
    zone = site(PRESET).timezone
    day = datetime.fromtimestamp(start + 1200, ZoneInfo(zone)).date().isoformat()
    args = ["history", "--db", str(db), "--every", "1d", "--tz", zone]
    result = CliRunner().invoke(cli, [*args, "--from", day, "--to", f"{day}T23:59", "--json"])
    assert result.exit_code == 0, result.output
    flows = {r["flow"]: r["wh"] for r in json.loads(result.output) if r["bucket"] == day}
    assert set(flows) == set(ENERGY_FLOWS) - {"generator"}  # the site has no generator
    for name, wh in flows.items():
        expected = sum(truth[k] for k in TRUTH[name])
        # the history counts from the first read after midnight: a minute's energy at most
        assert abs(wh - expected) <= 0.02 * expected + 30, (name, wh, expected)
    # without --tz: the site's own zone, which the history keeps (the host here is on UTC)
    bare = ["history", "--db", str(db), "--every", "1d", "--json", "--from", day]
    plain = CliRunner().invoke(cli, [*bare, "--to", f"{day}T23:59"])
    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.output) == json.loads(result.output)
    shown = CliRunner().invoke(cli, [*args, "--from", day, "--to", f"{day}T23:59"])
    assert shown.exit_code == 0, shown.output
    assert "self-sufficiency" in shown.output and "solar" in shown.output

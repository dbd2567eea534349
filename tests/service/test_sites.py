"""A site of two gateways in the collector: the sums reach every sink, the state and the history."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from enphase_local.cli.app import cli
from enphase_local.models.live_frame import LiveFrame
from enphase_local.models.snapshot import Snapshot
from enphase_local.service.config import CollectConfig, ConfigError, SiteEntry, load_config
from enphase_local.service.dashboard_data import live_document
from enphase_local.service.metrics import exposition
from enphase_local.service.runner import build
from enphase_local.service.sinks import Event, Hub
from enphase_local.simulator import SimClock, SimulatedGateway, SiteBackend
from enphase_local.simulator.site.presets import PRESETS

from .helpers import MIDNIGHT, target_for


class Keeper:
    """A sink that keeps what it is given."""

    name = "keeper"

    def __init__(self) -> None:
        self.snapshots: list[tuple[str, Snapshot]] = []
        self.frames: list[tuple[str, LiveFrame]] = []
        self.events: list[Event] = []

    async def start(self, hub: Hub) -> None:
        pass

    async def on_snapshot(self, serial: str, snapshot: Snapshot) -> None:
        self.snapshots.append((serial, snapshot))

    async def on_live(self, serial: str, frame: LiveFrame) -> None:
        self.frames.append((serial, frame))

    async def on_event(self, event: Event) -> None:
        self.events.append(event)

    async def stop(self) -> None:
        pass


async def test_two_gateways_are_summed_into_every_sink(tmp_path: Path) -> None:
    clock = SimClock(start=MIDNIGHT + 12 * 3600, speed=0)
    keeper = Keeper()
    main = SiteBackend.from_preset("battery-backup", clock=clock, seed=1)
    garage = SiteBackend.from_preset("metered-split", clock=clock, seed=2)
    async with (
        SimulatedGateway(main, clock=clock) as gw1,
        SimulatedGateway(garage, clock=clock) as gw2,
    ):
        config = CollectConfig(
            gateways=(), db=tmp_path / "h.db", sites=(SiteEntry("house", ("main", "garage")),)
        )
        targets = [target_for(gw1, clock), target_for(gw2, clock)]
        targets = [
            type(t)(name, t.make) for name, t in zip(("main", "garage"), targets, strict=True)
        ]
        built = build(config, clock=clock, targets=targets, web=False, extra_sinks=(keeper,))
        collector = built.collector
        await collector.start_sinks()
        try:
            for _ in range(3):
                await collector.poll_once()
                clock.advance(600)
        finally:
            await collector.close_envoys()
            await collector.stop_sinks()
    members = {s: snap for s, snap in keeper.snapshots if not s.startswith("site-")}
    sums = [snap for s, snap in keeper.snapshots if s == "site-house"]
    # rounds 600 s apart, skew 180 s: one sum per round, when its second gateway answers
    assert len(sums) == 3 and set(members) == {gw1.serial, gw2.serial}
    last = sums[-1]
    parts = [snap for s, snap in reversed(keeper.snapshots) if s in members][:2]
    assert {p.gateway.serial for p in parts} == set(members)
    assert last.production is not None and last.production.source.startswith("site:")
    expected = sum(p.production.wh_lifetime for p in parts if p.production is not None)  # type: ignore[misc]
    assert last.production.wh_lifetime == pytest.approx(expected)
    site_frames = [f for s, f in keeper.frames if s == "site-house"]
    assert site_frames and all(f.source == "site" for f in site_frames)
    member_frames = {s: f for s, f in keeper.frames if s in members}
    solar = sum(f.solar_watts or 0.0 for f in member_frames.values())
    assert site_frames[-1].solar_watts == pytest.approx(solar)
    assert [e.kind for e in keeper.events if e.serial == "site-house"] == ["connected"]
    state = collector.states["house"]
    assert state.serial == "site-house" and state.state == "connected"
    assert state.snapshot is last
    # the dashboard's live document and /metrics read the collector's states: the site is there
    doc = live_document(collector.states, clock.now(), 10_000.0)
    shown = {g["serial"]: g for g in doc["gateways"]}
    assert shown["site-house"]["name"] == "house" and not shown["site-house"]["stale"]
    assert shown["site-house"]["flows"]["solar"] == pytest.approx(solar)
    assert shown["site-house"]["sum_of"] == sorted(members)  # marked as a sum, of whom
    assert [shown[m]["sum_of"] for m in members] == [None, None]
    metrics = exposition(lambda: collector.states, clock.now)().decode()
    assert 'serial="site-house"' in metrics
    for member in members:  # the site's series are marked as sums, of whom
        assert f'enphase_site_gateway{{gateway="{member}",serial="site-house"}} 1.0' in metrics
    assert metrics.count("enphase_site_gateway{") == 2
    # the SQLite history holds the site's rows beside the gateways'
    db = sqlite3.connect(tmp_path / "h.db")
    rows = db.execute(
        "SELECT wh_lifetime FROM energy_counters WHERE serial = 'site-house' "
        "AND flow = 'production' AND phase = '' ORDER BY at"
    ).fetchall()
    assert rows and rows[-1][0] == pytest.approx(expected)
    # enphase history --site: the site's energy is the sum of its gateways'
    span = ["history", "--db", str(tmp_path / "h.db"), "--utc", "--json"]
    span += ["--from", "2026-06-14", "--to", "2026-06-15"]
    site = CliRunner().invoke(cli, [*span, "--site", "house"])
    assert site.exit_code == 0, site.output
    site_rows = json.loads(site.output)
    assert {r["serial"] for r in site_rows} == {"site-house"}
    each = CliRunner().invoke(cli, [*span, *(f"--serial={m}" for m in members)])
    solar = sum(r["wh"] for r in json.loads(each.output) if r["flow"] == "solar")
    site_solar = [r["wh"] for r in site_rows if r["flow"] == "solar"]
    assert solar > 0 and site_solar == [pytest.approx(solar)]


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    gateways = '[[gateway]]\nname = "main"\nhost = "a"\n[[gateway]]\nname = "garage"\nhost = "b"\n'
    path.write_text(gateways + text)
    return path


def test_site_config_is_read_and_checked(tmp_path: Path) -> None:
    config = load_config(
        _config(tmp_path, '[[site]]\nname = "house"\ngateways = ["main", "garage"]\n')
    )
    assert config.sites == (SiteEntry("house", ("main", "garage")),)
    bad: list[tuple[str, Any]] = [
        (
            '[[site]]\nname = "house"\ngateways = ["main", "shed"]\n',
            "no \\[\\[gateway\\]\\] named 'shed'",
        ),
        ('[[site]]\nname = "main"\ngateways = ["garage"]\n', "already a gateway's"),
        ('[[site]]\nname = "house"\n', "needs a name and a list"),
        (
            '[[site]]\nname = "a"\ngateways = ["main"]\n'
            '[[site]]\nname = "b"\ngateways = ["main"]\n',
            "is in sites",
        ),
        ('[[site]]\nname = "a"\ngateways = ["main"]\ncolour = 1\n', "unknown key"),
    ]
    for text, words in bad:
        with pytest.raises(ConfigError, match=words):
            load_config(_config(tmp_path, text))


def _sum_or_gap(values: list[float | None]) -> float | None:
    """A flow every gateway counts: the sum, or a gap when one gateway does not know it."""
    return None if None in values else sum(v for v in values if v is not None)


async def _site_round(
    gateways: tuple[tuple[str, str], tuple[str, str]], start: float, rounds: int
) -> tuple[list[Snapshot], Snapshot]:
    """Two gateways (preset, time zone) as the site "house", `rounds` polls 600 s apart.

    Returns the last snapshot of each gateway and the site's last sum (made from them).
    """
    clock = SimClock(start=start, speed=0)
    keeper = Keeper()
    backends = [
        SiteBackend(dataclasses.replace(PRESETS[preset], timezone=zone), clock, seed)
        for seed, (preset, zone) in enumerate(gateways, 1)
    ]
    async with (
        SimulatedGateway(backends[0], clock=clock) as gw1,
        SimulatedGateway(backends[1], clock=clock) as gw2,
    ):
        # a history of its own: the default one is the user's (~/.local/share/enphase-local)
        history = Path(tempfile.mkdtemp(prefix="site-round-")) / "history.db"
        config = CollectConfig(
            gateways=(), sites=(SiteEntry("house", ("main", "garage")),), db=history
        )
        made = [target_for(gw1, clock), target_for(gw2, clock)]
        targets = [type(t)(n, t.make) for n, t in zip(("main", "garage"), made, strict=True)]
        built = build(config, clock=clock, targets=targets, web=False, extra_sinks=(keeper,))
        await built.collector.start_sinks()
        try:
            for _ in range(rounds):
                await built.collector.poll_once()
                clock.advance(600)
        finally:
            await built.collector.close_envoys()
            await built.collector.stop_sinks()
        last = dict(keeper.snapshots)
    return [last[gw1.serial], last[gw2.serial]], last["site-house"]


async def test_the_site_energy_is_the_sum_of_its_gateways_six_flows() -> None:
    # 23:40 in Denver: the last rounds are past midnight, so today's values are known
    start = MIDNIGHT + 6 * 3600 - 1200
    denver = "US/Mountain"
    parts, site = await _site_round(
        (("battery-backup", denver), ("metered-split", denver)), start, 4
    )
    battery, garage = (p.energy for p in parts)
    assert battery is not None and garage is not None and site.energy is not None
    total = site.energy
    for flow in ("solar", "house", "grid_import", "grid_export"):
        for counter in ("lifetime_wh", "today_wh"):
            values = [getattr(e, counter).get(flow) for e in (battery, garage)]
            assert None not in values, (flow, counter)
            assert getattr(total, counter).get(flow) == pytest.approx(sum(values)), (flow, counter)
    # the garage has no battery: the site's battery energy is the house's battery
    assert garage.lifetime_wh.battery_charge is None
    for flow in ("battery_charge", "battery_discharge"):
        assert total.lifetime_wh.get(flow) == battery.lifetime_wh.get(flow) is not None
        assert total.today_wh.get(flow) == battery.today_wh.get(flow) is not None
    assert total.lifetime_wh.generator is None  # neither has one
    assert "house" in battery.derived and total.derived == battery.derived + garage.derived
    assert total.zone == denver and total.gaps_s == battery.gaps_s + garage.gaps_s
    # per phase where the phases line up (both split phase: L1 and L2)
    assert set(site.phases) == set(parts[0].phases) == set(parts[1].phases) == {"L1", "L2"}
    for name, phase in site.phases.items():
        each = [p.phases[name].production for p in parts]
        assert phase.production is not None and all(r is not None for r in each)
        assert phase.production.wh_lifetime == pytest.approx(
            sum(r.wh_lifetime or 0.0 for r in each if r is not None)
        )
        assert phase.production.source.startswith("site:")


async def test_a_flow_one_gateway_lacks_is_a_gap_and_two_zones_have_no_today() -> None:
    gateways = (("battery-backup", "US/Mountain"), ("standard", "US/Eastern"))
    parts, site = await _site_round(gateways, MIDNIGHT + 12 * 3600, 2)
    energies = [p.energy for p in parts]
    assert site.energy is not None and energies[0] is not None and energies[1] is not None
    for flow in ("solar", "house", "grid_import", "grid_export"):
        values = [e.lifetime_wh.get(flow) for e in energies if e is not None]
        assert site.energy.lifetime_wh.get(flow) == _sum_or_gap(values), flow
    assert site.energy.lifetime_wh.solar is not None  # both count solar
    assert energies[1].lifetime_wh.grid_import is None  # no CTs: a gap in the sum
    assert site.energy.lifetime_wh.grid_import is None and site.energy.lifetime_wh.house is None
    assert site.energy.zone is None and set(site.energy.today_wh.to_dict().values()) == {None}
    assert site.phases == {}  # split phase beside a gateway without phases: none line up

"""/metrics from the feature table: every numeric feature instance is a series with its value.

Scraped over HTTP from the collector's web sink reading a simulated gateway, parsed
by prometheus_client's own parser, and linted by the real ``promtool`` (required under
CI=true: .ci/services.sh installs it).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from enphase_local.features import FEATURES, Kind, Readings, by_id, scope_keys
from enphase_local.service.metric_names import (
    KEPT,
    NET_LIFETIME,
    NET_TODAY,
    Series,
    derived,
    is_numeric,
    markdown,
    numeric_features,
    scale,
    series_of,
)
from enphase_local.service.metrics import FeatureSeries
from tests.service.helpers import collecting, run_for, web_for
from tests.service.test_metrics import samples
from tests.support import REAL, needs_real, real_folders

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
PRESETS = ("standard", "battery-backup", "metered-3phase", "acb", "generator", "collar")


def promtool_lint(text: str) -> None:
    """``promtool check metrics`` on `text` (skipped without promtool, except under CI)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        assert not os.environ.get("CI"), "promtool missing: run .ci/services.sh (apt: prometheus)"
        pytest.skip("promtool is not installed (apt: prometheus)")
    lint = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def _number(value: Any) -> bool:
    return isinstance(value, bool | int | float)


async def _scrape(preset: str, tmp_path: Path) -> tuple[Readings, str, str]:
    """A collector's /metrics after 10 minutes, and the readings its features read."""
    async with collecting(tmp_path / "h.db", preset) as (collector, sink, gw, clock):
        async with web_for(collector, clock, sink) as web:
            await run_for(collector, clock, 600, 60)
            async with aiohttp.ClientSession() as session:
                async with session.get(web.url + "metrics") as resp:
                    text = await resp.text()
            state = collector.states[gw.serial]
            assert state.snapshot is not None and state.envoy is not None
            expires = state.envoy.token_expires_at
            readings = Readings(state.snapshot, state.frame, token_expires_at=expires, now=clock())
    return readings, gw.serial, text


async def test_every_numeric_feature_instance_has_a_series_with_its_value(
    tmp_path: Path,
) -> None:
    readings, serial, text = await _scrape("battery-backup", tmp_path)
    got = samples(text)
    checked = 0
    for feature in numeric_features():
        series = series_of(feature)
        name = f"{series.name}_total" if series.counter else series.name
        for key in scope_keys(feature.scope, readings):
            value = feature.value(readings, key) if feature.present(readings, key) else None
            if value is None:
                continue
            labels = dict(zip(("serial", *series.labels), series.values(serial, key), strict=True))
            found = [v for lab, v in got.get(name, []) if lab == labels]
            assert found == [pytest.approx(float(value) * scale(feature))], (feature.id, key)
            checked += 1
    assert checked >= 100, checked  # the battery site's table: CTs, inverters, batteries ...
    # today's names keep their labels and values (Grafana panels and alerts name them)
    snap = readings.snapshot
    assert snap.production is not None and snap.production.wh_lifetime is not None
    energy = {(lab["flow"], lab["phase"]): v for lab, v in got["enphase_energy_joules_total"]}
    assert energy[("production", "total")] == snap.production.wh_lifetime * 3600
    assert snap.net_consumption is not None and snap.net_consumption.wh_lifetime is not None
    net = {lab["phase"]: v for lab, v in got["enphase_energy_net_joules"]}
    assert net["total"] == pytest.approx(snap.net_consumption.wh_lifetime * 3600)
    today = {lab["flow"] for lab, _ in got["enphase_energy_today_joules"]}
    has_net_today = snap.net_consumption.wh_today is not None
    assert today == {"production", "consumption"} | (
        {"net_consumption"} if has_net_today else set()
    )
    assert snap.battery is not None and snap.battery.units
    soc = {lab["unit"]: v for lab, v in got["enphase_battery_soc_percent"]}
    assert set(soc) == {"", *snap.battery.units}
    for unit, value in soc.items():
        want = snap.battery.soc_percent if not unit else snap.battery.units[unit].soc_percent
        assert value == want
    left = got["enphase_token_left_seconds"][0][1]
    assert readings.token_expires_at is not None and readings.now is not None
    assert abs(left - (readings.token_expires_at - readings.now)) <= 0.05 * 86_400
    promtool_lint(text)


@pytest.mark.parametrize("preset", PRESETS)
async def test_the_numeric_rule_matches_the_values(preset: str, tmp_path: Path) -> None:
    """A feature is a series exactly when its values are numbers (or on/off)."""
    readings, serial, text = await _scrape(preset, tmp_path)
    for feature in FEATURES:
        if feature.kind not in (Kind.SENSOR, Kind.NUMBER, Kind.BINARY_SENSOR):
            continue
        for key in scope_keys(feature.scope, readings):
            value = feature.value(readings, key)
            if value is not None:
                assert is_numeric(feature) == _number(value), (feature.id, key, value)
    got = samples(text)
    assert all(v is not None and not math.isnan(v) for rows in got.values() for _, v in rows)
    if preset == "acb":  # AC Battery bank beside an IQ Battery bank: both kept, none lost
        assert readings.snapshot.acb is not None and readings.snapshot.battery is not None
        bank = [v for lab, v in got["enphase_battery_soc_percent"] if lab["unit"] == ""]
        assert bank == [readings.snapshot.battery.soc_percent]
        assert got["enphase_acb_level_percent"] == [
            ({"serial": serial}, readings.snapshot.acb.soc_percent)
        ]
    promtool_lint(text)


def test_every_name_the_table_can_make_passes_promtool() -> None:
    """One sample of every feature's series, kept and derived: a new feature's name is linted."""
    table = FeatureSeries()
    families: dict[str, Series] = {}
    for feature in numeric_features():
        for series in (series_of(feature), derived(feature)):
            seen = families.setdefault(series.name, series)
            assert (seen.counter, seen.labels) == (series.counter, series.labels), series.name
            table.sample(series, "122232000127", "L1", 1.0)
    for series in (NET_LIFETIME, NET_TODAY):
        table.sample(series, "122232000127", "total", 1.0)

    class Table:
        def collect(self) -> Any:
            return table.families()

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Table())
    text = generate_latest(registry).decode()
    assert text.count("# TYPE ") == len(table.families()) >= 60
    promtool_lint(text)


USERS_NAMES = {  # docs/service.md and users' panels: renaming one breaks them
    "enphase_power_watts": ("flow", "phase"),
    "enphase_energy_joules_total": ("flow", "phase"),
    "enphase_energy_today_joules": ("flow",),
    "enphase_energy_flow_joules_total": ("flow",),
    "enphase_energy_flow_today_joules": ("flow",),
    "enphase_inverter_power_watts": ("inverter",),
    "enphase_inverter_last_report_timestamp_seconds": ("inverter",),
    "enphase_battery_soc_percent": ("unit",),
}


def test_kept_names_are_features_of_the_table() -> None:
    kept: dict[str, tuple[str, ...]] = {}
    for fid, series in KEPT.items():
        assert is_numeric(by_id(fid)), fid
        assert series.name.startswith("enphase_") and not series.name.endswith("_total")
        kept[f"{series.name}_total" if series.counter else series.name] = series.labels
    assert kept == USERS_NAMES
    assert NET_LIFETIME.name == "enphase_energy_net_joules" and NET_LIFETIME.labels == ("phase",)


def test_the_docs_list_every_series_of_the_table() -> None:
    text = DOCS.read_text()
    begin, end = "<!-- metrics:begin -->\n", "<!-- metrics:end -->"
    assert begin in text and end in text
    listed = text.split(begin, 1)[1].split(end, 1)[0]
    assert listed == markdown(), (
        "docs/metrics.md is out of date: put the output of "
        "`python -m enphase_local.service.metric_names` between its markers"
    )


@needs_real
async def test_every_real_gateway_capture_makes_lintable_series() -> None:
    """The 24 real captures read by the real client: one scrape of all of them lints clean,
    and the numeric rule holds for every value they have (text stays out of /metrics)."""
    from enphase_local.service.collector import GatewayState
    from enphase_local.service.metrics import exposition
    from tests.conformance.derived import read_settled

    states: dict[str, GatewayState] = {}
    for folder in real_folders():
        _, snap = await read_settled(REAL / folder)
        readings = Readings(snap)
        for feature in FEATURES:
            if feature.kind in (Kind.SENSOR, Kind.NUMBER, Kind.BINARY_SENSOR):
                for key in scope_keys(feature.scope, readings):
                    value = feature.value(readings, key)
                    if value is not None:
                        assert is_numeric(feature) == _number(value), (folder, feature.id, value)
        serial = f"{snap.gateway.serial}-{folder}"  # folders may share a gateway
        states[folder] = GatewayState(folder, serial, "connected", snapshot=snap)
    assert len(states) >= 20
    text = exposition(lambda: states, lambda: 2_000_000_000.0)().decode()
    got = samples(text)
    assert {lab["serial"] for lab, _ in got["enphase_energy_joules_total"]} >= {
        s.serial for s in states.values() if s.snapshot and s.snapshot.production
    }
    promtool_lint(text)

"""/metrics from cached gateway lines: the same bytes as prometheus_client's uncached text.

The reference is `exposition(cached=False)`: the feature table walked on every scrape and
formatted by prometheus_client's `generate_latest`; it is compared within each test.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from enphase_local.features import Readings, scope_keys
from enphase_local.service.collector import GatewayState
from enphase_local.service.metric_names import CLOCKED, numeric_features, series_of
from enphase_local.service.metric_text import metric_text
from enphase_local.service.metrics import exposition
from tests.conformance.derived import read_settled
from tests.service.helpers import collecting, run_for
from tests.service.test_metrics_table import PRESETS, promtool_lint
from tests.support import REAL, needs_real, real_folders


@pytest.mark.parametrize("preset", PRESETS)
async def test_cached_text_is_the_reference_text(preset: str, tmp_path: Path) -> None:
    async with collecting(tmp_path / "h.db", preset) as (collector, sink, gw, clock):
        await run_for(collector, clock, 300, 60)
        fast = exposition(lambda: collector.states, clock.now, sink.stats)
        slow = exposition(lambda: collector.states, clock.now, sink.stats, cached=False)
        first = fast()
        assert first == slow()
        assert fast.cache is not None and fast.cache.walks == 1
        clock.advance(7 * 86_400 / 10)  # the token's days left move; the snapshot does not
        again = fast()
        assert fast.cache.walks == 1  # unchanged snapshot: the table is not walked again
        assert again == slow() and again != first
        await run_for(collector, clock, 60, 60)  # a new snapshot: walked once more
        assert fast() == slow()
        assert fast.cache.walks == 2
        collector.states[gw.serial].state = "stale"  # kept-while-stale lines only
        assert fast() == slow()
        assert fast.cache.walks == 3
    promtool_lint(first.decode())


async def test_one_serial_twice_is_still_the_reference_text(tmp_path: Path) -> None:
    """Two gateways with one serial share marks; the scrape then walks uncached."""
    async with collecting(tmp_path / "h.db", "acb") as (collector, _, gw, clock):
        await run_for(collector, clock, 120, 60)
        state = collector.states[gw.serial]
        both = {"a": state, "b": dataclasses.replace(state, name="twin")}
        fast = exposition(lambda: both, clock.now)
        text = fast()
        assert text == exposition(lambda: both, clock.now, cached=False)()
        assert text.count(b"enphase_up{") == 2


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families


def test_text_escapes_as_prometheus_client_does() -> None:
    gauge = GaugeMetricFamily("g_watts", 'help \\ "quoted"\nnext', labels=["serial", "a"])
    gauge.add_metric(['x"y', "back\\slash\nline"], 1e21)
    gauge.add_metric(["z", ""], float("nan"))
    gauge.add_metric(["z", "inf"], float("-inf"))
    counter = CounterMetricFamily("c_joules", "a counter", labels=["unit", "serial"])
    counter.add_metric(["", "s"], 0.1 + 0.2)
    bare = GaugeMetricFamily("h_seconds", "no labels", value=3.0)
    families: list[Metric] = [gauge, counter, bare]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    assert "".join(metric_text(m) for m in families).encode() == generate_latest(registry)


@pytest.mark.parametrize("preset", PRESETS)
async def test_only_the_clocked_features_read_the_clock(preset: str, tmp_path: Path) -> None:
    """Lines are cached per snapshot: any other feature reading `now` would go stale."""
    async with collecting(tmp_path / "h.db", preset) as (collector, _, gw, clock):
        await run_for(collector, clock, 120, 60)
        state = collector.states[gw.serial]
        assert state.snapshot is not None and state.envoy is not None
        expires = state.envoy.token_expires_at
    early = Readings(state.snapshot, state.frame, token_expires_at=expires, now=clock())
    late = dataclasses.replace(early, now=clock() + 40 * 86_400)
    for feature in numeric_features():
        for key in scope_keys(feature.scope, early):
            moved = feature.value(early, key) != feature.value(late, key)
            assert moved == (feature.id in CLOCKED and expires is not None), feature.id
    names = [series_of(f).name for f in numeric_features()]
    for fid in CLOCKED:  # its family is its own: its lines go last in it, as walked
        assert names.count(series_of(next(f for f in numeric_features() if f.id == fid)).name) == 1


async def test_a_new_live_frame_is_walked_again(tmp_path: Path) -> None:
    """The cache key is the frame object too: live power moves without a new snapshot."""
    async with collecting(tmp_path / "h.db", "battery-backup") as (collector, _, gw, clock):
        await run_for(collector, clock, 120, 60)
        state = collector.states[gw.serial]
        assert state.snapshot is not None and state.snapshot.power_flow is not None
        fast = exposition(lambda: collector.states, clock.now)
        slow = exposition(lambda: collector.states, clock.now, cached=False)
        state.frame = dataclasses.replace(state.snapshot.power_flow, solar_watts=1234.5)
        first = fast()
        assert first == slow() and b'flow="solar",phase="total",serial=' in first
        assert b"} 1234.5\n" in first
        state.frame = dataclasses.replace(state.frame, solar_watts=4321.0)
        second = fast()
        assert second == slow() and b"} 4321.0\n" in second and b"} 1234.5\n" not in second
        assert fast.cache is not None and fast.cache.walks == 2


@needs_real
async def test_a_fleet_of_every_real_capture_is_the_reference_text() -> None:
    """24 different gateways in one scrape: families merge in the reference's order."""
    states: dict[str, GatewayState] = {}
    for folder in real_folders():
        _, snap = await read_settled(REAL / folder)
        serial = f"{snap.gateway.serial}-{folder}"  # folders may share a gateway
        states[folder] = GatewayState(folder, serial, "connected", snapshot=snap)
    fast = exposition(lambda: states, lambda: 2_000_000_000.0)
    slow = exposition(lambda: states, lambda: 2_000_000_000.0, cached=False)
    assert fast() == slow()
    for folder in list(states)[::2]:  # half go stale: their lines are built again
        states[folder].state = "stale"
    assert fast() == slow()
    assert fast.cache is not None and fast.cache.walks == len(states) + len(list(states)[::2])

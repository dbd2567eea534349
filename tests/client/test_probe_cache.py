"""Issue 18 item 6: a probe remembered by gateway serial, so the next connection skips it.

Asserted over sockets from the simulator's request log: the second
connection asks fewer endpoints and gets the same snapshot; a new firmware,
an entry too old, or a source the entry relied on gone means a real probe;
`update(sections=...)` asks only those sections' sources.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from enphase_local.capabilities import SourceStatus
from enphase_local.net.probe_cache import ProbeCache
from enphase_local.sources.keys import SourceKey
from tests.simkit import envoy_for, gateway

# asked by the probe (what can switch a generator here?); the first update does not ask it
PROBE_ONLY = "/ivp/ss/gen_config"


async def test_second_connection_uses_the_remembered_probe(tmp_path: Path) -> None:
    cache = ProbeCache(tmp_path / "probes.json")
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, probe_cache=cache) as envoy:
            first = await envoy.update()
            caps, status = envoy.capabilities, dict(envoy.source_status)
        cold = gw.log.counts
        gw.log.reset()
        async with envoy_for(gw, clock, probe_cache=cache) as envoy:
            second = await envoy.update()
            assert (envoy.capabilities, envoy.source_status) == (caps, status)
        warm = gw.log.counts
    assert sum(warm.values()) < sum(cold.values())
    assert warm["/info"] == 1 and warm["/production.json"] == 1
    assert warm.get(PROBE_ONLY, 0) == 0 and cold[PROBE_ONLY] == 1
    assert second.battery is not None and second.meters and second.inverters
    assert set(second.to_dict()) == set(first.to_dict()) and second.errors == {}
    mode = stat.S_IMODE(cache.path.stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert gw.owner_token() not in cache.path.read_text()  # no secret in it


async def test_new_firmware_means_a_new_probe(tmp_path: Path) -> None:
    cache = ProbeCache(tmp_path / "probes.json")
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, probe_cache=cache) as envoy:
            await envoy.update()
        gw.faults.reboot(0.0, settle_s=0.0, firmware="D8.3.5433")  # an update overnight
        clock.advance(3600)
        gw.log.reset()
        async with envoy_for(gw, clock, probe_cache=cache) as envoy:
            await envoy.update()
            assert envoy.info.firmware == "D8.3.5433"
        assert gw.log.count(PROBE_ONLY) == 1  # probed again
        entry = json.loads(cache.path.read_text())["gateways"][gw.serial]
        assert entry["firmware"] == "D8.3.5433"


async def test_an_old_entry_is_not_used(tmp_path: Path) -> None:
    cache = ProbeCache(tmp_path / "probes.json", max_age_s=3600)
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, probe_cache=cache) as envoy:
            await envoy.update()
        clock.advance(3601)
        gw.log.reset()
        async with envoy_for(gw, clock, probe_cache=cache) as envoy:
            await envoy.update()
        assert gw.log.count(PROBE_ONLY) == 1


async def test_a_source_gone_since_means_a_new_probe(tmp_path: Path) -> None:
    cache = ProbeCache(tmp_path / "probes.json")
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, probe_cache=cache) as envoy:
            await envoy.update()
        gw.log.reset()
        gw.faults.apply_spec("fail-next=1:404@/ivp/meters/readings")
        async with envoy_for(gw, clock, probe_cache=cache) as envoy:
            snapshot = await envoy.update()
            assert envoy.source_status[SourceKey.METERS_READINGS] is SourceStatus.OK
        assert gw.log.count(PROBE_ONLY) == 1  # the remembered probe was wrong: probed for real
        assert gw.log.count("/ivp/meters/readings") == 2
    assert snapshot.meters


async def test_a_refusal_after_a_source_answered_is_no_reason_to_probe(tmp_path: Path) -> None:
    """Once a remembered source has answered, a later 404 is an ordinary failure (recovery)."""
    cache = ProbeCache(tmp_path / "probes.json")
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, probe_cache=cache) as envoy:
            await envoy.update()
        async with envoy_for(gw, clock, probe_cache=cache) as envoy:
            await envoy.update()
            gw.log.reset()
            gw.faults.apply_spec("fail-next=1:404@/ivp/meters/readings")
            clock.advance(60)
            snapshot = await envoy.update()
        assert gw.log.count(PROBE_ONLY) == 0
    assert "meters" in snapshot.errors


async def test_a_probe_with_a_failure_is_not_remembered(tmp_path: Path) -> None:
    """A source that timed out or failed may answer next time: nothing is kept for days."""
    cache = ProbeCache(tmp_path / "probes.json")
    async with gateway("battery-backup") as (gw, clock):
        gw.faults.apply_spec("fail-next=3:503@/ivp/ensemble/inventory")  # retries included
        async with envoy_for(gw, clock, probe_cache=cache) as envoy:
            await envoy.update()
            assert envoy.source_status[SourceKey.ENSEMBLE_INVENTORY] is SourceStatus.FAILED
    assert cache.recall(gw.serial, gw.firmware, "owner", clock.now()) is None


@pytest.mark.parametrize(
    ("sections", "wanted", "not_asked"),
    [
        (("meters",), {"/ivp/meters", "/ivp/meters/readings"}, {"/ivp/pdm/device_data"}),
        (("inverters",), {"/ivp/pdm/device_data"}, {"/ivp/meters", "/ivp/ensemble/power"}),
        (("battery",), {"/ivp/ensemble/power", "/ivp/ensemble/secctrl"}, {"/ivp/pdm/device_data"}),
    ],
)
async def test_update_of_some_sections_asks_only_their_sources(
    tmp_path: Path, sections: tuple[str, ...], wanted: set[str], not_asked: set[str]
) -> None:
    cache = ProbeCache(tmp_path / "probes.json")
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, probe_cache=cache) as envoy:
            await envoy.update()
        gw.log.reset()
        async with envoy_for(gw, clock, probe_cache=cache) as envoy:
            snapshot = await envoy.update(full=True, sections=sections)
        asked = set(gw.log.counts)
    assert wanted <= asked and not asked & not_asked, asked
    assert "/home" not in asked and "/production.json" in asked  # production: always
    assert snapshot.production is not None


async def test_unknown_section_is_a_value_error() -> None:
    async with gateway("battery-backup") as (gw, clock), envoy_for(gw, clock) as envoy:
        with pytest.raises(ValueError, match="meter"):
            await envoy.update(sections=("meter",))

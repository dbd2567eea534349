"""The storage controller's two sources end to end: read where they exist, at their period.

/ivp/sc/sched and /ivp/sc/status are described sources (their `Source` carries
the period and the probe rule): no client or engine code names them. These
tests hold the description to account against the simulator over sockets.
"""

from __future__ import annotations

from collections import Counter

from enphase_local.control import Outcome
from enphase_local.models.storage_controller import ControllerStatus, StorageSchedule
from enphase_local.sources.keys import SourceKey
from enphase_local.sources.storage_controller import SC_SCHED, SC_STATUS
from tests.simkit import envoy_for, gateway

PATHS = ("/ivp/sc/sched", "/ivp/sc/status")


async def test_read_after_the_first_snapshot_never_on_its_path() -> None:
    async with gateway("battery-backup") as (gw, clock), envoy_for(gw, clock) as envoy:
        await envoy.update()
        assert not {*PATHS} & set(gw.log.counts), "not probed: read after the first snapshot"
        clock.advance(60)
        await envoy.update()
        assert all(gw.log.count(path) == 1 for path in PATHS), gw.log.counts
        assert envoy.source_status[SourceKey.SC_SCHED].value == "ok"


async def test_read_at_a_settings_period_over_an_hour() -> None:
    """Two reads an hour each at most (30 minutes), like the tariff: never every update."""
    async with gateway("battery-backup") as (gw, clock), envoy_for(gw, clock) as envoy:
        await envoy.update()
        gw.log.reset()
        for _ in range(60):
            clock.advance(60)
            await envoy.update()
        counts = Counter(gw.log.counts)
    assert 1 <= counts["/ivp/sc/sched"] <= 2 and 1 <= counts["/ivp/sc/status"] <= 2, counts


async def test_not_asked_without_batteries() -> None:
    """The probe rule: no IQ Batteries, no request (a site without them answers 404)."""
    for preset in ("metered-split", "generator"):
        async with gateway(preset) as (gw, clock), envoy_for(gw, clock) as envoy:
            for _ in range(3):
                await envoy.update()
                clock.advance(1900)
            assert not {*PATHS} & set(gw.log.counts), (preset, gw.log.counts)
            assert SourceKey.SC_SCHED not in envoy.source_status


async def test_typed_read_follows_the_sites_charge_from_grid() -> None:
    """sched's "Charge From Grid Allowed" is the site's setting in effect, after a write too."""
    async with gateway("battery-backup") as (gw, clock), envoy_for(gw, clock) as envoy:
        before: StorageSchedule = await envoy.read(SC_SCHED)
        status: ControllerStatus = await envoy.read(SC_STATUS)
        tariff = await envoy.read("tariff")
        assert before.charge_from_grid_allowed is False
        assert getattr(tariff, "charge_from_grid", None) is False
        assert "ENC" in status.setpoints and status.setpoints["PV"] == 100.0
        result = await envoy.control.set_charge_from_grid(True)
        assert result.outcome is Outcome.CONFIRMED, result
        after = await envoy.read(SC_SCHED)
        assert after.charge_from_grid_allowed is True
        assert after.soc_percent is not None
        state = gw.backend.state()  # type: ignore[attr-defined]
        assert after.soc_percent == round(state["soc_percent"])

"""Off grid and back, against the simulated relay (it moves `relay_delay_s` = 15 s late)."""

from __future__ import annotations

import dataclasses

import pytest

from enphase_local.capabilities import Capability
from enphase_local.control import Outcome
from enphase_local.errors import EnvoyFeatureUnavailable
from enphase_local.simulator import PRESETS, SiteBackend
from tests.control.test_target import SimTarget


async def test_off_grid_confirmed_when_the_poll_outlasts_the_relay_delay() -> None:
    target = SimTarget("battery-backup")
    result = await target.control().go_off_grid()
    assert result.outcome is Outcome.CONFIRMED
    assert (result.before, result.after, result.requested) == ("closed", "open", "open")
    assert 15 <= result.elapsed_s <= 30
    assert [(w.method, w.path, w.json) for w in target.writes] == [
        ("POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"})
    ]
    # polled without hammering the gateway: first look after 5 s, then every 3 s
    assert target.reads.count("ensemble_inventory") <= 1 + 1 + (15 - 5) // 3 + 1


async def test_off_grid_pending_when_the_poll_time_runs_out_first() -> None:
    target = SimTarget("battery-backup")
    control = target.control()
    result = await control.go_off_grid(timeout_s=10)
    assert result.outcome is Outcome.PENDING
    assert result.after == "closed"
    assert "8 to 28 s" in result.message
    assert result.elapsed_s == pytest.approx(10)
    assert len(target.writes) == 1  # pending is never a reason to send again
    target.clock.advance(10)
    later = await control.verify_later(result)
    assert later.outcome is Outcome.CONFIRMED and later.after == "open"
    assert len(target.writes) == 1


async def test_default_poll_gives_up_after_about_30_s() -> None:
    target = SimTarget("battery-backup")
    slow = dataclasses.replace(PRESETS["battery-backup"], relay_delay_s=40.0)
    target.backend = SiteBackend(slow, target.clock)
    result = await target.control().go_off_grid()
    assert result.outcome is Outcome.PENDING
    assert result.elapsed_s == pytest.approx(30)


async def test_back_on_grid() -> None:
    target = SimTarget("battery-backup")
    control = target.control()
    assert (await control.go_off_grid()).outcome is Outcome.CONFIRMED
    back = await control.go_on_grid()
    assert back.outcome is Outcome.CONFIRMED
    assert (back.before, back.after) == ("open", "closed")
    assert target.writes[-1].json == {"mains_admin_state": "closed"}


async def test_dry_run_sends_nothing() -> None:
    target = SimTarget("battery-backup")
    result = await target.control().go_off_grid(dry_run=True)
    assert result.outcome is Outcome.DRY_RUN
    assert result.request.body == {"mains_admin_state": "open"}
    assert target.writes == []
    assert target.backend.controls.relay_admin == "closed"


async def test_without_enpower_nothing_is_sent() -> None:
    target = SimTarget("metered-split")
    with pytest.raises(EnvoyFeatureUnavailable, match="enpower"):
        await target.control().go_off_grid()
    assert target.writes == [] and target.reads == []


async def test_capability_but_no_enpower_in_inventory_sends_nothing() -> None:
    target = SimTarget("acb", capabilities=frozenset({Capability.ENPOWER}))
    with pytest.raises(EnvoyFeatureUnavailable, match="System Controller"):
        await target.control().go_off_grid()
    assert target.writes == []

"""Off grid and back, against the simulated relay (it moves `relay_delay_s` = 15 s late)."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from enphase_local.capabilities import Capability
from enphase_local.control import Outcome
from enphase_local.errors import EnvoyFeatureUnavailable
from enphase_local.models.ensemble import RelayState
from enphase_local.simulator import PRESETS, SiteBackend
from enphase_local.sources.ensemble import ENSEMBLE_INVENTORY
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


async def test_default_poll_gives_up_after_about_90_s() -> None:
    target = SimTarget("battery-backup")
    slow = dataclasses.replace(PRESETS["battery-backup"], relay_delay_s=100.0)
    target.backend = SiteBackend(slow, target.clock)
    result = await target.control().go_off_grid()
    assert result.outcome is Outcome.PENDING
    assert result.elapsed_s == pytest.approx(90)


class SynchronizingTarget(SimTarget):
    """8.3.6000+: the open relay reads ``open synchronizing``, then ``open synchronized``.

    The simulator's inventory body, with ``mains_oper_state`` rewritten the
    way that firmware reports it: `sync_s` seconds of ``open synchronizing``
    after the contacts open, then ``open synchronized``; never plain ``open``.
    """

    def __init__(self, *, relay_delay_s: float, sync_s: float = 10.0) -> None:
        super().__init__("battery-backup")
        config = dataclasses.replace(PRESETS["battery-backup"], relay_delay_s=relay_delay_s)
        self.backend = SiteBackend(config, self.clock)
        self.sync_s = sync_s
        self.opened_at: float | None = None
        self.seen: list[str] = []

    def get(self, key: str) -> bytes:
        body = super().get(key)
        if key != "ensemble_inventory":
            return body
        groups = orjson.loads(body)
        for group in groups:
            for device in group["devices"] if group["type"] == "ENPOWER" else ():
                state = device["mains_oper_state"]
                if state == "open":
                    now = self.clock.now()
                    self.opened_at = self.opened_at if self.opened_at is not None else now
                    sync = now - self.opened_at < self.sync_s
                    state = "open synchronizing" if sync else "open synchronized"
                device["mains_oper_state"] = state
                self.seen.append(state)
        return orjson.dumps(groups)


async def test_off_grid_confirmed_on_the_contact_state_while_synchronizing() -> None:
    """Issue 12 case 6: ``open synchronizing`` is open; the write ends confirmed."""
    target = SynchronizingTarget(relay_delay_s=28.0)
    result = await target.control().go_off_grid()
    assert result.outcome is Outcome.CONFIRMED
    assert (result.before, result.after, result.requested) == ("closed", "open", "open")
    assert 28 <= result.elapsed_s <= 28 + 3
    assert target.seen[-1] == "open synchronizing"
    inventory = await target.read(ENSEMBLE_INVENTORY)
    assert inventory.enpower.mains_oper_state is RelayState.OPEN
    assert inventory.enpower.mains_oper_substate == "synchronizing"
    target.clock.advance(20)
    inventory = await target.read(ENSEMBLE_INVENTORY)
    assert inventory.enpower.mains_oper_substate == "synchronized"


async def test_off_grid_after_a_long_battery_top_off_is_still_confirmed() -> None:
    """Topping the batteries off first can take a minute: the default poll outlasts it."""
    target = SynchronizingTarget(relay_delay_s=75.0)
    result = await target.control().go_off_grid()
    assert result.outcome is Outcome.CONFIRMED and result.after == "open"
    assert 75 <= result.elapsed_s <= 78
    assert len(target.writes) == 1


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

"""Export limiting through the feature table: its state, and its three controls, confirmed.

Against the simulated metered gateway that models DPEL and the production
switch (installer-only writes, the limit capping export in its physics).
Values are compared with the snapshot's JSON contract; every refusal is
proven to send nothing by the simulator's request log.
"""

from __future__ import annotations

from typing import Any

import pytest

from enphase_local.client import Envoy
from enphase_local.control import Outcome
from enphase_local.errors import EnvoyAuthError
from enphase_local.features import FEATURES, Readings, by_id, instances
from enphase_local.models.snapshot import Snapshot
from tests.client.test_envoy_export_limit import connected

STATE = ("export_limit_enabled", "export_limit_mode", "export_limit", "export_limit_active")
CONTROLS = ("export_limit_watts", "export_limiting", "production")


def _found(snap: Snapshot) -> dict[str, Any]:
    r = Readings(snap)
    return {i.uid: i.value(r) for i in instances(FEATURES, r)}


async def _set(envoy: Envoy, snap: Snapshot, fid: str, value: Any) -> Outcome:
    feature = by_id(fid)
    assert feature.set is not None
    result = await feature.set(envoy.control, "", value, Readings(snap))
    return result.outcome


def test_the_controls_are_off_by_default_and_the_state_is_not() -> None:
    for fid in CONTROLS:
        assert by_id(fid).writable and not by_id(fid).enabled_by_default, fid
    for fid in STATE:
        assert not by_id(fid).writable and by_id(fid).enabled_by_default, fid


async def test_zero_export_through_the_table_is_confirmed_and_shown() -> None:
    async with connected() as (envoy, _gw, clock):
        snap = await envoy.update(full=True)
        found = _found(snap)
        assert found["export_limit_enabled"] is False
        assert found["export_limit"] is None and found["export_limit_mode"] is None  # none set
        assert found["production"] is True and found["production_forced_off"] is False
        assert await _set(envoy, snap, "export_limit_watts", 0) is Outcome.CONFIRMED
        clock.advance(3600)  # the controller's status is read again (config cadence)
        snap = await envoy.update(full=True)
        doc, found = snap.to_dict()["export_limit"], _found(snap)
        assert doc["enabled"] is True and doc["limit_watts"] == 0.0
        assert found["export_limit_enabled"] is True
        assert found["export_limit"] == found["export_limit_watts"] == doc["limit_watts"]
        assert found["export_limit_mode"] == doc["mode"] == "export"
        assert found["export_limiting"] is True
        assert found["export_limit_active"] == doc["active"] is True  # sunny noon, zero export
        assert await _set(envoy, snap, "export_limit_watts", 500) is Outcome.CONFIRMED
        snap = await envoy.update(full=True)
        assert _found(snap)["export_limit"] == 500.0
        assert _found(snap)["export_limit_mode"] == "export"  # the mode in force is kept
        assert await _set(envoy, snap, "export_limiting", False) is Outcome.CONFIRMED
        snap = await envoy.update(full=True)
        assert _found(snap)["export_limit_enabled"] is False
        # on again: with no limit in force it means zero export
        assert await _set(envoy, snap, "export_limiting", True) is Outcome.CONFIRMED
        snap = await envoy.update(full=True)
        assert _found(snap)["export_limit"] == 0.0


async def test_the_production_switch_through_the_table() -> None:
    async with connected() as (envoy, _gw, _clock):
        snap = await envoy.update(full=True)
        assert await _set(envoy, snap, "production", False) is Outcome.CONFIRMED
        snap = await envoy.update(full=True)
        found = _found(snap)
        assert found["production"] is False and found["production_forced_off"] is True
        assert snap.to_dict()["export_limit"]["production_forced_off"] is True


async def test_an_owner_token_shows_the_state_and_every_control_is_refused_unsent() -> None:
    async with connected(role="owner") as (envoy, gw, _):
        snap = await envoy.update(full=True)
        found = _found(snap)
        assert found["export_limit_enabled"] is False  # this firmware lets an owner read it
        assert "production" not in found and "production_forced_off" not in found  # installer
        for fid, value in (("export_limit_watts", 0), ("export_limiting", True)):
            with pytest.raises(EnvoyAuthError, match="enphase token --installer"):
                await _set(envoy, snap, fid, value)
        with pytest.raises(EnvoyAuthError, match="installer"):
            await envoy.control.set_production(False)
    assert [e.endpoint for e in gw.log.entries if e.method in ("PUT", "POST", "DELETE")] == []


async def test_a_gateway_without_dpel_has_no_limit_entities_but_keeps_the_switch() -> None:
    async with connected(firmware="D7.6.175") as (envoy, _gw, _):
        snap = await envoy.update(full=True)
    found = _found(snap)
    assert not {*STATE, "export_limit_watts", "export_limiting"} & set(found)
    assert found["production"] is True  # the switch is older than DPEL

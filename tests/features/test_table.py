"""The feature table against simulated gateways: every value is the snapshot's, ids are stable.

Values are compared with the snapshot's JSON contract (`Snapshot.to_dict`, the
documented document), not with the table's own getters, so a wrong path in an
entry fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from enphase_local.control import Outcome
from enphase_local.features import FEATURES, Kind, Readings, Scope, by_id, instances
from enphase_local.models.live_frame import LiveFrame, LivePhase
from enphase_local.simulator import SimClock
from tests.simkit import envoy_for, gateway

PRESETS = (
    "standard",
    "battery-backup",
    "metered-3phase",
    "acb",
    "generator",
    "collar",
    "export-limit",
)


def sim_sleep(clock: SimClock):  # type: ignore[no-untyped-def]
    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    return sleep


async def _snapshot(preset: str):  # type: ignore[no-untyped-def]
    """The second snapshot: the first defers the slow settings sources (client.py)."""
    async with gateway(preset) as (gw, clock), envoy_for(gw, clock) as envoy:
        await envoy.update()
        return await envoy.update()


def test_ids_are_unique_and_entries_are_well_formed() -> None:
    ids = [f.id for f in FEATURES]
    assert len(ids) == len(set(ids))
    for f in FEATURES:
        assert f.id == f.id.lower() and " " not in f.id, f.id
        if f.kind in (Kind.NUMBER, Kind.SELECT, Kind.SWITCH, Kind.BUTTON, Kind.TIME):
            assert f.set is not None, f"{f.id}: a control without a setter"
        if f.kind is Kind.SELECT:
            assert f.options, f.id
        if f.state_class == "total_increasing":
            assert f.device_class == "energy" and f.unit == "Wh", f.id
    assert by_id("reserve_soc").kind is Kind.NUMBER
    with pytest.raises(KeyError):
        by_id("no_such_feature")


@pytest.mark.parametrize("preset", PRESETS)
async def test_values_equal_the_json_contract(preset: str) -> None:
    snap = await _snapshot(preset)
    doc = snap.to_dict()
    r = Readings(snap)
    found = {i.uid: i.value(r) for i in instances(FEATURES, r)}
    assert found, preset
    assert found["production_power"] == doc["production"]["watts"]
    assert found["production_lifetime"] == doc["production"]["wh_lifetime"]
    assert found["last_update"] == doc["taken_at"]
    for serial, inv in doc["inverters"].items():
        assert found[f"inverter_power_{serial}"] == inv["watts"]
    for name, meter in doc["meters"].items():
        uid = name.replace("-", "_")
        if meter["state"] != "enabled":  # a CT the installer left off has no readings
            assert f"ct_power_{uid}" not in found
            continue
        assert found[f"ct_power_{uid}"] == meter["watts"]
        assert found[f"ct_energy_delivered_{uid}"] == meter["wh_delivered"]
        assert found[f"ct_metering_status_{uid}"] == meter["status"]
    for phase, flows in doc["phases"].items():
        assert found[f"production_power_phase_{phase.lower()}"] == flows["production"]["watts"]
    flow = doc["power_flow"]
    for name in ("solar", "house", "grid", "battery", "generator"):
        if flow[f"{name}_watts"] is None:
            assert f"live_{name}_power" not in found
        else:
            assert found[f"live_{name}_power"] == flow[f"{name}_watts"]
    for flow, value in (doc.get("energy") or {}).get("lifetime_wh", {}).items():
        assert found.get(f"energy_{flow}_lifetime") == value, flow
    for flow, value in (doc.get("energy") or {}).get("today_wh", {}).items():
        assert found.get(f"energy_{flow}_today") == value, flow
    if doc.get("energy"):
        for flow in doc["energy"]["lifetime_wh"]:
            extra = by_id(f"energy_{flow}_lifetime").extra(r)
            assert extra == {"derived": flow in doc["energy"]["derived"]}, flow
    else:
        assert by_id("energy_solar_lifetime").extra(r) == {}  # nothing to say without it
    if doc["battery"] is not None:
        assert found["battery_level"] == doc["battery"]["soc_percent"]
        for serial, unit in doc["battery"]["units"].items():
            assert found[f"battery_unit_level_{serial}"] == unit["soc_percent"]
    if doc["tariff"] is not None:
        assert found["storage_mode"] == doc["tariff"]["storage_mode"]
        assert found["charge_from_grid"] == doc["tariff"]["charge_from_grid"]
    for cid, contact in doc["dry_contacts"].items():
        assert found[f"dry_contact_{cid.lower()}"] == (contact["status"] == "closed")
        if contact["type"] is not None:  # settings known: the number exists, even when unset
            assert found[f"dry_contact_soc_low_{cid.lower()}"] == contact["soc_low"]
    if doc["generator"] is not None and doc["generator"]["mode"] is not None:
        assert found["generator_mode"] == doc["generator"]["mode"]
    for f in FEATURES:
        if f.kind is Kind.SELECT:
            for key in (k for k in found if k.startswith(f.id)):
                assert found[key] in f.options, key


async def test_every_entry_exists_on_some_site_and_sites_differ() -> None:
    """No dead entries: each feature appears on at least one preset (energy: once it lands)."""
    seen: set[str] = set()
    per_site: dict[str, set[str]] = {}
    for preset in PRESETS:
        snap = await _snapshot(preset)
        ids = {i.feature.id for i in instances(FEATURES, Readings(snap, token_expires_at=1, now=0))}
        per_site[preset] = ids
        seen |= ids
    energy_landed = hasattr(snap, "energy")
    missing = {f.id for f in FEATURES} - seen
    if not energy_landed:
        missing = {m for m in missing if not m.startswith("energy_")}
    # a derived counter's "today" is known only after the site's first midnight
    missing = {m for m in missing if not (m.startswith("energy_") and m.endswith("_today"))}
    if energy_landed:
        missing.discard("energy_generator_lifetime")  # no preset runs its generator yet
    # with an owner token and no limit set: test_export_limit_features.py has them
    missing -= {"production", "production_forced_off"}
    assert missing == set()
    assert "storage_mode" not in per_site["standard"]  # no battery, no storage control
    assert "live_battery_power" not in per_site["metered-3phase"]


async def test_absent_paths_make_no_entry() -> None:
    """An entry whose value path is missing (no such section, no such attribute) does not exist."""
    snap = await _snapshot("standard")
    r = Readings(snap)
    ids = {i.uid for i in instances(FEATURES, r)}
    assert snap.battery is None and "battery_level" not in ids
    assert not hasattr(snap, "energy") or snap.energy is None or "energy_solar_lifetime" in ids
    assert "token_days_left" not in ids  # no token expiry known
    with_token = {
        i.uid for i in instances(FEATURES, Readings(snap, token_expires_at=86400 * 3, now=0))
    }
    assert "token_days_left" in with_token
    assert by_id("token_days_left").value(Readings(snap, token_expires_at=86400 * 3, now=0)) == 3.0


async def test_live_features_follow_the_newest_frame() -> None:
    snap = await _snapshot("metered-3phase")
    frame = LiveFrame(
        taken_at=snap.taken_at + 1,
        source="stream_meter",
        solar_watts=1234.0,
        house_watts=2000.0,
        grid_watts=766.0,
        phases={"L1": LivePhase(solar_watts=400.0)},
    )
    r = Readings(snap, frame=frame)
    assert by_id("live_solar_power").value(r) == 1234.0
    assert by_id("live_solar_power_phase").value(r, "L1") == 400.0
    # the snapshot's own values are untouched by a live frame
    assert by_id("production_power").value(r) == snap.production.watts  # type: ignore[union-attr]


def test_core_unique_ids_follow_the_core_integration() -> None:
    """Spot checks of templates against ids the core enphase_envoy integration makes."""
    templates: dict[str, Any] = {f.id: f.core_unique_id for f in FEATURES}
    assert templates["production_power"] == "{serial}_production"
    assert templates["inverter_power"] == "{key}"
    assert templates["dry_contact"] == "{enpower}_relay_{key}_relay_status"
    assert templates["ct_energy_delivered"]["storage"] == "{serial}_lifetime_battery_discharged"
    assert by_id("battery_unit_level").scope is Scope.BATTERY


async def test_core_ids_are_unique_on_a_full_site() -> None:
    snap = await _snapshot("battery-backup")
    r = Readings(snap)
    core = [i.feature.core_id(snap.gateway.serial, i.key, snap) for i in instances(FEATURES, r)]
    named = [c for c in core if c is not None]
    assert len(named) == len(set(named))
    assert f"{snap.gateway.serial}_production" in named


@pytest.mark.parametrize(
    ("feature_id", "value", "read_back"),
    [
        ("reserve_soc", 35, 35.0),
        ("storage_mode", "backup", "backup"),
        ("charge_from_grid", True, True),
    ],
)
async def test_setting_a_control_through_the_table_is_confirmed(
    feature_id: str, value: Any, read_back: Any
) -> None:
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, sleep=sim_sleep(clock)) as envoy:
            snap = await envoy.update()
            feature = by_id(feature_id)
            assert feature.set is not None
            result = await feature.set(envoy.control, "", value, Readings(snap))
            assert result.outcome is Outcome.CONFIRMED, result.message
            after = await envoy.update()
            assert feature.value(Readings(after)) == read_back


async def test_a_dry_contact_setting_through_the_table() -> None:
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, sleep=sim_sleep(clock)) as envoy:
            snap = await envoy.update()
            cid = next(iter(snap.dry_contacts))
            feature = by_id("dry_contact_soc_low")
            assert feature.set is not None
            result = await feature.set(envoy.control, cid, 25, Readings(snap))
            assert result.outcome in (Outcome.CONFIRMED, Outcome.PENDING), result.message


def test_the_home_assistant_doc_lists_every_feature() -> None:
    """docs/home-assistant.md's entity table is the table: a new entry needs its row."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "home-assistant.md").read_text()
    rows = {
        line.split("|")[1].strip().strip("`") for line in doc.splitlines() if line.startswith("| `")
    }
    assert rows == {f.id for f in FEATURES}

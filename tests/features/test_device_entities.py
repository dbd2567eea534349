"""The per-device entries: CT diagnostics and the net CT per phase, battery status, collar, C6.

Each value is compared with the snapshot's JSON contract (`Snapshot.to_dict`),
never with the table's own getter, on the preset or real capture that has
it; and where a site lacks the device, the entry makes no instance.
"""

from __future__ import annotations

from typing import Any

import pytest

from enphase_local.control import Outcome
from enphase_local.features import FEATURES, Readings, by_id, instances
from enphase_local.models.snapshot import Snapshot
from tests.features.test_table import sim_sleep
from tests.simkit import envoy_for, gateway
from tests.support import REAL, needs_real, real_folders

COLLAR = ("collar_grid", "collar_state", "collar_mid_state", "collar_temperature")
C6 = ("c6_state", "c6_communicating", "c6_last_report")


async def _snapshot(preset: str | None = None, folder: str | None = None) -> Snapshot:
    place = REAL / folder if folder else None
    async with gateway(preset, folder=place) as (gw, clock), envoy_for(gw, clock) as envoy:
        await envoy.update()
        return await envoy.update(full=True)


def _found(snap: Snapshot) -> dict[str, Any]:
    r = Readings(snap)
    return {i.uid: i.value(r) for i in instances(FEATURES, r)}


def _check_collar_and_c6(snap: Snapshot) -> None:
    doc, found = snap.to_dict(), _found(snap)
    collar, c6 = doc["collar"], doc["c6cc"]
    cs, c6s = collar["serial"], c6["serial"]
    assert found[f"collar_grid_{cs}"] == (collar["grid_state"] == "on_grid")
    assert found[f"collar_state_{cs}"] == collar["admin_state_str"]
    assert found[f"collar_mid_state_{cs}"] == collar["mid_state"]
    assert found[f"collar_temperature_{cs}"] == collar["temperature_c"]
    assert found[f"collar_communicating_{cs}"] == collar["communicating"]
    assert found[f"collar_last_report_{cs}"] == collar["last_report"]
    assert found[f"c6_state_{c6s}"] == c6["admin_state_str"]
    assert found[f"c6_communicating_{c6s}"] == c6["communicating"]
    assert found[f"c6_firmware_{c6s}"] == c6["firmware"]


async def test_the_collar_and_combiner_on_the_simulated_collar_site() -> None:
    _check_collar_and_c6(await _snapshot("collar"))


@needs_real
async def test_the_collar_and_combiner_of_a_real_gateway() -> None:
    snap = await _snapshot(folder="8.3.1598_collar")
    _check_collar_and_c6(snap)
    found = _found(snap)
    assert found["collar_state_482520020939"] == "ENCMN_MDE_ON_GRID"
    assert found["collar_grid_482520020939"] is True
    assert found["c6_state_482523040549"] == "ENCMN_C6_CC_READY"


@pytest.mark.parametrize("preset", ["standard", "battery-backup", "acb"])
async def test_no_collar_no_collar_entities(preset: str) -> None:
    ids = {i.feature.id for i in instances(FEATURES, Readings(await _snapshot(preset)))}
    assert not ids & {*COLLAR, *C6}


async def test_ct_diagnostics_and_the_net_ct_per_phase() -> None:
    snap = await _snapshot("metered-3phase")
    doc, found = snap.to_dict(), _found(snap)
    checked = 0
    for name, meter in doc["meters"].items():
        uid = name.replace("-", "_")
        if meter["state"] != "enabled":
            continue
        assert found[f"ct_current_{uid}"] == meter["amps"]
        assert found[f"ct_power_factor_{uid}"] == meter["power_factor"]
        assert found[f"ct_frequency_{uid}"] == meter["hz"]
        checked += 1
    assert checked >= 2
    net = doc["meters"]["net-consumption"]["phases"]
    assert set(net) == {"L1", "L2", "L3"}
    for phase, ch in net.items():
        assert found[f"ct_net_power_phase_{phase.lower()}"] == ch["watts"]
        assert found[f"ct_net_import_phase_{phase.lower()}"] == ch["wh_delivered"]
        assert found[f"ct_net_export_phase_{phase.lower()}"] == ch["wh_received"]
        assert found[f"ct_net_voltage_phase_{phase.lower()}"] == ch["volts"]
        assert found[f"ct_net_current_phase_{phase.lower()}"] == ch["amps"]
        assert found[f"ct_net_frequency_phase_{phase.lower()}"] == ch["hz"]
        assert found[f"ct_net_power_factor_phase_{phase.lower()}"] == ch["power_factor"]
    assert not any(uid.startswith("ct_storage_") for uid in found)  # no storage CT here
    standard = {i.feature.id for i in instances(FEATURES, Readings(await _snapshot("standard")))}
    assert not {"ct_current", "ct_power_factor", "ct_net_power_phase"} & standard


async def test_battery_units_reserve_energy_and_firmware() -> None:
    snap = await _snapshot("battery-backup")
    doc, found = snap.to_dict(), _found(snap)
    units = doc["battery"]["units"]
    assert units
    for serial, unit in units.items():
        assert found[f"battery_unit_communicating_{serial}"] == unit["communicating"] is True
        assert found[f"battery_unit_dc_switch_{serial}"] == (not unit["dc_switch_off"])
    storage = doc["meters"]["storage"]["phases"]
    assert storage
    for phase, ch in storage.items():
        assert found[f"ct_storage_power_phase_{phase.lower()}"] == ch["watts"]
        assert found[f"ct_storage_discharged_phase_{phase.lower()}"] == ch["wh_delivered"]
        assert found[f"ct_storage_charged_phase_{phase.lower()}"] == ch["wh_received"]
    assert doc["battery"]["reserve_wh"] is not None
    assert found["battery_reserve_energy"] == doc["battery"]["reserve_wh"]
    assert found["firmware"] == doc["gateway"]["firmware"] == "D8.3.5167"
    assert by_id("battery_reserve_energy").core_id("S", "", snap) == "S_reserve_energy"


async def test_the_ac_battery_state() -> None:
    snap = await _snapshot("acb")
    found = _found(snap)
    assert found["acb_state"] == snap.to_dict()["acb"]["state"]
    assert found["acb_state"] in by_id("acb_state").options


def test_core_ids_of_the_new_ct_entries() -> None:
    """Templates as the core enphase_envoy integration (2025.4) names these entities."""
    current = by_id("ct_current").core_unique_id
    assert isinstance(current, dict)
    assert current == {
        "net-consumption": "{serial}_net_ct_current",
        "production": "{serial}_production_ct_current",
        "storage": "{serial}_storage_ct_current",
    }
    pf = by_id("ct_power_factor").core_unique_id
    assert isinstance(pf, dict) and pf["net-consumption"] == "{serial}_net_ct_powerfactor"
    assert (
        by_id("ct_net_import_phase").core_unique_id == "{serial}_lifetime_net_consumption_{phase}"
    )
    assert by_id("battery_unit_dc_switch").core_unique_id == "{key}_dc_switch"


async def test_an_ac_battery_sleeps_and_wakes_through_the_table_confirmed() -> None:
    async with gateway("acb") as (gw, clock):
        async with envoy_for(gw, clock, sleep=sim_sleep(clock)) as envoy:
            snap = await envoy.update(full=True)
            serial = next(iter(snap.acb.units))  # type: ignore[union-attr]
            feature = by_id("acb_unit_sleep")
            assert feature.set is not None
            assert feature.value(Readings(snap), serial) is False
            asleep = await feature.set(envoy.control, serial, True, Readings(snap))
            assert asleep.outcome is Outcome.CONFIRMED, asleep.message
            unit = snap.acb.units[serial]  # type: ignore[union-attr]
            window = [unit.sleep_min_soc_percent, unit.sleep_max_soc_percent]
            assert None not in window  # the preset keeps a window: the switch uses it
            assert asleep.after == {serial: window}
            snap = await envoy.update(full=True)
            assert feature.value(Readings(snap), serial) is True
            assert snap.to_dict()["acb"]["units"][serial]["sleep_enabled"] is True
            awake = await feature.set(envoy.control, serial, False, Readings(snap))
            assert awake.outcome is Outcome.CONFIRMED, awake.message
            snap = await envoy.update(full=True)
            assert feature.value(Readings(snap), serial) is False


@needs_real
@pytest.mark.parametrize("folder", real_folders())
async def test_every_entry_on_every_real_capture_is_well_formed(folder: str) -> None:
    """Home Assistant refuses an enum state outside its options, and a number that is not one."""
    snap = await _snapshot(folder=folder)
    r = Readings(snap)
    for inst in instances(FEATURES, r):
        value, f = inst.value(r), inst.feature
        if f.device_class == "enum" and value is not None:
            assert value in f.options, (inst.uid, value)
        if f.unit is not None and value is not None and f.device_class != "timestamp":
            assert isinstance(value, int | float) and not isinstance(value, bool), inst.uid

"""Each source's period is its data's own rhythm, and the battery join follows the live source.

The plan (`probe.plan`) is where a source's rhythm is decided; the battery
view must then take the bank's state of charge from the source read every
update (ensemble/power), since secctrl is read only every 30 minutes.
"""

from __future__ import annotations

import dataclasses

import pytest

from enphase_local.capabilities import Capability
from enphase_local.engine.battery import summarize_encharge
from enphase_local.engine.joins import compose_battery
from enphase_local.engine.rhythm import plan
from enphase_local.sources.ensemble import (
    parse_ensemble_inventory,
    parse_ensemble_power,
    parse_ensemble_secctrl,
)
from enphase_local.sources.keys import SourceKey
from tests.support import needs_real, real_body

BATTERY_SITE = frozenset(
    {
        Capability.METERS,
        Capability.PRODUCTION_CT,
        Capability.ENCHARGE,
        Capability.ENPOWER,
        Capability.INVERTER_DETAILS,
    }
)


def _plan(caps: frozenset[Capability]) -> dict[SourceKey, float]:
    return plan(caps, production_key=SourceKey.PRODUCTION_JSON, ensemble_probed=True)


def test_battery_units_are_live_and_secctrl_is_a_setting() -> None:
    periods = _plan(BATTERY_SITE)
    assert periods[SourceKey.ENSEMBLE_POWER] == 0  # per-unit SoC and power, every update
    assert periods[SourceKey.ENSEMBLE_SECCTRL] == 30 * 60  # reserve, capacities, health
    assert periods[SourceKey.METERS_READINGS] == 0
    assert periods[SourceKey.ENSEMBLE_INVENTORY] == 300  # the Enpower's grid relay


def test_a_storage_ct_leaves_the_units_to_the_report_rhythm() -> None:
    """Issue 31: the storage CT gives the bank's power every minute with the other
    flows; the units' SoC and share then follow every 5 minutes (48 requests an
    hour fewer). Without CT readings the units stay the battery's live source."""
    with_ct = plan(
        BATTERY_SITE,
        production_key=SourceKey.PRODUCTION_JSON,
        ensemble_probed=True,
        storage_ct=True,
    )
    assert with_ct[SourceKey.ENSEMBLE_POWER] == 300
    assert with_ct[SourceKey.METERS_READINGS] == 0  # the storage CT itself: every update
    no_readings = plan(
        BATTERY_SITE - {Capability.METERS},
        production_key=SourceKey.PRODUCTION_JSON,
        ensemble_probed=True,
        storage_ct=True,
    )
    assert no_readings[SourceKey.ENSEMBLE_POWER] == 0


def test_production_json_with_ct_re_anchors_counters_every_15_minutes() -> None:
    assert _plan(BATTERY_SITE)[SourceKey.PRODUCTION_JSON] == 15 * 60
    # ... but an AC Battery's bank is only there: the report rhythm.
    assert _plan(BATTERY_SITE | {Capability.ACB})[SourceKey.PRODUCTION_JSON] == 300
    # Without /ivp/meters, production.json's CT figures are the live power.
    no_meters = BATTERY_SITE - {Capability.METERS}
    assert _plan(no_meters)[SourceKey.PRODUCTION_JSON] == 0


def test_a_batteries_only_inventory_is_read_every_15_minutes() -> None:
    periods = _plan(BATTERY_SITE - {Capability.ENPOWER})
    assert periods[SourceKey.ENSEMBLE_INVENTORY] == 15 * 60
    collar = BATTERY_SITE - {Capability.ENPOWER} | {Capability.COLLAR}
    assert _plan(collar)[SourceKey.ENSEMBLE_INVENTORY] == 300  # its grid relay


@needs_real
@pytest.mark.parametrize(
    ("folder", "soc", "available"),
    [("8.1.41", 92, 9176), ("7.3.517_system_2", 96, 9710), ("8.3.1598_collar", 89, 8900)],
)
def test_units_soc_newer_than_secctrl_is_the_gateways_own_aggregate(
    folder: str, soc: float, available: float
) -> None:
    """From the units alone, the same SoC and energy the gateway's secctrl says (captures)."""
    bodies = [real_body(folder, f"ivp_ensemble_{n}") for n in ("inventory", "power", "secctrl")]
    inv_raw, power_raw, agg_raw = bodies
    assert inv_raw is not None and power_raw is not None and agg_raw is not None
    inventory = parse_ensemble_inventory(inv_raw)
    power = parse_ensemble_power(power_raw)
    agg = parse_ensemble_secctrl(agg_raw)
    assert agg.soc_percent == soc and agg.available_wh == available
    # secctrl read 29 minutes ago, when the bank was 10 points emptier
    stale = dataclasses.replace(agg, soc_percent=soc - 10, available_wh=available - 1000)
    read_at = {SourceKey.ENSEMBLE_SECCTRL: 1000.0, SourceKey.ENSEMBLE_POWER: 1000.0 + 29 * 60}
    view = compose_battery(inventory, power, stale, read_at)
    assert view is not None
    assert (view.soc_percent, view.available_wh) == (soc, available)
    assert view.reserve_soc_percent == agg.adjusted_backup_soc_percent  # still secctrl's


@needs_real
def test_secctrl_read_after_the_units_is_preferred() -> None:
    inv = parse_ensemble_inventory(real_body("8.1.41", "ivp_ensemble_inventory") or b"[]")
    power = parse_ensemble_power(real_body("8.1.41", "ivp_ensemble_power") or b"{}")
    agg = parse_ensemble_secctrl(real_body("8.1.41", "ivp_ensemble_secctrl") or b"{}")
    newer = dataclasses.replace(agg, soc_percent=50.0)
    view = summarize_encharge(inv, power, newer, units_live=False)
    assert view is not None and view.soc_percent == 50

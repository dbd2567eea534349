"""Issue 12: one regression test per numbered case, on capture-derived gateways.

Each test copies a real capture, changes only what the case describes, and
reads it with the real client over sockets (see `derived`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from enphase_local.capabilities import Capability
from enphase_local.models.ensemble import RelayState
from enphase_local.models.tariff import StorageMode
from tests.conformance.derived import (
    derive_folder,
    edit_json,
    edit_text,
    read_settled,
    read_snapshot,
)
from tests.support import REAL, needs_real

pytestmark = needs_real


def _clean_cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ENPHASE_* from the developer's shell, no real config file or token store."""
    for name in list(os.environ):
        if name.startswith("ENPHASE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ENPHASE_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("ENPHASE_TOKEN_STORE", str(tmp_path / "store" / "tokens.json"))


# -- 3: modGone with active ---------------------------------------------------------------


async def test_case3_mod_gone_but_active_inverters_keep_details(tmp_path: Path) -> None:
    """Working IQ7+ units flagged ``modGone: true`` with ``active: true`` keep their details."""
    folder = derive_folder("8.3.5169_with_generator", tmp_path)

    def flag_gone(doc: dict[str, Any]) -> None:
        for value in doc.values():
            if isinstance(value, dict) and value.get("devName") == "pcu":
                value["modGone"] = True

    edit_json(folder, "ivp_pdm_device_data", flag_gone)
    _, snap = await read_snapshot(folder)
    assert len(snap.inverters) == 20
    assert all(view.detail is not None for view in snap.inverters.values())
    assert snap.inverters["482208990001"].detail is not None


async def test_case3_inactive_inverters_are_still_dropped(tmp_path: Path) -> None:
    """A removed unit reads ``active: false``: it leaves the detailed list, nothing else."""
    folder = derive_folder("8.3.5169_with_generator", tmp_path)
    removed: list[str] = []

    def deactivate_one(doc: dict[str, Any]) -> None:
        for value in doc.values():
            if isinstance(value, dict) and value.get("devName") == "pcu":
                value["active"] = False
                removed.append(value["sn"])
                return

    edit_json(folder, "ivp_pdm_device_data", deactivate_one)
    _, snap = await read_snapshot(folder)
    (serial,) = removed
    # the basic endpoint still lists it; the others keep their details
    assert snap.inverters[serial].detail is None
    assert sum(v.detail is not None for v in snap.inverters.values()) == 19


# -- 1: no <imeter> on a metered 4.x Envoy-S ----------------------------------------------


async def test_case1_missing_imeter_is_unknown_and_meters_are_read(tmp_path: Path) -> None:
    """A metered 4.x whose /info has no ``<imeter>``: CTs are still asked for and reported."""
    folder = derive_folder("4.10.35", tmp_path)
    edit_text(folder, "info", "<imeter>true</imeter>", "")
    envoy, snap = await read_snapshot(folder)
    assert envoy.info.imeter is None
    assert snap.gateway.metered is True
    assert Capability.METERS in envoy.capabilities
    assert {m.split("#")[0] for m in snap.meters} == {"production", "net-consumption"}
    meter = next(m for k, m in snap.meters.items() if k.startswith("production"))
    assert meter.reading is not None and meter.reading.watts == 166.489
    assert snap.to_dict()["gateway"]["metered"] is True


async def test_case1_eim_entry_brings_the_meters_even_when_imeter_says_false(
    tmp_path: Path,
) -> None:
    """production.json lists eim entries: probe /ivp/meters whatever ``<imeter>`` says."""
    folder = derive_folder("4.10.35", tmp_path)
    edit_text(folder, "info", "<imeter>true</imeter>", "<imeter>false</imeter>")
    envoy, snap = await read_snapshot(folder)
    assert envoy.info.imeter is False
    assert Capability.METERS in envoy.capabilities and len(snap.meters) == 2
    assert snap.gateway.metered is True  # it measures: the flag was wrong


async def test_case1_not_metered_gateways_stay_not_metered() -> None:
    """Control: /info says false and no CT answers (4.2.27 lists only an inactive eim)."""
    _, snap = await read_snapshot(REAL / "4.2.27")
    assert snap.meters == {} and snap.gateway.metered is False


# -- 2: 8.3.5433 total equals net, per phase ----------------------------------------------


def _total_as_net(doc: dict[str, Any]) -> None:
    """8.3.5433's bug: the total-consumption entry (and each line) repeats the net values."""
    entries = {e["measurementType"]: e for e in doc["consumption"]}
    total, net = entries["total-consumption"], entries["net-consumption"]
    for key in ("wNow", "whLifetime"):
        total[key] = net[key]
    for t_line, n_line in zip(total["lines"], net["lines"], strict=True):
        for key in ("wNow", "whLifetime"):
            t_line[key] = n_line[key]


def _lines(doc: dict[str, Any], section: str, kind: str) -> list[dict[str, Any]]:
    entry = next(e for e in doc[section] if e.get("measurementType") == kind)
    lines: list[dict[str, Any]] = entry["lines"]
    return lines


async def test_case2_split_phase_total_repaired_on_every_line(tmp_path: Path) -> None:
    """Split phase, no total CT: each phase's house lifetime is net + production."""
    folder = derive_folder("8.3.5169_with_generator", tmp_path)
    edit_text(folder, "info", "D8.3.5169", "D8.3.5433")
    edit_json(folder, "production.json_details_1", _total_as_net)
    doc = json.loads((folder / "production.json_details_1").read_text())
    net = _lines(doc, "consumption", "net-consumption")
    prod = _lines(doc, "production", "production")
    _, snap = await read_snapshot(folder)
    assert snap.gateway.firmware == "D8.3.5433"
    assert set(snap.phases) == {"L1", "L2"}
    for i, name in enumerate(("L1", "L2")):
        house = snap.phases[name].consumption
        assert house is not None
        expected = net[i]["whLifetime"] + prod[i]["whLifetime"]
        assert house.wh_lifetime == pytest.approx(expected, abs=0.01)
        assert house.wh_lifetime != pytest.approx(net[i]["whLifetime"])
    assert snap.consumption is not None
    assert snap.consumption.wh_lifetime == pytest.approx(
        sum(n["whLifetime"] + p["whLifetime"] for n, p in zip(net, prod, strict=False)),
        rel=1e-6,
    )


async def test_case2_three_phase_total_ct_gives_its_own_readings(tmp_path: Path) -> None:
    """Three phase with a load-side (total-consumption) CT: each phase takes the CT's values."""
    folder = derive_folder("7.3.466_with_cts_3phase", tmp_path)
    edit_text(folder, "info", "D7.3.466", "D8.3.5433")

    def load_side(meters: list[dict[str, Any]]) -> None:
        for meter in meters:
            if meter["measurementType"] == "net-consumption":
                meter["measurementType"] = "total-consumption"

    edit_json(folder, "ivp_meters", load_side)
    edit_json(folder, "production.json", _total_as_net)
    readings = json.loads((folder / "ivp_meters_readings").read_text())
    ct = next(r for r in readings if r["eid"] == 704643584)
    _, snap = await read_snapshot(folder)
    assert set(snap.phases) == {"L1", "L2", "L3"}
    for i, name in enumerate(("L1", "L2", "L3")):
        house = snap.phases[name].consumption
        assert house is not None
        channel = ct["channels"][i]
        own = channel["actEnergyDlvd"] - channel["actEnergyRcvd"]  # the gateway's definition
        assert house.wh_lifetime == pytest.approx(own, abs=0.01)
        assert house.watts == pytest.approx(ct["channels"][i]["activePower"], abs=0.01)
    assert snap.consumption is not None
    own = ct["actEnergyDlvd"] - ct["actEnergyRcvd"]
    assert ct["actEnergyRcvd"] > 100  # the case is worth testing: received is not negligible
    assert snap.consumption.wh_lifetime == pytest.approx(own, abs=0.01)


# -- 7: storage modes newer firmware reports ----------------------------------------------

NEW_MODE = "ai-optimisation"  # stands for any mode name this library does not know


def _new_mode(doc: dict[str, Any]) -> None:
    doc["tariff"]["storage_settings"]["mode"] = NEW_MODE


async def test_case7_unknown_storage_mode_keeps_its_name_in_the_contract(
    tmp_path: Path,
) -> None:
    folder = derive_folder("8.2.127_with_3cts_and_battery_split", tmp_path)
    edit_json(folder, "admin_lib_tariff", _new_mode)
    _, snap = await read_snapshot(folder)
    assert snap.tariff is not None
    assert snap.tariff.storage_mode is StorageMode.UNKNOWN
    assert snap.tariff.storage_mode_name == NEW_MODE
    doc = snap.to_dict()
    assert doc["tariff"]["storage_mode"] == NEW_MODE
    assert doc["tariff"]["storage_mode_raw"] == NEW_MODE


def test_case7_cli_shows_the_gateway_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``enphase battery`` (table and JSON) shows the mode under the gateway's own name."""
    from tests.cli.conftest import SimThread, enphase

    _clean_cli_env(tmp_path, monkeypatch)
    folder = derive_folder("8.2.127_with_3cts_and_battery_split", tmp_path)
    edit_json(folder, "admin_lib_tariff", _new_mode)
    sim = SimThread(folder=folder)
    try:
        out = enphase("battery", sim.host, "--token", sim.token(), "--json")
        assert out.exit_code == 0, out.stderr
        assert json.loads(out.stdout)["tariff"]["storage_mode"] == NEW_MODE
        table = enphase("battery", sim.host, "--token", sim.token())
        assert NEW_MODE in table.stdout
    finally:
        sim.close()


# -- 4: legacy Envoy-R refusing the password behind public production pages ----------------


async def test_case4_envoy_r_refusing_the_password_still_gives_production() -> None:
    """R3.9.36: ``/production``, v1 and production.json answer without login; inverters not."""
    envoy, snap = await read_snapshot(REAL / "3.9.36", password="wrong1")
    raw = json.loads((REAL / "3.9.36" / "api_v1_production").read_text())
    assert envoy.auth_kind == "digest"
    assert snap.production is not None
    assert snap.production.wh_lifetime == raw["wattHoursLifetime"]
    assert snap.inverters == {}
    assert "refused the password for user 'envoy'" in snap.errors["inverters"]
    assert "/api/v1/production/inverters" in snap.errors["inverters"]
    assert "wrong1" not in json.dumps(snap.to_dict())


async def test_case4_good_password_reads_the_inverters_too() -> None:
    """Control: the same capture with the derived owner password lists its 12 inverters."""
    _, snap = await read_snapshot(REAL / "3.9.36")
    assert len(snap.inverters) == 12 and "inverters" not in snap.errors


def test_case4_cli_read_shows_what_it_has_and_one_password_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.cli.conftest import SimThread, enphase

    _clean_cli_env(tmp_path, monkeypatch)
    monkeypatch.setenv("ENPHASE_PASSWORD", "wrong1")
    sim = SimThread(folder=REAL / "3.9.36")
    try:
        out = enphase("read", sim.host)
    finally:
        sim.close()
    assert out.exit_code == 0, out.stderr
    text = " ".join(out.stdout.split())  # the terminal wraps long lines
    assert text.count("refused the password") == 1
    assert "error inverters: the gateway refused the password for user 'envoy'" in text
    assert "--password" in text and "wrong1" not in out.stdout + out.stderr
    assert "Solar" in text and "api/v1/production" in text  # what it has is shown


# -- 5: metered firmware 7 without CTs: v1 over the wrapping inverter section ---------------

WRAP_WH = 2**32 / 3600  # one microinverter's 32-bit joule counter


def _v1(folder: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((folder / "api_v1_production").read_text())
    return doc


def _inverters_section(folder: Path) -> dict[str, Any]:
    doc = json.loads((folder / "production.json").read_text())
    entry: dict[str, Any] = next(e for e in doc["production"] if e["type"] == "inverters")
    return entry


async def test_case5_metered_fw7_without_cts_prefers_v1() -> None:
    """7.6.175 (metered, no CTs): the inverter section wrapped 7 times; v1 did not."""
    folder = REAL / "7.6.175"
    v1, section = _v1(folder), _inverters_section(folder)
    wraps = (v1["wattHoursLifetime"] - section["whLifetime"]) / WRAP_WH
    assert round(wraps) == 7 and abs(wraps - 7) < 0.01  # the capture shows the wrap
    envoy, snap = await read_settled(folder)  # its /home gives the zone "today" is in
    assert envoy.info.imeter is True
    assert snap.production is not None
    assert snap.production.source == "api/v1/production"
    assert snap.production.wh_lifetime == v1["wattHoursLifetime"]
    assert snap.production.wh_today == v1["wattHoursToday"]
    assert snap.production.wh_last_7_days == v1["wattHoursSevenDays"]


async def test_case5_wrap_in_a_derived_capture(tmp_path: Path) -> None:
    """A metered no-CT 7.x whose inverter section just wrapped once: v1's lifetime wins."""
    folder = derive_folder("7.6.175", tmp_path)
    v1 = _v1(folder)

    def one_wrap(doc: dict[str, Any]) -> None:
        section = next(e for e in doc["production"] if e["type"] == "inverters")
        section["whLifetime"] = round(v1["wattHoursLifetime"] - WRAP_WH)

    edit_json(folder, "production.json", one_wrap)
    _, snap = await read_snapshot(folder)
    assert snap.production is not None
    assert snap.production.wh_lifetime == v1["wattHoursLifetime"]


async def test_case5_stale_v1_is_rejected(tmp_path: Path) -> None:
    """A v1 lifetime below the inverter section's is stale: production.json stays."""
    folder = derive_folder("7.6.175", tmp_path)
    section = _inverters_section(folder)
    edit_json(folder, "api_v1_production", lambda d: d.update(wattHoursLifetime=1583))
    _, snap = await read_snapshot(folder)
    assert snap.production is not None
    assert snap.production.source.startswith("production.json:inverters")
    assert snap.production.wh_lifetime == section["whLifetime"]


async def test_case5_v1_not_trusted_from_8_2_4264(tmp_path: Path) -> None:
    """The same site on 8.2.4264: v1 stalls there on metered units, so it is not used."""
    folder = derive_folder("7.6.175", tmp_path)
    edit_text(folder, "info", "D7.6.175", "D8.2.4264")
    _, snap = await read_snapshot(folder)
    assert snap.production is not None
    assert snap.production.source.startswith("production.json:inverters")


async def test_case5_all_zero_v1_is_ignored() -> None:
    """7.3.466 with its CTs disabled sends v1 all zero: the inverter section serves."""
    folder = REAL / "7.3.466_metered_disabled_cts"
    assert _v1(folder)["wattHoursLifetime"] == 0
    _, snap = await read_snapshot(folder)
    assert snap.production is not None
    assert snap.production.source.startswith("production.json:inverters")


async def test_case5_ac_battery_site_keeps_production_json(tmp_path: Path) -> None:
    """production.json's storage entry is the AC Battery bank: v1 must not replace it."""
    folder = derive_folder("7.6.175", tmp_path)
    acb = {
        "type": "acb",
        "activeCount": 3,
        "readingTime": 0,
        "wNow": -150,
        "whNow": 2400,
        "state": "charging",
        "percentFull": 67,
    }
    edit_json(folder, "production.json", lambda d: d.update(storage=[acb]))
    envoy, snap = await read_snapshot(folder)
    assert snap.production is not None
    assert snap.production.source.startswith("production.json:inverters")
    assert snap.acb is not None and snap.acb.soc_percent == 67
    assert Capability.ACB in envoy.capabilities


# -- 6: relay sub-states on 8.3.6000+ -----------------------------------------------------


async def test_case6_relay_substate_in_the_snapshot(tmp_path: Path) -> None:
    """An off-grid 8.3.6000+ Enpower: contact ``open``, sub-state ``synchronized``."""
    folder = derive_folder("8.3.5169_with_generator", tmp_path)
    edit_text(folder, "info", "D8.3.5169", "D8.3.6086")

    def off_grid(groups: list[dict[str, Any]]) -> None:
        for group in groups:
            for device in group["devices"] if group["type"] == "ENPOWER" else ():
                device["mains_admin_state"] = "open"
                device["mains_oper_state"] = "open synchronized"

    edit_json(folder, "ivp_ensemble_inventory", off_grid)
    _, snap = await read_snapshot(folder)
    assert snap.enpower is not None
    assert snap.enpower.mains_oper_state is RelayState.OPEN
    doc = snap.to_dict()["enpower"]
    assert (doc["mains_oper_state"], doc["mains_oper_substate"]) == ("open", "synchronized")
    assert (doc["mains_admin_state"], doc["mains_admin_substate"]) == ("open", None)

"""Issue 12: one regression test per numbered case, on capture-derived gateways.

Each test copies a real capture, changes only what the case describes, and
reads it with the real client over sockets (see `derived`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from enphase_local.capabilities import Capability
from tests.conformance.derived import derive_folder, edit_json, edit_text, read_snapshot
from tests.support import REAL, needs_real

pytestmark = needs_real


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

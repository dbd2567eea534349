"""Issue 12: one regression test per numbered case, on capture-derived gateways.

Each test copies a real capture, changes only what the case describes, and
reads it with the real client over sockets (see `derived`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conformance.derived import derive_folder, edit_json, read_snapshot
from tests.support import needs_real

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

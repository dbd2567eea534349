"""Issue 18 item 6: one-shot commands skip the probe the second time, and read only their part.

The probe cache is on by default, beside the token store; ``--reprobe``
(or ``ENPHASE_REPROBE=1``) probes afresh. Counted from the simulator's
request log over loopback sockets.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from .conftest import SimThread, enphase

PROBE_ONLY = "/ivp/ensemble/inventory"  # the probe asks it (storage?); `meters` does not need it


def _counts(sim: SimThread) -> dict[str, int]:
    return sim.call(lambda: sim.gw.log.counts)


def _reset(sim: SimThread) -> None:
    sim.call(sim.gw.log.reset)


def _meters(sim: SimThread, *more: str) -> dict[str, int]:
    _reset(sim)
    result = enphase("meters", sim.host, "--token", sim.token(), "--json", *more)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["meters"]
    return _counts(sim)


def test_meters_twice_uses_the_cache_beside_the_token_store(
    fresh_battery: SimThread, clean_env: Path
) -> None:
    cold = _meters(fresh_battery)
    cache = clean_env / "store" / "probes.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert fresh_battery.gw.serial in json.loads(cache.read_text())["gateways"]
    warm = _meters(fresh_battery)
    assert cold[PROBE_ONLY] == 1 and PROBE_ONLY not in warm
    # only what `meters` shows: identity, the token check, production, the CTs
    assert set(warm) == {
        "/info",
        "/auth/check_jwt",
        "/production.json",
        "/ivp/meters",
        "/ivp/meters/readings",
    }, warm
    again = _meters(fresh_battery, "--reprobe")
    assert again[PROBE_ONLY] == 1


def test_one_shot_meters_never_waits_for_home(fresh_battery: SimThread) -> None:
    """Cold or warm, `meters` asks neither /home nor the battery's settings."""
    cold = _meters(fresh_battery)
    assert "/home" not in cold and "/ivp/ss/pel_settings" not in cold, cold


def test_reprobe_from_the_environment(
    fresh_battery: SimThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    _meters(fresh_battery)
    monkeypatch.setenv("ENPHASE_REPROBE", "1")
    assert _meters(fresh_battery)[PROBE_ONLY] == 1
    monkeypatch.setenv("ENPHASE_REPROBE", "maybe")
    result = enphase("meters", fresh_battery.host, "--token", fresh_battery.token())
    assert result.exit_code == 2 and "ENPHASE_REPROBE" in result.stderr


def test_damaged_cache_is_a_warning_not_a_traceback(
    fresh_battery: SimThread, clean_env: Path
) -> None:
    cache = clean_env / "store" / "probes.json"
    cache.parent.mkdir(mode=0o700)
    cache.write_text("{garbage")
    result = enphase("read", fresh_battery.host, "--token", fresh_battery.token(), "--json")
    assert result.exit_code == 0, result.stderr
    assert "probe cache" in result.stderr and "damaged" in result.stderr
    assert "Traceback" not in result.stderr
    assert any(p.name.startswith("probes.json.damaged-") for p in cache.parent.iterdir())
    assert json.loads(cache.read_text())["gateways"]  # a good one in its place


def test_read_with_a_warm_cache_gives_the_same_document(fresh_battery: SimThread) -> None:
    args = ("read", fresh_battery.host, "--token", fresh_battery.token(), "--json")
    cold = json.loads(enphase(*args).stdout)
    warm = json.loads(enphase(*args).stdout)
    assert set(warm) == set(cold)
    assert warm["gateway"]["serial"] == cold["gateway"]["serial"]
    assert warm["errors"] == {} and warm["battery"] and warm["power_export_limit"]
    assert set(warm["freshness"]) == set(cold["freshness"])  # every section read, /home too


def test_info_always_probes_and_refreshes_the_cache(
    fresh_battery: SimThread, clean_env: Path
) -> None:
    """`info` lists what each endpoint answers today, and checks the token doing it."""
    _meters(fresh_battery)
    cache = clean_env / "store" / "probes.json"
    saved = json.loads(cache.read_text())["gateways"][fresh_battery.gw.serial]["saved_at"]
    _reset(fresh_battery)
    result = enphase("info", fresh_battery.host, "--token", fresh_battery.token(), "--json")
    assert result.exit_code == 0, result.stderr
    asked = _counts(fresh_battery)
    assert asked[PROBE_ONLY] == 1 and asked["/auth/check_jwt"] == 1
    assert json.loads(result.stdout)["sources"]["ensemble_inventory"] == "ok"
    now = json.loads(cache.read_text())["gateways"][fresh_battery.gw.serial]["saved_at"]
    assert now > saved

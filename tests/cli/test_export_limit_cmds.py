"""`enphase token --installer`, `enphase export-limit` and `enphase production`, end to end.

The real command against a simulated metered gateway (D8.3.5528) and its
simulated Entrez portal, over 127.0.0.1: the installer token comes from the
portal into the store, and every write is proven by the site's own meter
and the simulator's request log.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from enphase_local.cli.write import run as run_module
from enphase_local.net.claims import TokenClaims
from enphase_local.net.token_store import TokenStore

from .conftest import SimThread, enphase

# June next year: installer tokens last 12 h of the simulator's time, and the command judges
# them by the real clock, so the simulated noon must lie ahead of today's date.
NOON = datetime(
    datetime.now().year + 1, 6, 15, 12, 0, tzinfo=ZoneInfo("Europe/Amsterdam")
).timestamp()
INSTALLER = "installer@example.com"
WRITES = ("PUT", "POST", "DELETE")


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimThread]:
    sim = SimThread("export-limit")
    sim.call(lambda: sim.gw.clock.set(NOON))
    monkeypatch.setenv("ENPHASE_ENTREZ_URL", sim.gw.cloud_base_url.entrez)
    try:
        yield sim
    finally:
        sim.close()


def writes(sim: SimThread) -> list[str]:
    return sim.call(lambda: [e.endpoint for e in sim.gw.log.entries if e.method in WRITES])


def export_w(sim: SimThread) -> float:
    return -float(sim.call(lambda: sim.gw.backend.state()["grid_w"]))  # type: ignore[attr-defined]


def installer_token(sim: SimThread, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENPHASE_PASSWORD", "installer-password")
    got = enphase("token", "--installer", sim.host, "-u", INSTALLER)
    assert got.exit_code == 0, got.stderr
    assert f"gateway {sim.gw.serial}: installer token" in got.stdout
    assert "eyJ" not in got.stdout + got.stderr and "installer-password" not in got.stdout
    monkeypatch.delenv("ENPHASE_PASSWORD")


def test_zero_export_from_the_command_line(
    site: SimThread, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installer_token(site, monkeypatch)
    store = TokenStore(clean_env / "store" / "tokens.json")
    token = store.installer(site.gw.serial)
    assert token is not None and TokenClaims.decode(token).role == "installer"
    assert store.get(site.gw.serial) is None  # the owner's place stays empty
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert export_w(site) > 1000

    done = enphase("export-limit", site.host, "set", "0", "--json")
    assert done.exit_code == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["outcome"] == "confirmed" and result["after"]["limit_watts"] == 0
    samples = []
    for _ in range(120):  # one simulated hour of June sun
        site.call(lambda: site.gw.clock.advance(30))
        samples.append(export_w(site))
    assert max(samples) <= 1e-6

    shown = enphase("export-limit", site.host, "show", "--json")
    assert shown.exit_code == 0, shown.stderr
    section = json.loads(shown.stdout)["export_limit"]
    assert section["enabled"] is True and section["limit_watts"] == 0
    assert section["production_forced_off"] is False  # read with the installer token
    human = enphase("export-limit", site.host, "show")
    assert "export capped at 0 W" in human.stdout and "production switch: on" in human.stdout
    assert "limiting now: yes" in human.stdout  # the controller's PEL Active

    debug = enphase("--debug", "export-limit", site.host, "show")
    assert debug.exit_code == 0 and "DEBUG" in debug.stderr
    assert token not in debug.stdout + debug.stderr and "eyJ" not in debug.stderr

    cleared = enphase("export-limit", site.host, "clear")
    assert cleared.exit_code == 0 and cleared.stdout.startswith("confirmed:"), cleared.stdout
    site.call(lambda: site.gw.clock.advance(60))
    assert export_w(site) > 1000
    assert writes(site) == ["/ivp/ss/dpel", "/ivp/ss/dpel"]


def test_without_an_installer_token_nothing_is_sent_and_it_says_how(
    site: SimThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENPHASE_TOKEN", site.token())  # an owner's token in the environment
    refused = enphase("export-limit", site.host, "set", "0", "--json")
    assert refused.exit_code == 4
    error = json.loads(refused.stdout)["error"]
    assert "enphase token --installer" in error["message"]
    owner = enphase("export-limit", site.host, "--token", site.token(), "set", "0")
    assert owner.exit_code == 4 and "needs an installer token" in owner.stderr
    assert writes(site) == []
    shown = enphase("export-limit", site.host, "show")  # reading: the owner's token will do
    assert shown.exit_code == 0, shown.stderr
    assert "export limit: off" in shown.stdout
    assert "installer token only" in shown.stdout


def test_production_off_warns_asks_and_on_comes_back_late(
    site: SimThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    installer_token(site, monkeypatch)
    monkeypatch.setattr(run_module, "interactive", lambda: True)
    declined = enphase("production", site.host, "off", input="n\n")
    assert declined.exit_code == 1 and "next morning" in declined.stdout
    assert "export-limit set 0" in declined.stdout
    assert writes(site) == []
    off = enphase("production", site.host, "off", "--yes")
    assert off.exit_code == 0 and "confirmed" in off.stdout and "next morning" in off.stdout
    site.call(lambda: site.gw.clock.advance(60))
    assert site.call(lambda: site.gw.backend.state()["pv_w"]) == 0  # type: ignore[attr-defined]
    on = enphase("production", site.host, "on")
    assert on.exit_code == 0 and "next morning" in on.stdout
    site.call(lambda: site.gw.clock.advance(3600))
    assert site.call(lambda: site.gw.backend.state()["pv_w"]) == 0  # type: ignore[attr-defined]
    assert writes(site) == ["/ivp/mod/603980032/mode/power"] * 2


def test_the_installer_token_is_renewed_through_the_portal(
    site: SimThread, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installer_token(site, monkeypatch)
    store = TokenStore(clean_env / "store" / "tokens.json")
    first = store.installer(site.gw.serial)
    # 11 hours on: inside the renewal margin of the 12-hour token
    site.call(lambda: site.gw.clock.advance(11 * 3600))
    monkeypatch.setattr("time.time", lambda: NOON + 11 * 3600)
    monkeypatch.setenv("ENPHASE_INSTALLER_USERNAME", INSTALLER)
    monkeypatch.setenv("ENPHASE_INSTALLER_PASSWORD", "installer-password")
    done = enphase("export-limit", site.host, "set", "500", "--mode", "production")
    assert done.exit_code == 0, done.stdout + done.stderr
    renewed = store.installer(site.gw.serial)
    assert renewed is not None and renewed != first
    claims = TokenClaims.decode(renewed)
    assert claims.expires_at is not None and claims.expires_at > NOON + 22 * 3600

"""Home Assistant test set-up: the custom integration, loopback sockets, a simulated gateway.

These tests import ``homeassistant`` and run only in .venv-hass (built by
.ci/hass.sh); the main suite's pytest ignores this folder.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # custom_components/ and tests/ importable

from enphase_local.simulator import SimClock  # noqa: E402
from tests.hass.simthread import SimThread  # noqa: E402

pytest_plugins = ["pytest_homeassistant_custom_component"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/enphase_local from this repository."""


@pytest.fixture(autouse=True)
def loopback(socket_enabled: None) -> None:
    """Sockets on: the simulator is a real server. pytest-socket still allows only 127.0.0.1."""


def _sim(preset: str, clock: SimClock | None = None) -> Iterator[SimThread]:
    sim = SimThread(preset, clock=clock)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def sim() -> Iterator[SimThread]:
    """A battery site with a system controller, dry contacts and three CTs."""
    yield from _sim("battery-backup")


@pytest.fixture
def live_sim() -> Iterator[SimThread]:
    """The battery site on real time: a collector process judges the data's age by its clock."""
    yield from _sim("battery-backup", SimClock())


@pytest.fixture
def sim_legacy() -> Iterator[SimThread]:
    yield from _sim("legacy-5x")


@pytest.fixture
def sim_of() -> Iterator[Callable[[str], SimThread]]:
    """Start a simulated gateway of any preset; every one started is stopped after the test."""
    started: list[SimThread] = []

    def start(preset: str) -> SimThread:
        sim = SimThread(preset)
        started.append(sim)
        sim.start()
        return sim

    yield start
    for sim in started:
        sim.stop()

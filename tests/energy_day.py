"""A simulated day of one preset read by the real client: every flow against the simulator's own.

The gateway simulator integrates production, load, grid import and export,
battery charge and discharge and generator energy on its own grid
(`simulator.site.physics`); the client sees only what a gateway says. One
day, read every `step_s` seconds from shortly before the site's midnight to
shortly before the next, gives the error of each of the client's today and
lifetime counters and the balance residue. Shared by the tests and
``bench/energy_day.py``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from enphase_local.models.energy_flows import ENERGY_FLOWS, SiteEnergy
from enphase_local.models.snapshot import Snapshot
from enphase_local.simulator import PRESETS, SimClock, SimulatedGateway, SiteBackend
from enphase_local.simulator.site.config import CT, SiteConfig
from tests.simkit import envoy_for

# Most IQ Battery sites (and IQ System Controller 3 INT) have no storage CT
VARIANTS = {
    "battery-no-storage-ct": replace(
        PRESETS["battery-backup"], cts=(CT("production"), CT("net-consumption"))
    )
}


def site(name: str) -> SiteConfig:
    """A preset, or one of the `VARIANTS` built from one."""
    return VARIANTS[name] if name in VARIANTS else PRESETS[name]


# the client's flow -> the simulator's counters that add up to it
TRUTH = {
    "solar": ("prod",),
    "house": ("load",),
    "grid_import": ("imp",),
    "grid_export": ("exp",),
    "battery_charge": ("bin", "ain"),
    "battery_discharge": ("bout", "aout"),
    "generator": ("gen",),
}


@dataclass
class DayRun:
    """What one simulated day gave: per update, the client's today values and the truth."""

    preset: str
    zone: str
    updates: int = 0
    today_wrong: int = 0  # updates where a known today value was off by more than tolerance
    today_null: int = 0  # updates with solar today null (zone not known yet)
    worst_today_wh: float = 0.0
    last: Snapshot | None = None
    truth_today: dict[str, float] = field(default_factory=dict)
    truth_lifetime_start: dict[str, float] = field(default_factory=dict)
    truth_lifetime_end: dict[str, float] = field(default_factory=dict)
    life_start: dict[str, float | None] = field(default_factory=dict)
    stepped_back: list[str] = field(default_factory=list)

    @property
    def energy(self) -> SiteEnergy:
        assert self.last is not None and self.last.energy is not None
        return self.last.energy

    def flow_error(self, name: str) -> tuple[float, float] | None:
        """(client today - truth, truth) in Wh at the last update; None where the site has none."""
        got = self.energy.today_wh.get(name)
        truth = self.truth_today.get(name)
        if got is None or truth is None:
            return None
        return got - truth, truth


@pytest.fixture(autouse=True)
def host_on_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The host's clock is on UTC, the sites' are not (imported by the tests that use it)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _truth(state: dict[str, dict[str, float]], kind: str) -> dict[str, float]:
    values = state[kind]
    return {name: sum(values[k] for k in keys) for name, keys in TRUTH.items()}


def day_start(preset: str, *, day: tuple[int, int, int] = (2026, 6, 15)) -> float:
    """20 minutes before local midnight ending `day`'s eve: the day is seen to begin."""
    tz = ZoneInfo(site(preset).timezone)
    midnight = datetime(*day, tzinfo=tz)
    return (midnight - timedelta(minutes=20)).timestamp()


async def run_day(
    preset: str,
    *,
    step_s: float = 60.0,
    day: tuple[int, int, int] = (2026, 6, 15),
    hours: float = 24.0,
    tolerance_wh: float = 60.0,
    upgrade: tuple[float, str] | None = None,
    **envoy_options: Any,
) -> DayRun:
    """Read `preset` every `step_s` from 20 min before the site's midnight for `hours` + 20 min.

    `upgrade`: (seconds after the start, firmware) to update the gateway's firmware then.
    Each update's solar today is checked against the simulator's (the gateway's
    own counter, so it must be right on every update once the zone is known).
    """
    start = day_start(preset, day=day)
    end = start + 1200 + hours * 3600 - 300  # stop 5 minutes before the next midnight
    config = site(preset)
    run = DayRun(preset, config.timezone)
    last_life: dict[str, float] = {}
    last_today: dict[str, float] = {}
    last_day = None
    clock = SimClock(start=start, speed=0)
    backend = SiteBackend(config, clock, seed=1)
    async with SimulatedGateway(backend, clock=clock) as gw:
        async with envoy_for(gw, clock, **envoy_options) as envoy:
            t = start
            while t <= end:
                clock.set(t)
                if upgrade is not None and t - start >= upgrade[0] > t - start - step_s:
                    backend.upgrade(upgrade[1])
                snap = await envoy.update()
                state = backend.state()
                run.updates += 1
                day = datetime.fromtimestamp(t, ZoneInfo(config.timezone)).date()
                run.last = snap
                truth = _truth(state, "today_wh")
                _check_today(run, snap, truth, tolerance_wh)
                energy = snap.energy
                if energy is not None:
                    for name in ENERGY_FLOWS:
                        value = energy.lifetime_wh.get(name)
                        if value is None:
                            continue
                        if value < last_life.get(name, value) - 1e-6:
                            run.stepped_back.append(f"{name} at {t - start:.0f}s")
                        last_life[name] = value
                        run.life_start.setdefault(name, value)
                        today = energy.today_wh.get(name)
                        if day != last_day:
                            last_today.pop(name, None)  # a new day starts from zero
                        if today is not None and today < last_today.get(name, today) - 1e-6:
                            run.stepped_back.append(f"{name} today at {t - start:.0f}s")
                        if today is not None:
                            last_today[name] = today
                last_day = day
                if not run.truth_lifetime_start:
                    run.truth_lifetime_start = _truth(state, "lifetime_wh")
                run.truth_today = truth
                run.truth_lifetime_end = _truth(state, "lifetime_wh")
                t += step_s
    return run


def _check_today(run: DayRun, snap: Snapshot, truth: dict[str, float], tol: float) -> None:
    solar = snap.production.wh_today if snap.production else None
    if snap.energy is not None:
        solar = snap.energy.today_wh.solar
    if solar is None:
        run.today_null += 1
        return
    gap = abs(solar - truth["solar"])
    run.worst_today_wh = max(run.worst_today_wh, gap)
    if gap > tol + 0.01 * truth["solar"]:
        run.today_wrong += 1

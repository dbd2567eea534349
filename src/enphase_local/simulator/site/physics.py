"""The physical model of one site: sun, house, batteries, grid, energy counters.

Deterministic and seedable: noise comes from a hash of (seed, stream, index),
never from a global random state, and energy is integrated on a fixed time
grid aligned to the epoch (`STEP_S`), so the same seed and the same clock
times give the same numbers whatever the request pattern. The history from
local midnight of the start day up to the start instant is integrated on a
coarse grid and earlier days are estimated, so building a thousand sites is
cheap. Power is signed: battery positive when discharging, grid positive when
importing (grid = load - production - battery discharge - generator).
The inputs (sun, cloud, household load, seeded noise) are in
`curves`; `hash_unit` and `smooth` are re-exported here. An export limit in
force curtails production to house + battery charge + limit, and the
production switch stops it (`export_limit`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

from .config import SiteConfig
from .curves import Curves, hash_unit, smooth
from .writes import Controls

__all__ = ["COUNTERS", "PhysicsModel", "Point", "PowerFlows", "hash_unit", "smooth"]

STEP_S = 30.0
COARSE_S = 900.0
BIG_GAP_S = 3 * 86400.0
COUNTERS = ("prod", "load", "imp", "exp", "bout", "bin", "aout", "ain", "gen")


@dataclass(frozen=True, slots=True)
class PowerFlows:
    """Power at one instant, W. Per-phase tuples; batteries and generator aggregate."""

    pv: tuple[float, ...]
    load: tuple[float, ...]
    batt: float
    acb: float
    gen: float
    grid: tuple[float, ...]


@dataclass(slots=True)
class Point:
    """The integrated state at one grid instant."""

    t: float
    energy: dict[str, list[float]]
    soc_wh: float
    acb_wh: float
    flows: PowerFlows
    gen_running: bool


class PhysicsModel(Curves):
    """Integrates one site forward in time; `at(t)` gives state at any t >= the last grid point.

    The sun, cloud and household load it integrates come from `Curves`.
    """

    def __init__(self, cfg: SiteConfig, controls: Controls, seed: int, start: float) -> None:
        super().__init__(cfg, seed)
        self.controls = controls
        self.cap_wh = float(cfg.battery.count * cfg.battery.capacity_wh)
        self.acb_cap_wh = float(cfg.acb.count * cfg.acb.capacity_wh)
        self.reboot_until = float("-inf")
        self.memo: dict[int, Any] = {}  # views' per-inverter report cache
        self.day_start: dict[int, dict[str, list[float]]] = {}
        origin = self.midnight_of(start)
        energy = self._initial_energy()
        self._estimate_past_days(origin, energy)
        soc = self.cap_wh * cfg.battery.initial_soc / 100
        acb = self.acb_cap_wh * cfg.acb.initial_soc / 100
        flows, running = self._dispatch(origin, soc, acb, False, COARSE_S)
        self.history: deque[Point] = deque(maxlen=80)
        self.history.append(Point(origin, energy, soc, acb, flows, running))
        self.day_start[self.day_of(origin)] = {k: list(v) for k, v in energy.items()}
        self._next_midnight = self.midnight_of(origin + 36 * 3600)
        coarse_end = origin + COARSE_S * math.floor((start - origin) / COARSE_S)
        self._run(coarse_end, COARSE_S)
        self.advance(start)

    # --- dispatch ------------------------------------------------------------------------
    def _dispatch(
        self, t: float, soc: float, acb: float, running: bool, dt: float
    ) -> tuple[PowerFlows, bool]:
        cfg, ctl = self.cfg, self.controls
        pv = sum(self.inverter_watts(t)) if ctl.export.producing(t) else 0.0
        load = self.load_watts(t)
        st = ctl.storage_at(t)
        on_grid = ctl.grid_connected(t) if (cfg.enpower or cfg.collar) else True
        hours = dt / 3600
        max_p = float(cfg.battery.count * cfg.battery.max_power_w)
        room = max(0.0, (self.cap_wh - soc) / hours)
        floor_wh = self.cap_wh * (st.reserved_soc if on_grid else 0.0) / 100
        avail = max(0.0, (soc - floor_wh) / hours)
        can_charge, can_discharge = min(max_p, room), min(max_p, avail)
        gen = 0.0
        soc_pct = 100 * soc / self.cap_wh if self.cap_wh else 0.0
        if cfg.generator:
            cmd = ctl.gen_cmd()
            running = cmd == "on" or (
                cmd == "auto" and not on_grid and (soc_pct < 30 or (running and soc_pct < 70))
            )
        else:
            running = False
        surplus = pv - load
        if not on_grid:
            if running:
                gen = min(float(cfg.generator_rating_w), max(0.0, -surplus) + can_charge)
                surplus += gen
            batt = min(-surplus, can_discharge) if surplus < 0 else -min(surplus, can_charge)
            residual = surplus + batt
            acb = self._acb_flow(residual, acb, hours)
            residual += acb
            if residual < 0:
                load += residual
            else:
                pv -= residual
        else:
            hour = self.local(t).hour
            discharge_ok = st.mode in ("self-consumption",) or (
                st.mode in ("economy", "savings-mode") and 16 <= hour < 21
            )
            if surplus > 0:
                batt = -min(surplus, can_charge)
            elif discharge_ok:
                batt = min(-surplus, can_discharge)
            else:
                batt = 0.0
            if st.charge_from_grid and (st.mode == "backup" or soc_pct < st.reserved_soc):
                batt = -max(-batt, min(can_charge, max_p * 0.5))
            if ctl.topping_off(t):
                batt = -can_charge  # 8.3.6000+: fill up before going off grid
            if running:
                gen = min(float(cfg.generator_rating_w), max(0.0, load - pv - batt))
            acb = self._acb_flow(surplus + batt, acb, hours)
        if on_grid:  # DPEL caps production to house + battery charge + limit (export_limit.py)
            pv = ctl.export.curtail(t, pv, load, batt + acb + gen)
        pv_ph = tuple(pv * f for f in self.pv_frac)
        load_ph = tuple(load * f for f in self.load_frac)
        flow_ph = [(batt + acb + gen) / self.nph] * self.nph
        if on_grid:
            grid = tuple(lp - pp - fp for lp, pp, fp in zip(load_ph, pv_ph, flow_ph, strict=True))
        else:
            grid = (0.0,) * self.nph
            load_ph = tuple(pp + fp for pp, fp in zip(pv_ph, flow_ph, strict=True))
        return PowerFlows(pv_ph, load_ph, batt, acb, gen, grid), running

    def _acb_flow(self, residual: float, acb_wh: float, hours: float) -> float:
        """AC Batteries take what the Encharge left: absorb surplus, cover deficit."""
        if not self.acb_cap_wh:
            return 0.0
        awake = self.cfg.acb.count - len(self.controls.acb_sleep)
        max_p = float(max(0, awake) * self.cfg.acb.max_power_w)
        if residual > 0:
            return -min(residual, max_p, max(0.0, (self.acb_cap_wh - acb_wh) / hours))
        return min(-residual, max_p, max(0.0, acb_wh / hours))

    # --- integration ---------------------------------------------------------------------
    @staticmethod
    def rates(f: PowerFlows) -> dict[str, list[float]]:
        n = len(f.pv)
        per = [x / n for x in (f.batt, f.acb, f.gen)]
        return {
            "prod": list(f.pv),
            "load": list(f.load),
            "imp": [max(g, 0.0) for g in f.grid],
            "exp": [max(-g, 0.0) for g in f.grid],
            "bout": [max(per[0], 0.0)] * n,
            "bin": [max(-per[0], 0.0)] * n,
            "aout": [max(per[1], 0.0)] * n,
            "ain": [max(-per[1], 0.0)] * n,
            "gen": [per[2]] * n,
        }

    def _step(self, p: Point, t_next: float, next_dt: float = STEP_S) -> Point:
        dt = t_next - p.t
        r = self.rates(p.flows)
        energy = {
            k: [e + w * dt / 3600 for e, w in zip(v, r[k], strict=True)]
            for k, v in p.energy.items()
        }
        while self._next_midnight <= t_next:
            m = self._next_midnight
            self.day_start[self.day_of(m)] = {
                k: [e + w * (m - p.t) / 3600 for e, w in zip(v, r[k], strict=True)]
                for k, v in p.energy.items()
            }
            self._next_midnight = self.midnight_of(m + 36 * 3600)
        for day in [d for d in self.day_start if d < self.day_of(t_next) - 10]:
            del self.day_start[day]
        soc = min(self.cap_wh, max(0.0, p.soc_wh - p.flows.batt * dt / 3600))
        acb = min(self.acb_cap_wh, max(0.0, p.acb_wh - p.flows.acb * dt / 3600))
        flows, running = self._dispatch(t_next, soc, acb, p.gen_running, next_dt)
        return Point(t_next, energy, soc, acb, flows, running)

    def _run(self, until: float, step: float) -> None:
        last = self.history[-1]
        while last.t + step <= until:
            last = self._step(last, last.t + step, step)
            self.history.append(last)

    def advance(self, now: float) -> None:
        """Integrate up to the last grid instant at or before `now`."""
        last = self.history[-1].t
        if now - last > BIG_GAP_S:
            self._run(now - 86400, COARSE_S)
        target = math.floor(now / STEP_S) * STEP_S
        last_point = self.history[-1]
        if last_point.t < target and last_point.t % STEP_S:
            self.history.append(
                self._step(last_point, math.floor(last_point.t / STEP_S) * STEP_S + STEP_S)
            )
        self._run(target, STEP_S)

    def point_before(self, t: float) -> Point:
        for p in reversed(self.history):
            if p.t <= t:
                return p
        return self.history[0]

    def energy_at(self, t: float) -> dict[str, list[float]]:
        """Lifetime counters (Wh per phase) at `t`, interpolated inside a grid step."""
        p = self.point_before(t)
        r = self.rates(p.flows)
        dt = max(0.0, t - p.t)
        return {
            k: [e + w * dt / 3600 for e, w in zip(v, r[k], strict=True)]
            for k, v in p.energy.items()
        }

    def state_at(self, t: float) -> tuple[PowerFlows, float, float, dict[str, list[float]]]:
        """PowerFlows, Encharge Wh, ACB Wh and counters at `t` (>= the last grid point)."""
        p = self.point_before(t)
        dt = max(0.0, t - p.t)
        soc = min(self.cap_wh, max(0.0, p.soc_wh - p.flows.batt * dt / 3600))
        acb = min(self.acb_cap_wh, max(0.0, p.acb_wh - p.flows.acb * dt / 3600))
        flows, _ = self._dispatch(t, soc, acb, p.gen_running, STEP_S)
        return flows, soc, acb, self.energy_at(t)

    def pv_share(self, t: float) -> float:
        """The share (0..1) of the sun's production the microinverters deliver at `t`: below 1
        while the export limit curtails them or the production switch holds them off."""
        export = self.controls.export
        if export.producing(t) and export.limit_at(t) is None:
            return 1.0
        total = sum(self.inverter_watts(t))
        if total <= 0:
            return 1.0 if export.producing(t) else 0.0
        flows, _, _, _ = self.state_at(t)
        return min(1.0, sum(flows.pv) / total)

    def delivered_watts(self, t: float) -> list[float]:
        """What each microinverter delivers at `t`: the sun's share times `pv_share`."""
        share = self.pv_share(t)
        return [w * share for w in self.inverter_watts(t)]

    # --- history before the start ------------------------------------------------------------
    def _initial_energy(self) -> dict[str, list[float]]:
        c = self.cfg.counters
        start = {
            "prod": c.production_wh,
            "load": c.consumption_wh,
            "imp": c.import_wh,
            "exp": c.export_wh,
            "bout": c.battery_discharge_wh,
            "bin": c.battery_charge_wh,
            "aout": 0.0,
            "ain": 0.0,
            "gen": 0.0,
        }
        fr = {"prod": self.pv_frac, "load": self.load_frac}
        even = (1 / self.nph,) * self.nph
        return {k: [v * f for f in fr.get(k, even)] for k, v in start.items()}

    def _estimate_past_days(self, origin: float, energy: dict[str, list[float]]) -> None:
        """Day-start counters for the week before the start, from a cheap daily estimate."""
        pv_day = sum(sum(self.inverter_watts(origin + h * 1800)) for h in range(48)) / 2
        lc = self.cfg.load
        load_day = lc.base_w * 24 + lc.morning_peak_w * 1.95 + lc.evening_peak_w * 2.8
        per_day = {"prod": pv_day, "load": load_day, "imp": load_day * 0.6, "exp": pv_day * 0.5}
        factor = 0.0
        for j in range(1, 9):
            day = self.day_of(origin) - j
            factor += 0.8 + 0.2 * hash_unit(self.seed, 5, day)
            self.day_start[day] = {
                k: [max(0.0, e - per_day.get(k, 0.0) * factor * e / (sum(v) or 1)) for e in v]
                for k, v in energy.items()
            }

    def day_start_for(self, t: float, late_s: float = 0.0) -> dict[str, list[float]]:
        """Counters at the start of `t`'s local day (or the day before, inside a late reset)."""
        day = self.day_of(t)
        if late_s and t < self.midnight_of(t) + late_s:
            day -= 1
        elif day not in self.day_start and self.midnight_of(t) >= self.history[0].t:
            return self.energy_at(self.midnight_of(t))  # midnight inside the current step
        while day not in self.day_start and day > min(self.day_start):
            day -= 1
        return self.day_start.get(day) or self.day_start[min(self.day_start)]

"""One frozen picture of the site at one instant, which every view renders.

Building all bodies of a request from one `SiteState` is what makes the
endpoints agree with each other (production CT = its lines = readings =
livedata; inverters section = sum of inverter reports; battery power and
SoC identical in inventory, power, secctrl and livedata).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..site.config import SiteConfig
from ..site.physics import PhysicsModel, PowerFlows, hash_unit, smooth
from ..site.writes import Controls, StorageNow

__all__ = [
    "WRAP_WH",
    "InverterReport",
    "SiteState",
    "build_snapshot",
    "consumption_ct",
    "production_ct",
]

WRAP_WH = 1_190_000.0
Energy = Mapping[str, tuple[float, ...]]


@dataclass(frozen=True, slots=True)
class InverterReport:
    """A microinverter's last report (values change only at report instants)."""

    serial: str
    index: int
    report_t: int
    watts: int
    max_watts: int
    lifetime_wh: float
    today_wh: float
    yesterday_wh: float
    week_wh: float
    joules_last: int
    duration_s: int
    ac_mv: int
    hz_mhz: int
    dc_mv: int
    dc_ma: int
    ac_ma: int
    temp_c: int
    active: bool = True
    gone: bool = False


@dataclass(frozen=True, slots=True)
class SiteState:
    cfg: SiteConfig
    t: int
    flows: PowerFlows
    energy: Energy
    today: Energy
    week: Energy
    soc_pct: float
    soc_wh: float
    acb_pct: float
    acb_wh: float
    unit_watts: tuple[float, ...]
    acb_unit_watts: tuple[float, ...]
    inverters: tuple[InverterReport, ...]
    volts: tuple[float, ...]
    hz: float
    relay_admin: str
    relay_oper: str
    on_grid: bool  # the relay physically closed (also while ``open synchronizing``)
    storage: StorageNow
    rebooting: bool
    live_stream: bool
    acb_sleep: Mapping[str, tuple[int, int]]  # serial -> (min, max) SoC window of sleepers
    pv_share: float = 1.0  # of the sun's production delivered: < 1 while curtailed (export limit)
    export_limited: bool = False  # the export limit curtails production now ("PEL Active")

    @property
    def pv_w(self) -> float:
        return sum(self.flows.pv)

    @property
    def load_w(self) -> float:
        return sum(self.flows.load)

    @property
    def grid_w(self) -> float:
        return sum(self.flows.grid)

    def total(self, table: Energy, key: str) -> float:
        return sum(table[key])


def _freeze(d: Mapping[str, list[float]]) -> dict[str, tuple[float, ...]]:
    return {k: tuple(v) for k, v in d.items()}


def _diff(
    a: Mapping[str, list[float]], b: Mapping[str, list[float]]
) -> dict[str, tuple[float, ...]]:
    return {k: tuple(max(0.0, x - y) for x, y in zip(a[k], b[k], strict=True)) for k in a}


def _weights(seed: int, stream: int, n: int) -> tuple[float, ...]:
    raw = [1.0 + 0.1 * (hash_unit(seed, stream, i) - 0.5) for i in range(n)]
    return tuple(r / sum(raw) for r in raw) if n else ()


def grid_volts(cfg: SiteConfig, seed: int, t: float) -> tuple[tuple[float, ...], float]:
    """Phase voltages and frequency at `t` (smooth seeded wander around nominal)."""
    volts = tuple(
        cfg.nominal_voltage + 2.5 * (smooth(seed, 20 + p, t, 90.0) - 0.5)
        for p in range(cfg.phase_count)
    )
    return volts, cfg.grid_hz + 0.04 * (smooth(seed, 25, t, 45.0) - 0.5)


def _inverter_reports(model: PhysicsModel, t: float) -> list[InverterReport]:
    cfg, seed = model.cfg, model.seed
    inv = cfg.inverters
    n, every = inv.count, inv.report_interval_s
    serials = cfg.inverter_serials()
    start_each = cfg.counters.production_wh / n if n else 0.0
    total_start = cfg.counters.production_wh
    cache: dict[float, tuple[list[float], list[float]]] = {}
    out = []
    late = cfg.quirks.late_midnight_reset
    for i in range(n):
        offset = (i * every // n + int(hash_unit(seed, 30, i) * 7)) % every
        r = math.floor((t - offset) / every) * every + offset
        known = model.memo.get(i)
        if isinstance(known, InverterReport) and known.report_t == r:
            out.append(known)  # values change only at report instants
            continue
        if r not in cache:
            cache[r] = (model.delivered_watts(r), model.peak_watts(r))
        watts = cache[r][0][i]
        share = model.shares[i] / n

        def produced(at: float, share: float = share) -> float:
            return (sum(model.energy_at(at)["prod"]) - total_start) * share

        life = start_each + produced(r)
        if cfg.quirks.lifetime_step_down and i == 0:
            life %= WRAP_WH
        base_today = (sum(model.day_start_for(r, late)["prod"]) - total_start) * share
        base_yday = (sum(model.day_start_for(r - 86400)["prod"]) - total_start) * share
        base_week = (sum(model.day_start_for(r - 6 * 86400)["prod"]) - total_start) * share
        now_p = produced(r)
        joules = max(0, round((now_p - produced(r - every)) * 3600))
        phase_v, hz = grid_volts(cfg, seed, r)
        volts = phase_v[i % cfg.phase_count]
        dc_v = 30.0 + 10.0 * smooth(seed, 31, r + i * 977, 3600.0)
        out.append(
            InverterReport(
                serial=serials[i],
                index=i,
                report_t=int(r),
                watts=round(watts),
                max_watts=round(max(watts, cache[r][1][i])),
                lifetime_wh=life,
                today_wh=max(0.0, now_p - base_today),
                yesterday_wh=max(0.0, base_today - base_yday),
                week_wh=max(0.0, now_p - base_week),
                joules_last=joules,
                duration_s=every,
                ac_mv=round(volts * 1000 + 800 * (hash_unit(seed, 32, i, int(r)) - 0.5)),
                hz_mhz=round(hz * 1000),
                dc_mv=round(dc_v * 1000),
                dc_ma=round(watts / dc_v * 1000 / 0.96),
                ac_ma=round(watts / volts * 1000) if volts else 0,
                temp_c=round(18 + 22 * watts / inv.rating_w),
            )
        )
        model.memo[i] = out[-1]
    if cfg.quirks.device_data_keeps_gone:
        for j in range(2):
            out.append(
                InverterReport(
                    f"{cfg.serial[:6]}99{j:04d}",
                    n + j,
                    cfg.installed,
                    0,
                    0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0,
                    every,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    active=False,
                    gone=True,
                )
            )
    return out


def build_snapshot(model: PhysicsModel, controls: Controls, now: float) -> SiteState:
    """Everything every view needs, computed once at `now`."""
    cfg, seed = model.cfg, model.seed
    t = math.floor(now)
    flows, soc_wh, acb_wh, energy = model.state_at(t)
    late = cfg.quirks.late_midnight_reset
    day0 = model.day_start_for(t, late)
    week0 = model.day_start_for(model.midnight_before(t, 6) + 1)
    volts, hz = grid_volts(cfg, seed, t)
    rebooting = t < model.reboot_until
    reports = _inverter_reports(model, t)
    if rebooting:
        zero = (0.0,) * cfg.phase_count
        grid = tuple(g + p for g, p in zip(flows.grid, flows.pv, strict=True))
        flows = PowerFlows(zero, flows.load, flows.batt, flows.acb, flows.gen, grid)
        reports = [_zeroed(r) for r in reports]
    acb_pct = 100 * acb_wh / model.acb_cap_wh if model.acb_cap_wh else 0.0
    return SiteState(
        cfg=cfg,
        t=t,
        flows=flows,
        energy=_freeze(energy),
        today=_diff(energy, day0),
        week=_diff(energy, week0),
        soc_pct=100 * soc_wh / model.cap_wh if model.cap_wh else 0.0,
        soc_wh=soc_wh,
        acb_pct=acb_pct,
        acb_wh=acb_wh,
        unit_watts=tuple(flows.batt * w for w in _weights(seed, 40, cfg.battery.count)),
        acb_unit_watts=tuple(flows.acb * w for w in _weights(seed, 41, cfg.acb.count)),
        inverters=tuple(reports),
        volts=volts,
        hz=hz,
        relay_admin=controls.relay_admin,
        relay_oper=controls.relay_oper(t),
        on_grid=controls.grid_connected(t),
        storage=controls.storage_at(t),
        rebooting=rebooting,
        live_stream=controls.live_stream(t),
        acb_sleep=dict(controls.acb_sleep),
        pv_share=(share := model.pv_share(t)),
        export_limited=share < 1.0 and controls.export.limit_at(t) is not None,
    )


def _zeroed(r: InverterReport) -> InverterReport:
    from dataclasses import replace

    return replace(r, watts=0, dc_ma=0, ac_ma=0)


Series = tuple[float, ...]


def production_ct(s: SiteState) -> tuple[Series, Series, Series, Series, Series]:
    """What the production CT measures: (watts, delivered Wh, received Wh, today Wh, week Wh).

    PV only. Batteries (Encharge through the System Controller, AC Batteries)
    sit on the house side of the net CT and off the production circuit: on real
    sites the production CT agrees with the inverters while the batteries move
    kilowatts (7.3.517_system_2: 2663 W CT, 2675 W inverters, batteries
    charging 2032 W; 8.2.127: 1714 W CT, 1592 W inverters).
    """
    n = s.cfg.phase_count
    received = s.energy.get("prod_rcvd", (0.0,) * n)  # a CT clamped backwards (`wiring`)
    return s.flows.pv, s.energy["prod"], received, s.today["prod"], s.week["prod"]


def consumption_ct(s: SiteState) -> tuple[Series, Series, Series, Series]:
    """Total consumption as the gateway reports it: (watts, lifetime Wh, today Wh, week Wh).

    With a total-consumption CT, what it measures (the house load). Without,
    the gateway computes production CT + net CT (8.2.127: 1843.831 = 1714.424 +
    129.407), so the batteries' charging counts as consumption, their
    discharge and a generator's output as negative consumption.
    """
    if s.cfg.ct_enabled("total-consumption"):
        return s.flows.load, s.energy["load"], s.today["load"], s.week["load"]
    n = range(s.cfg.phase_count)

    def computed(t: Energy) -> Series:
        back = t.get("prod_rcvd", (0.0,) * len(n))  # a production CT clamped backwards
        return tuple(t["prod"][i] - back[i] + t["imp"][i] - t["exp"][i] for i in n)

    watts = tuple(s.flows.pv[i] + s.flows.grid[i] for i in n)
    return watts, computed(s.energy), computed(s.today), computed(s.week)

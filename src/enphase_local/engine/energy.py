"""The six energy flows, counted where the gateway counts them and derived where it does not.

Sources, best first (issue 23): the gateway's CT counters (net CT delivered
= grid import, received = export; storage CT delivered = battery discharge,
received = charge; a total-consumption CT's delivered - received = house).
Else derived: battery (and an AC Battery, a generator, grid without a net CT)
integrated from the power read at each update, trapezoids between samples,
a gap longer than `MAX_GAP_S` not bridged but counted; house = solar + import
+ discharge + generator - export - charge. Every lifetime goes through a
`CounterGuard`, so none ever decreases; today's values follow the site's day
(`site_day`). Pure: the caller gives the time and the readings. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo

from ..models.battery import AcbSummary, BatterySummary
from ..models.energy import EnergyReading
from ..models.energy_flows import ENERGY_FLOWS, EnergyFlows, SiteEnergy
from ..models.live_frame import LiveFrame
from ..models.meters import CtType, Meter, MeterReading, MeterState
from ..sources.keys import SourceKey
from .counters import CounterGuard, site_ceiling_w
from .site_day import DayStart, local_day, same_day, zone_name

__all__ = ["MAX_GAP_S", "EnergyBook", "EnergyInputs", "Integrator", "Sample", "battery_samples"]

Sample = tuple[float, float]  # (when it was read, watts: discharge > 0)

MAX_GAP_S = 600.0  # samples further apart than this are not bridged: the gap is counted


@dataclass(slots=True)
class Integrator:
    """Energy each way (Wh) from a signed power sampled now and then."""

    positive_wh: float = 0.0
    negative_wh: float = 0.0
    last_t: float | None = None
    last_w: float | None = None
    gaps_s: float = 0.0

    def add(self, t: float, watts: float) -> None:
        last_t, last_w = self.last_t, self.last_w
        if last_t is not None and t <= last_t:
            return  # the same sample again (its source was not re-read)
        if last_t is not None and last_w is not None:
            dt = t - last_t
            if dt > MAX_GAP_S:
                self.gaps_s += dt
            else:
                self.positive_wh += (max(last_w, 0.0) + max(watts, 0.0)) * dt / 7200.0
                self.negative_wh += (max(-last_w, 0.0) + max(-watts, 0.0)) * dt / 7200.0
        self.last_t, self.last_w = t, watts


@dataclass(frozen=True, slots=True)
class EnergyInputs:
    """What one update knows that the flows are made of."""

    t: float  # when the counters were measured
    tz: tzinfo | None  # the site's zone (None: not known, today's values None)
    production: EnergyReading | None  # guarded: solar
    consumption: EnergyReading | None  # guarded: the gateway's own consumption counter
    meters: Mapping[str, Meter]
    power_flow: LiveFrame | None  # grid and generator power, where no counter exists
    encharge: Sample | None  # IQ Battery / Encharge power (its own read time)
    acb: Sample | None  # the AC Battery's power (it has no CT), at its own read time
    has_generator: bool
    gateway_day: bool = False  # the zone is never told (before 7): the gateway's own today only


def _ct(meters: Mapping[str, Meter], kind: CtType) -> MeterReading | None:
    for meter in meters.values():
        cfg = meter.config
        if cfg.measurement_type is kind and cfg.state is MeterState.ENABLED and meter.reading:
            return meter.reading
    return None


@dataclass(slots=True)
class EnergyBook:
    """The flows' running state across updates: integrators, guards and day starts."""

    integrators: dict[str, Integrator] = field(default_factory=dict)
    guards: dict[str, CounterGuard] = field(default_factory=dict)
    days: dict[str, DayStart] = field(default_factory=dict)
    house_wh: float | None = None  # the derived house lifetime last reported
    # flow -> (when, lifetime, today) last kept by an earlier run: its day's start, if same day
    kept_days: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def _integrate(self, name: str, t: float, watts: float | None) -> Integrator:
        acc = self.integrators.setdefault(name, Integrator())
        if watts is not None:
            acc.add(t, watts)
        return acc

    def _guarded(self, name: str, wh: float | None, t: float) -> float | None:
        if wh is None:
            return None
        guard = self.guards.setdefault(name, CounterGuard(f"energy {name}"))
        reading = EnergyReading(0.0, None, None, wh, "energy")
        checked, _ = guard.check(reading, t, None, ceiling_w=site_ceiling_w(None, house=True))
        return checked.wh_lifetime

    def update(self, x: EnergyInputs) -> SiteEnergy:
        life: dict[str, float | None] = dict.fromkeys(ENERGY_FLOWS)
        own_today: dict[str, float | None] = {}
        derived: list[str] = []
        flow = x.power_flow
        life["solar"] = x.production.wh_lifetime if x.production else None
        own_today["solar"] = x.production.wh_today if x.production else None
        net, storage = _ct(x.meters, CtType.NET_CONSUMPTION), _ct(x.meters, CtType.STORAGE)
        total = _ct(x.meters, CtType.TOTAL_CONSUMPTION)
        if net is not None:
            life["grid_import"], life["grid_export"] = net.wh_delivered, net.wh_received
        elif total is not None and flow is not None:
            grid = self._integrate("grid", flow.taken_at, flow.grid_watts)
            life["grid_import"], life["grid_export"] = grid.positive_wh, grid.negative_wh
            derived += ["grid_import", "grid_export"]
        # Each battery integrated at its own read time: IQ Battery from /ivp/ensemble/power,
        # the AC Battery from production.json (read minutes apart, not together)
        parts: list[tuple[float, float]] = []
        if storage is not None:
            parts.append((storage.wh_delivered, storage.wh_received))
        elif x.encharge is not None:
            acc = self._integrate("battery", *x.encharge)
            parts.append((acc.positive_wh, acc.negative_wh))
        if x.acb is not None:
            acc = self._integrate("acb", *x.acb)
            parts.append((acc.positive_wh, acc.negative_wh))
        if parts:
            life["battery_discharge"] = sum(p[0] for p in parts)
            life["battery_charge"] = sum(p[1] for p in parts)
            if x.acb is not None or storage is None:
                derived += ["battery_charge", "battery_discharge"]
        if x.has_generator and flow is not None:
            gen_at = flow.as_of.get("generator", flow.taken_at)
            life["generator"] = self._integrate(
                "generator", gen_at, flow.generator_watts
            ).positive_wh
            derived.append("generator")
        for name in ENERGY_FLOWS:
            if name not in ("solar", "house"):
                life[name] = self._guarded(name, life[name], x.t)
        self._house(x, life, own_today, derived, total is not None)
        today = {
            name: self._today(name, life[name], x, own_today.get(name))
            for name in ENERGY_FLOWS
            if name != "house"
        }
        if "house" in derived:  # a first sight: the day's house from the day's other flows
            own_today["house"] = _balance(today, life)
        today["house"] = self._today("house", life["house"], x, own_today.get("house"))
        gaps = sum(i.gaps_s for i in self.integrators.values())
        return SiteEnergy(
            lifetime_wh=EnergyFlows(**life),
            today_wh=EnergyFlows(**today),
            derived=tuple(n for n in ENERGY_FLOWS if n in derived),
            zone=zone_name(x.tz),
            gaps_s=gaps,
            state=self.state(),
        )

    def _house(
        self,
        x: EnergyInputs,
        life: dict[str, float | None],
        own_today: dict[str, float | None],
        derived: list[str],
        total_ct: bool,
    ) -> None:
        """House: the gateway's consumption where it is the house, else the balance."""
        cons = x.consumption
        battery = life["battery_charge"] is not None
        if cons is not None and (total_ct or not (battery or x.has_generator)):
            life["house"] = cons.wh_lifetime
            own_today["house"] = cons.wh_today
            return
        parts = [life[n] for n in ("solar", "grid_import", "grid_export")]
        if any(p is None for p in parts) or (battery and life["battery_charge"] is None):
            return
        into = sum(life[n] or 0.0 for n in ("solar", "grid_import", "battery_discharge"))
        into += life["generator"] or 0.0
        out = (life["grid_export"] or 0.0) + (life["battery_charge"] or 0.0)
        # Held at its highest, not guarded: a dip is the battery's power and the CTs read at
        # slightly different times, gone within minutes; a guard's rebase would keep it for ever.
        self.house_wh = max(self.house_wh or 0.0, into - out)
        life["house"] = self.house_wh
        derived.append("house")

    def _today(
        self, name: str, lifetime: float | None, x: EnergyInputs, own: float | None
    ) -> float | None:
        if x.tz is None and x.gateway_day:
            return own  # counted in the gateway's own zone, whatever it is
        day = self.days.setdefault(name, DayStart())
        kept = self.kept_days.pop(name, None) if x.tz is not None else None
        if kept is not None and x.tz is not None and day.day is None:
            at, kept_life, kept_today = kept
            if same_day(at, x.t, x.tz):  # the day began before the restart: continue it
                day.restore(zone_name(x.tz) or "", local_day(x.t, x.tz), kept_life - kept_today)
        return day.today(lifetime, x.t, x.tz, own)

    def state(self) -> dict[str, tuple[float, float]]:
        """What a restart needs to continue the derived counters: (positive, negative) Wh."""
        return {name: (a.positive_wh, a.negative_wh) for name, a in self.integrators.items()}

    def restore(
        self,
        state: Mapping[str, tuple[float, float]],
        house_wh: float | None,
        days: Mapping[str, tuple[float, float, float]] | None = None,
    ) -> None:
        """Continue from `state()` and the derived house of an earlier run: never a step back.

        Call before the first update: the integrators go on from the kept values.
        `days`: flow -> (when, lifetime, today) last kept, so that "today" goes on
        the same day instead of being unknown until midnight.
        """
        self.kept_days.update(days or {})
        for name, (positive, negative) in state.items():
            acc = self.integrators.setdefault(name, Integrator())
            acc.positive_wh = max(acc.positive_wh, positive)
            acc.negative_wh = max(acc.negative_wh, negative)
        if house_wh is not None:
            self.house_wh = max(self.house_wh or 0.0, house_wh)


def _balance(today: Mapping[str, float | None], life: Mapping[str, float | None]) -> float | None:
    """The house's energy from the other flows' (None when one the site has is unknown)."""
    names = [n for n in ENERGY_FLOWS if n != "house" and life[n] is not None]
    if any(today[n] is None for n in names):
        return None
    into = sum(
        today[n] or 0.0
        for n in names
        if n in ("solar", "grid_import", "battery_discharge", "generator")
    )
    out = sum(today[n] or 0.0 for n in names if n in ("grid_export", "battery_charge"))
    return max(0.0, into - out)


def battery_samples(
    read_at: Mapping[SourceKey, float],
    production_key: SourceKey | None,
    battery: BatterySummary | None,
    acb: AcbSummary | None,
) -> tuple[Sample | None, Sample | None]:
    """IQ Battery and AC Battery power, each with the time its source was read.

    The IQ Battery's power comes from ``/ivp/ensemble/power``, the AC Battery's
    from the production report: read minutes apart, so each is integrated alone.
    """
    encharge: Sample | None = None
    at = read_at.get(SourceKey.ENSEMBLE_POWER)
    if battery is not None and at is not None and battery.units:
        watts = [u.watts for u in battery.units.values()]
        if all(w is not None for w in watts):
            encharge = (at, float(sum(w or 0.0 for w in watts)))
    acb_at = read_at.get(production_key) if production_key else None
    ac: Sample | None = None
    if acb is not None and acb.watts is not None and acb_at is not None:
        ac = (acb_at, float(acb.watts))
    return encharge, ac

"""The three energy flows (production, house, grid), carried forward between reads by the CT.

The request economy lives here as much as in the scheduler: production.json
is slow (seconds to tens of seconds on recent firmware) while
``/ivp/meters/readings`` is fast and carries the same CT counters. So on
metered sites production.json is read every few minutes only, and between
reads each flow is *carried forward* by the CT: power now from the CT, and
every counter (today, last seven days, lifetime) advanced by the energy the
CT measured since production.json was read. The numbers stay exact, not
estimated, because both come from the same meter.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..models.energy import EnergyReading, PhaseReadings
from ..models.meters import Meter, MeterChannel, MeterReading, MeterState
from ..models.production import ProductionReport

__all__ = ["CtBaseline", "Flows", "carry_forward", "compose_flows", "ct_counters"]

FLOWS = ("production", "consumption", "net_consumption")
CT_SOURCE = "meters/readings"

_READING_FIELDS = tuple(f.name for f in dataclasses.fields(EnergyReading))
_reading_values = operator.attrgetter(*_READING_FIELDS)


def _with(reading: EnergyReading, **changes: float | str | None) -> EnergyReading:
    """``dataclasses.replace`` for the readings of every update (issue 31: a third its cost).

    `replace` looks up and checks every field of the class on each call;
    here the field names are known once and read in one `attrgetter`.
    """
    values = dict(zip(_READING_FIELDS, _reading_values(reading), strict=True))
    values.update(changes)
    return EnergyReading(**values)


# -- CT counters -------------------------------------------------------------

Counters = dict[str, float]  # flow name (or "L1:production") -> CT lifetime Wh


def _net(reading: MeterReading | MeterChannel) -> float:
    return reading.wh_delivered - reading.wh_received


def ct_counters(meters: Mapping[str, Meter]) -> tuple[Counters, dict[str, float]]:
    """Per flow (aggregate and per phase): the CT's lifetime Wh and its watts now."""
    by_type: dict[str, MeterReading] = {}
    for meter in meters.values():
        if meter.reading is not None and meter.config.state is MeterState.ENABLED:
            by_type.setdefault(meter.config.measurement_type.value, meter.reading)
    counters: Counters = {}
    watts: dict[str, float] = {}

    def put(name: str, wh: float, w: float) -> None:
        counters[name] = wh
        watts[name] = w

    prod = by_type.get("production")
    net = by_type.get("net-consumption")
    total = by_type.get("total-consumption")
    if prod is not None:
        put("production", prod.wh_delivered, prod.watts)
        for ch in prod.channels:
            put(f"{ch.phase}:production", ch.wh_delivered, ch.watts)
    if net is not None:
        put("net_consumption", _net(net), net.watts)
        for ch in net.channels:
            put(f"{ch.phase}:net_consumption", _net(ch), ch.watts)
    if total is not None:
        # The gateway's own definition (8.3.5433 capture): net-consumption whLifetime =
        # (total CT delivered - received) - production, so the house is delivered - received.
        put("consumption", _net(total), total.watts)
        for ch in total.channels:
            put(f"{ch.phase}:consumption", _net(ch), ch.watts)
    # The gateway computes the flow it does not measure, and so do we, the same way:
    # house = production CT + net CT. A storage CT is reported but not added: real
    # gateways leave it out (8.2.127 capture: total 1843.831 = 1714.424 + 129.407).
    sources: dict[str, tuple[float, float]] = {}  # prefix -> (net Wh, watts) of production
    if prod is not None:
        parts: list[tuple[str, MeterReading | MeterChannel]] = [("", prod)]
        parts += [(f"{c.phase}:", c) for c in prod.channels]
        for prefix, part in parts:
            sources[prefix] = (_net(part), part.watts)
    for prefix, (src_wh, src_w) in sources.items():
        net_key, total_key = f"{prefix}net_consumption", f"{prefix}consumption"
        if net_key in counters and total_key not in counters:
            put(total_key, src_wh + counters[net_key], src_w + watts[net_key])
        elif total_key in counters and net_key not in counters:
            put(net_key, counters[total_key] - src_wh, watts[total_key] - src_w)
    return counters, watts


@dataclass(slots=True)
class CtBaseline:
    """The CT counters at the moment production.json was last read."""

    counters: Counters = field(default_factory=dict)


def carry_forward(
    base: EnergyReading | None,
    name: str,
    baseline: CtBaseline,
    counters: Counters,
    watts: Mapping[str, float],
) -> EnergyReading | None:
    """`base` (from production.json) advanced by what the CT measured since it was read."""
    if name not in counters:
        return base
    now_wh, w = counters[name], watts[name]
    if base is None:
        return None
    start = baseline.counters.get(name)
    delta = 0.0 if start is None else now_wh - start

    def plus(value: float | None) -> float | None:
        return None if value is None else value + delta

    return _with(
        base,
        watts=w,
        wh_today=plus(base.wh_today),
        wh_last_7_days=plus(base.wh_last_7_days),
        wh_lifetime=plus(base.wh_lifetime),
        source=base.source if base.source.endswith(CT_SOURCE) else f"{base.source}+{CT_SOURCE}",
    )


def _without_unfilled_counters(reading: EnergyReading | None) -> EnergyReading | None:
    """Net consumption's today / 7-day counters: firmware sends 0 and never fills them.

    A zero there is "not measured", not "balanced": report None rather than a
    number that the CT carry-forward would turn into a plausible-looking lie.
    """
    if reading is None or reading.wh_today or reading.wh_last_7_days:
        return reading
    return _with(reading, wh_today=None, wh_last_7_days=None)


@dataclass(frozen=True, slots=True)
class Flows:
    """The three flows, aggregate and per phase."""

    production: EnergyReading | None = None
    consumption: EnergyReading | None = None
    net_consumption: EnergyReading | None = None
    phases: Mapping[str, PhaseReadings] = field(default_factory=dict)


def compose_flows(
    report: ProductionReport | None,
    meters: Mapping[str, Meter] | None,
    baseline: CtBaseline,
    phases_in_use: int | None,
) -> Flows:
    """The flows from the last production report, carried forward by the CT readings."""
    if report is None:
        return Flows()
    counters, watts = ct_counters(meters or {})
    base = {
        "production": report.best_production,
        "consumption": report.total_consumption,
        "net_consumption": report.net_consumption,
    }
    if report.production is None:
        # No production CT: the inverters section cannot be carried forward by a CT.
        counters.pop("production", None)
    base["net_consumption"] = _without_unfilled_counters(report.net_consumption)
    agg = {name: carry_forward(base[name], name, baseline, counters, watts) for name in FLOWS}
    used = report.used_phases()
    if phases_in_use is not None:
        used = tuple(p for p in sorted(report.phases) if int(p[1:]) <= phases_in_use)
    phases: dict[str, PhaseReadings] = {}
    if len(used) > 1 or (phases_in_use or 0) > 1:
        for name in used:
            line = report.phases[name]
            phases[name] = PhaseReadings(
                production=carry_forward(
                    line.production, f"{name}:production", baseline, counters, watts
                ),
                consumption=carry_forward(
                    line.consumption, f"{name}:consumption", baseline, counters, watts
                ),
                net_consumption=carry_forward(
                    _without_unfilled_counters(line.net_consumption),
                    f"{name}:net_consumption",
                    baseline,
                    counters,
                    watts,
                ),
            )
    return Flows(agg["production"], agg["consumption"], agg["net_consumption"], phases)

"""Prometheus metrics of everything the collector knows, built at scrape time.

Why a custom collector (`prometheus_client.registry.Collector`) rather than
gauges updated on each snapshot: the values already live in the collector's
state (latest snapshot, live frame, request statistics), so a scrape reads
them as they are, labels come and go with gateways and inverters without
stale series, and nothing costs anything between scrapes. The exposition
text is `prometheus_client`'s own.

Names follow the Prometheus conventions and pass ``promtool check metrics``:
base units (watts, joules, seconds: the gateway's watt-hours times 3600, as
Prometheus wants; ``/ 3600000`` in a query gives kWh), ``_total`` for
counters, ``serial`` on every series. Power, inverter power and SoC are
exported only while the gateway is ``connected``: a dead gateway's last
values are not news. The history's health comes from `HistorySink.stats`. The site
total has ``phase="total"``; net consumption is signed (export lowers it),
so it is a gauge, not a counter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .history_rows import COUNTER_FLOWS
from .history_schema import FLOWS
from .site_sum import site_members

if TYPE_CHECKING:
    from .collector import GatewayState

__all__ = ["CollectorMetrics", "exposition"]

_PHASE_FLOWS = ("solar", "house", "grid", "battery")  # a phase has no generator
_J_PER_WH = 3600.0


class CollectorMetrics(Collector):
    """Yields the metric families of every gateway's current state."""

    def __init__(
        self,
        states: Callable[[], Mapping[str, GatewayState]],
        clock: Callable[[], float],
        history: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        """`history`: the history sink's `stats` (pending, dropped, written, last write)."""
        self._states = states
        self._clock = clock
        self._history = history

    def _history_metrics(self) -> Iterator[Metric]:
        if self._history is None:
            return
        stats = self._history()
        yield GaugeMetricFamily(
            "enphase_history_pending_rows",
            "Rows held in memory, not yet in the history file",
            value=float(stats["pending_rows"]),
        )
        yield CounterMetricFamily(
            "enphase_history_dropped_rows",
            "Rows dropped because the history could not be written for too long",
            value=float(stats["dropped_rows"]),
        )
        yield CounterMetricFamily(
            "enphase_history_written_rows",
            "Rows written to the history file",
            value=float(stats["written_rows"]),
        )
        yield GaugeMetricFamily(
            "enphase_history_healthy",
            "1 while history writes succeed",
            value=float(not stats["error"]),
        )
        if stats["last_write_at"] is not None:
            yield GaugeMetricFamily(
                "enphase_history_last_write_timestamp_seconds",
                "When rows were last written to the history file",
                value=float(stats["last_write_at"]),
            )

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        up = GaugeMetricFamily("enphase_up", "1 when the last update answered", labels=["serial"])
        age = GaugeMetricFamily(
            "enphase_update_age_seconds",
            "Seconds since the last good update",
            labels=["serial"],
        )
        power = GaugeMetricFamily(
            "enphase_power_watts",
            "Power of each flow (grid: + import; battery: + discharge)",
            labels=["serial", "flow", "phase"],
        )
        energy = CounterMetricFamily(
            "enphase_energy_joules",
            "Lifetime energy counters of the gateway",
            labels=["serial", "flow", "phase"],
        )
        net = GaugeMetricFamily(
            "enphase_energy_net_joules",
            "Lifetime net consumption (import minus export) as the gateway counts it",
            labels=["serial", "phase"],
        )
        today = GaugeMetricFamily(
            "enphase_energy_today_joules",
            "Energy since local midnight",
            labels=["serial", "flow"],
        )
        six = CounterMetricFamily(
            "enphase_energy_flow_joules",
            "Where the energy went: solar, house, grid import/export, battery charge/discharge",
            labels=["serial", "flow"],
        )
        flows_today = GaugeMetricFamily(
            "enphase_energy_flow_today_joules",
            "Each flow since the site's local midnight",
            labels=["serial", "flow"],
        )
        inverter = GaugeMetricFamily(
            "enphase_inverter_power_watts",
            "Power of each microinverter at its last report",
            labels=["serial", "inverter"],
        )
        report = GaugeMetricFamily(
            "enphase_inverter_last_report_timestamp_seconds",
            "When each microinverter last reported",
            labels=["serial", "inverter"],
        )
        soc = GaugeMetricFamily(
            "enphase_battery_soc_percent",
            "Battery state of charge (unit='' for the whole bank)",
            labels=["serial", "unit"],
        )
        section = GaugeMetricFamily(
            "enphase_section_age_seconds",
            "Seconds since each section of the snapshot was fresh",
            labels=["serial", "section"],
        )
        requests = CounterMetricFamily(
            "enphase_requests", "HTTP exchanges with the gateway", labels=["serial", "path"]
        )
        failures = CounterMetricFamily(
            "enphase_request_failures",
            "Exchanges that failed (error, timeout, status >= 400)",
            labels=["serial", "path"],
        )
        retries = CounterMetricFamily(
            "enphase_request_retries", "Retried exchanges", labels=["serial", "path"]
        )
        site_of = GaugeMetricFamily(
            "enphase_site_gateway",
            "1 for each gateway a [[site]]'s series sum (serial: the site's)",
            labels=["serial", "gateway"],
        )
        for state in self._states().values():
            serial = state.serial
            if serial is None:
                continue
            up.add_metric([serial], 1.0 if state.state == "connected" else 0.0)
            if state.last_ok is not None:
                age.add_metric([serial], max(0.0, now - state.last_ok))
            current = state.state == "connected"  # old power and SoC are not exported as news
            frame = state.frame if current else None
            if frame is not None:
                holders: list[tuple[str, object, tuple[str, ...]]] = [("total", frame, FLOWS)]
                holders += [(ph, p, _PHASE_FLOWS) for ph, p in frame.phases.items()]
                for phase, source, flows in holders:
                    for flow in flows:
                        value = getattr(source, f"{flow}_watts")
                        if value is not None:
                            power.add_metric([serial, flow, phase], value)
            snap = state.snapshot
            for member in (site_members(snap) or []) if snap is not None else []:
                site_of.add_metric([serial, member], 1.0)  # a sum, and of whom: not one more roof
            if snap is not None:
                readings = [("total", snap)] + [(ph, r) for ph, r in snap.phases.items()]
                for phase, holder in readings:
                    for flow in COUNTER_FLOWS:
                        reading = getattr(holder, flow)
                        if reading is None or reading.wh_lifetime is None:
                            continue
                        if flow == "net_consumption":
                            net.add_metric([serial, phase], reading.wh_lifetime * _J_PER_WH)
                        else:
                            joules = reading.wh_lifetime * _J_PER_WH
                            energy.add_metric([serial, flow, phase], joules)
                        if phase == "total" and reading.wh_today is not None:
                            today.add_metric([serial, flow], reading.wh_today * _J_PER_WH)
                if snap.energy is not None:  # the six flows (issue 23)
                    for family, counted in (
                        (six, snap.energy.lifetime_wh),
                        (flows_today, snap.energy.today_wh),
                    ):
                        for name, value in counted.to_dict().items():
                            if value is not None:
                                family.add_metric([serial, name], value * _J_PER_WH)
                for inv_serial, inv in snap.inverters.items():
                    if current:
                        inverter.add_metric([serial, inv_serial], inv.watts)
                    report.add_metric([serial, inv_serial], float(inv.last_report))
                if not current:
                    pass
                elif snap.battery is not None:
                    if snap.battery.soc_percent is not None:
                        soc.add_metric([serial, ""], snap.battery.soc_percent)
                    for unit_serial, unit in snap.battery.units.items():
                        if unit.soc_percent is not None:
                            soc.add_metric([serial, unit_serial], unit.soc_percent)
                elif snap.acb is not None and snap.acb.soc_percent is not None:
                    soc.add_metric([serial, ""], snap.acb.soc_percent)
                for key, fresh in snap.freshness.items():
                    section.add_metric([serial, key], max(0.0, now - fresh))
            if state.envoy is not None:
                for path, stats in state.envoy.stats.paths.items():
                    requests.add_metric([serial, path], float(stats.requests))
                    failures.add_metric([serial, path], float(stats.failures))
                    retries.add_metric([serial, path], float(stats.retries))
        yield from (up, age, power, energy, net, today, six, flows_today)
        yield from (inverter, report, soc, section)
        yield from (requests, failures, retries, site_of)
        yield from self._history_metrics()


def exposition(
    states: Callable[[], Mapping[str, GatewayState]],
    clock: Callable[[], float] = time.time,
    history: Callable[[], Mapping[str, Any]] | None = None,
) -> Callable[[], bytes]:
    """A function that renders the text exposition format of the current state."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CollectorMetrics(states, clock, history))
    return lambda: generate_latest(registry)

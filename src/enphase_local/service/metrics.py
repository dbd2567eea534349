"""Prometheus metrics of everything the collector knows, built at scrape time.

Why a custom collector (`prometheus_client.registry.Collector`) rather than
gauges updated on each snapshot: the values already live in the collector's
state (latest snapshot, live frame, request statistics), so a scrape reads
them as they are, labels come and go with gateways and inverters without
stale series, and nothing costs anything between scrapes. The text of the
feature table's families is cached per gateway and snapshot and written
directly (`metric_text`, `CachedTable`); `exposition(cached=False)` keeps the
uncached walk with prometheus_client's own text, the reference tests compare to.

Every numeric value of the feature table (`enphase_local.features`) is a series,
named, typed and labelled by `metric_names` (one home for those rules, the
names users already graph kept there): a feature added to the table appears
here with no edit. Names pass ``promtool check metrics``: base units (watts,
joules: the gateway's watt-hours times 3600; ``/ 3.6e6`` in a query gives
kWh), ``_total`` for counters, ``serial`` on every series. A gateway that is
not ``connected`` keeps only its counters and timestamps: a dead gateway's
last power is not news. Beside the table: the collector's own state (up, ages,
requests, the history's health from `HistorySink.stats`, [[site]] members) and
net consumption's counters, signed (export lowers them), so gauges.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ..features import Feature, Readings, scope_keys
from ..models.snapshot import Snapshot
from .metric_names import (
    CLOCKED,
    NET_LIFETIME,
    NET_TODAY,
    Series,
    derived,
    kept_while_stale,
    numeric_features,
    scale,
    series_of,
)
from .metric_text import GatewayLines, TableCache, as_number, header, metric_text, series_line
from .site_sum import site_members

if TYPE_CHECKING:
    from .collector import GatewayState

__all__ = ["CachedTable", "CollectorMetrics", "Exposition", "FeatureSeries", "exposition"]

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
        """The families for prometheus_client: the uncached path, kept as the reference."""
        for part in self.parts(FeatureSeries()):
            assert isinstance(part, Metric)  # a FeatureSeries' families are Metrics
            yield part

    def render(self, cache: TableCache) -> bytes:
        """The exposition text, the table's lines from `cache` (see `metric_text`)."""
        parts = self.parts(CachedTable(cache))
        return "".join(p if isinstance(p, str) else metric_text(p) for p in parts).encode()

    def parts(self, table: FeatureSeries | CachedTable) -> Iterator[Metric | str]:
        """Every family in exposition order; the table's as `table` makes them."""
        now = self._clock()
        up = GaugeMetricFamily("enphase_up", "1 when the last update answered", labels=["serial"])
        age = GaugeMetricFamily(
            "enphase_update_age_seconds",
            "Seconds since the last good update",
            labels=["serial"],
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
            snap = state.snapshot
            if snap is None:
                continue
            for member in site_members(snap) or []:
                site_of.add_metric([serial, member], 1.0)  # a sum, and of whom: not one more roof
            expires = state.envoy.token_expires_at if state.envoy is not None else None
            readings = Readings(snap, state.frame, token_expires_at=expires, now=now)
            table.add(serial, readings, current=state.state == "connected")
            for key, fresh in snap.freshness.items():
                section.add_metric([serial, key], max(0.0, now - fresh))
            if state.envoy is not None:
                for path, stats in state.envoy.stats.paths.items():
                    requests.add_metric([serial, path], float(stats.requests))
                    failures.add_metric([serial, path], float(stats.failures))
                    retries.add_metric([serial, path], float(stats.retries))
        yield from (up, age, *table.families(), section)
        yield from (requests, failures, retries, site_of)
        yield from self._history_metrics()


class FeatureSeries:
    """The table's numeric features of every gateway as metric families, built per scrape.

    Each instance is one sample of its feature's series (`metric_names.series_of`); where
    a kept name already holds those labels (an AC Battery bank beside an IQ Battery bank,
    both ``unit=""``), the later one takes its derived name, so no value is lost.
    """

    def __init__(self, *, text: bool = False) -> None:
        """`text`: families as exposition lines (`lines`), the clocked features' samples
        left in `deferred` (see `CachedTable`); else prometheus_client's families."""
        self._families: dict[str, GaugeMetricFamily | CounterMetricFamily] = {}
        self.lines: dict[str, list[str]] = {}  # family -> header, then sample lines
        self._seen: set[tuple[str, ...]] = set()
        self._text = text
        self.deferred: list[tuple[Series, str, Feature, float]] = []

    def sample(
        self,
        series: Series,
        serial: str,
        key: str,
        value: float,
        defer: tuple[Feature, float] | None = None,
    ) -> bool:
        """Add one sample; False when its family already has these labels.

        With `defer` (feature, factor) the family is made but the sample only noted.
        """
        labels = series.values(serial, key)
        mark = (series.name, *labels)
        if mark in self._seen:
            return False
        self._seen.add(mark)
        if self._text:
            lines = self.lines.get(series.name)
            if lines is None:
                lines = [header(series.name, series.help, series.counter)]
                self.lines[series.name] = lines
            if defer is None:
                lines.append(series_line(series, labels, value))
            else:
                self.deferred.append((series, key, *defer))
            return True
        family = self._families.get(series.name)
        if family is None:
            names = ["serial", *series.labels]
            if series.counter:
                family = CounterMetricFamily(series.name, series.help, labels=names)
            else:
                family = GaugeMetricFamily(series.name, series.help, labels=names)
            self._families[series.name] = family
        family.add_metric(labels, value)
        return True

    def add(self, serial: str, readings: Readings, *, current: bool) -> None:
        """Every numeric feature instance of one gateway (only counts and moments if stale)."""
        for feature, series, fallback, factor, kept in _PLAN:
            if not (current or kept):
                continue
            for key in scope_keys(feature.scope, readings):
                if feature.exists is not None and not feature.present(readings, key):
                    continue
                number = as_number(feature.value(readings, key), factor)
                if number is None:
                    continue  # absent here (None), or not a number on this site
                defer = (feature, factor) if self._text and feature.id in CLOCKED else None
                if not self.sample(series, serial, key, number, defer):
                    self.sample(fallback, serial, key, number, defer)
        _net_energy(self, serial, readings.snapshot)

    def families(self) -> list[Metric]:
        return list(self._families.values())


_PLAN = tuple(
    (f, series_of(f), derived(f), scale(f), kept_while_stale(f)) for f in numeric_features()
)


def _net_energy(table: FeatureSeries, serial: str, snap: Snapshot) -> None:
    """Net consumption's counters, which the feature table has no entry for (yet).

    Signed (export lowers them), so gauges; the site total has ``phase="total"``.
    """
    holders = [("total", snap.net_consumption)]
    holders += [(ph, r.net_consumption) for ph, r in snap.phases.items()]
    for phase, reading in holders:
        if reading is None or reading.wh_lifetime is None:
            continue
        table.sample(NET_LIFETIME, serial, phase, reading.wh_lifetime * _J_PER_WH)
        if phase == "total" and reading.wh_today is not None:
            table.sample(NET_TODAY, serial, "", reading.wh_today * _J_PER_WH)


class CachedTable:
    """One scrape's table families as text, from `TableCache` (a walk per changed gateway).

    Two gateways with one serial (a misconfiguration) share marks in `FeatureSeries`;
    then the scrape walks them all uncached so the text stays the reference's.
    """

    def __init__(self, cache: TableCache) -> None:
        self._cache = cache
        self._merged: dict[str, list[str]] = {}  # family -> header, then each gateway's lines
        self._calls: list[tuple[str, Readings, bool]] = []
        self._serials: set[str] = set()
        self._collided = False

    def add(self, serial: str, readings: Readings, *, current: bool) -> None:
        self._calls.append((serial, readings, current))
        if serial in self._serials:
            self._collided = True
            return
        self._serials.add(serial)
        key = (readings.snapshot, readings.frame, readings.token_expires_at, current)
        entry = self._cache.get(serial, key)
        if entry is None:
            entry = _walk(serial, readings, key)
            self._cache.put(serial, entry)
        for name, text in entry.texts(readings).items():
            chunks = self._merged.get(name)
            if chunks is None:
                self._merged[name] = [entry.families[name][0], text]
            else:
                chunks.append(text)

    def families(self) -> list[str]:
        self._cache.keep_only(self._serials)
        if self._collided:
            table = FeatureSeries()
            for serial, readings, current in self._calls:
                table.add(serial, readings, current=current)
            return [metric_text(m) for m in table.families()]
        return ["".join(chunks) for chunks in self._merged.values() if any(chunks[1:])]


def _walk(serial: str, readings: Readings, key: tuple[Any, ...]) -> GatewayLines:
    """One gateway's table as text, its clocked samples left to each scrape."""
    table = FeatureSeries(text=True)
    table.add(serial, readings, current=key[-1])
    entry = GatewayLines(key)
    for name, lines in table.lines.items():
        entry.families[name] = (lines[0], "".join(lines[1:]))
    for series, item, feature, factor in table.deferred:
        entry.clocked.append((series, series.values(serial, item), feature, item, factor))
    return entry


class Exposition:
    """The /metrics body: `render` with this gateway-lines cache, or the reference path."""

    def __init__(self, metrics: CollectorMetrics, *, cached: bool = True) -> None:
        self.metrics = metrics
        self.cache = TableCache() if cached else None
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(metrics)

    def __call__(self) -> bytes:
        if self.cache is None:
            return generate_latest(self._registry)
        return self.metrics.render(self.cache)


def exposition(
    states: Callable[[], Mapping[str, GatewayState]],
    clock: Callable[[], float] = time.time,
    history: Callable[[], Mapping[str, Any]] | None = None,
    *,
    cached: bool = True,
) -> Exposition:
    """What renders the text exposition format of the current state (`cached=False`:
    prometheus_client's own text of the uncached walk, the reference)."""
    return Exposition(CollectorMetrics(states, clock, history), cached=cached)

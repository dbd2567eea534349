"""Which Prometheus series each feature of the table is: name, type, labels, unit.

Why one home: /metrics used to say on its own which values exist; now every
numeric feature instance (sensor, number, on/off) of `enphase_local.features`
is one series, so a feature added to the table appears on /metrics with no
edit here. Names of series users already graph are kept by declaration
(`KEPT`: Grafana panels and alerts name them); any other feature gets a name
derived from its id and unit (`derived`).

The rules, each decided here only:

- type: ``state_class`` ``total_increasing`` is a counter (``_total``), the rest
  gauges; a kept name keeps the type it had.
- units: Prometheus base units. W -> ``_watts``; Wh -> ``_joules`` (x 3600, so
  ``/ 3.6e6`` in a query is kWh); % stays ``_percent`` as ``enphase_battery_soc_percent``
  always was; d and min -> ``_seconds``; a timestamp -> ``_timestamp_seconds``; an
  on/off value is 1 or 0.
- labels: ``serial``, and the item key under the scope's name (``phase``, ``meter``,
  ``inverter``, ``battery`` ...).
- staleness: a gateway that is not ``connected`` keeps only counts and moments
  (`kept_while_stale`); its last power or state of charge is not news.

``python -m enphase_local.service.metric_names`` prints the table of
docs/metrics.md (a test holds the two equal).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..features import FEATURES, Feature, Kind, Scope
from ..models.energy_flows import ENERGY_FLOWS

__all__ = [
    "CLOCKED",
    "KEPT",
    "NET_LIFETIME",
    "NET_TODAY",
    "Series",
    "derived",
    "is_numeric",
    "kept_while_stale",
    "markdown",
    "numeric_features",
    "scale",
    "series_of",
]


@dataclass(frozen=True, slots=True)
class Series:
    """One feature's place in a metric family: the family and its labels beside ``serial``."""

    name: str  # without ``_total``: prometheus_client adds it to a counter
    counter: bool
    labels: tuple[str, ...] = ()
    fixed: Mapping[str, str] = field(default_factory=dict)  # label -> value for every item
    key_label: str | None = None  # the label that holds the item key
    help: str = ""

    def values(self, serial: str, key: str) -> list[str]:
        """The label values, ``serial`` first, for the item `key`."""
        return [serial] + [key if n == self.key_label else self.fixed[n] for n in self.labels]


_UNITS: Mapping[str | None, tuple[str, float]] = {
    "W": ("watts", 1.0),
    "Wh": ("joules", 3600.0),
    "%": ("percent", 1.0),
    "°C": ("celsius", 1.0),
    "V": ("volts", 1.0),
    "A": ("amperes", 1.0),
    "Hz": ("hertz", 1.0),
    "s": ("seconds", 1.0),
    "min": ("seconds", 60.0),
    "d": ("seconds", 86_400.0),
}
_KINDS = (Kind.SENSOR, Kind.NUMBER, Kind.BINARY_SENSOR)
_RENAMED: Mapping[str, str] = {
    "production_last_7_days": "enphase_production_last_week",
    "consumption_last_7_days": "enphase_consumption_last_week",
    "token_days_left": "enphase_token_left",
}
"""Ids whose words promtool takes for a unit that is not a base unit ("days")."""


def is_numeric(feature: Feature) -> bool:
    """A feature whose value is a number or on/off: a sensor of text or options is not."""
    if feature.kind not in _KINDS:
        return False
    if feature.kind is not Kind.SENSOR:
        return True
    if feature.device_class == "enum" or feature.options:
        return False
    return bool(feature.unit or feature.state_class or feature.device_class) or (
        feature.id in _UNITLESS_COUNTS
    )


_UNITLESS_COUNTS = frozenset({"ct_status_flags"})
CLOCKED = frozenset({"token_days_left"})
"""Features whose value reads `Readings.now`: /metrics computes them each scrape, since a
gateway's other lines are cached per snapshot (a test finds every other feature clock-free)."""
"""Sensors that are numbers with no unit, device or state class (so not told apart from text)."""


def scale(feature: Feature) -> float:
    """What the feature's value is multiplied by for its base unit (Wh -> J: 3600)."""
    return _UNITS.get(feature.unit, ("", 1.0))[1]


def kept_while_stale(feature: Feature) -> bool:
    """Counts and moments stay true when the gateway stops answering; a reading now does not."""
    return feature.state_class in ("total", "total_increasing") or feature.device_class in (
        "energy",
        "timestamp",
    )


def derived(feature: Feature) -> Series:
    """The series of a feature no user has graphed yet: named from its id and unit."""
    if feature.device_class == "timestamp":
        suffix = "timestamp_seconds"
    else:
        suffix = _UNITS.get(feature.unit, ("", 1.0))[0]
    name = _RENAMED.get(feature.id, f"enphase_{feature.id}")
    if suffix and not name.endswith(f"_{suffix}"):
        name = f"{name}_{suffix}"
    scoped = feature.scope is not Scope.SITE
    key = feature.scope.value if scoped else None
    text = feature.name + (f": {feature.doc}" if feature.doc else "")
    return Series(
        name,
        feature.state_class == "total_increasing",
        labels=(key,) if key else (),
        key_label=key,
        help=f"{text} (feature {feature.id})",
    )


def _by_phase(
    fid: str, name: str, counter: bool, flow: str, text: str
) -> Iterator[tuple[str, Series]]:
    """A flow's site feature (``phase="total"``) and, but for the generator, its per-phase one."""
    labels = ("flow", "phase")
    yield fid, Series(name, counter, labels, {"flow": flow, "phase": "total"}, help=text)
    if flow != "generator":  # a phase has no generator
        yield f"{fid}_phase", Series(name, counter, labels, {"flow": flow}, "phase", text)


def _kept() -> Iterator[tuple[str, Series]]:
    """Today's names (docs/service.md, Grafana panels) and the features behind them."""
    power_help = "Power of each flow (grid: + import; battery: + discharge)"
    for flow in ("solar", "house", "grid", "battery", "generator"):
        yield from _by_phase(f"live_{flow}_power", "enphase_power_watts", False, flow, power_help)
    lifetime_help = "Lifetime energy counters of the gateway"
    for flow in ("production", "consumption"):
        yield from _by_phase(f"{flow}_lifetime", "enphase_energy_joules", True, flow, lifetime_help)
        yield (
            f"{flow}_today",
            Series(
                "enphase_energy_today_joules",
                False,
                ("flow",),
                {"flow": flow},
                help="Energy since local midnight",
            ),
        )
    for flow in ENERGY_FLOWS:
        yield (
            f"energy_{flow}_lifetime",
            Series(
                "enphase_energy_flow_joules",
                True,
                ("flow",),
                {"flow": flow},
                help="Where the energy went: solar, house, grid import/export, "
                "battery charge/discharge",
            ),
        )
        yield (
            f"energy_{flow}_today",
            Series(
                "enphase_energy_flow_today_joules",
                False,
                ("flow",),
                {"flow": flow},
                help="Each flow since the site's local midnight",
            ),
        )
    yield (
        "inverter_power",
        Series(
            "enphase_inverter_power_watts",
            False,
            ("inverter",),
            key_label="inverter",
            help="Power of each microinverter at its last report",
        ),
    )
    yield (
        "inverter_last_report",
        Series(
            "enphase_inverter_last_report_timestamp_seconds",
            False,
            ("inverter",),
            key_label="inverter",
            help="When each microinverter last reported",
        ),
    )
    soc_help = "Battery state of charge (unit='' for the whole bank)"
    bank = Series("enphase_battery_soc_percent", False, ("unit",), {"unit": ""}, help=soc_help)
    yield "battery_level", bank
    yield "acb_level", bank  # an AC Battery bank, where no IQ Battery bank has the label set
    yield (
        "battery_unit_level",
        Series("enphase_battery_soc_percent", False, ("unit",), key_label="unit", help=soc_help),
    )


KEPT: Mapping[str, Series] = MappingProxyType(dict(_kept()))
"""Feature id -> the series it has always been; every other numeric feature is `derived`."""


NET_LIFETIME = Series(
    "enphase_energy_net_joules",
    False,
    ("phase",),
    {},
    "phase",
    "Lifetime net consumption (import minus export) as the gateway counts it",
)
NET_TODAY = Series(
    "enphase_energy_today_joules",
    False,
    ("flow",),
    {"flow": "net_consumption"},
    help=KEPT["production_today"].help,
)
"""Net consumption's counters: kept names the table has no feature for (the snapshot's own)."""


def series_of(feature: Feature) -> Series:
    """The series a feature's instances are (its kept name, else derived)."""
    return KEPT.get(feature.id) or derived(feature)


def numeric_features() -> tuple[Feature, ...]:
    """The table's features that are series, in table order."""
    return tuple(f for f in FEATURES if is_numeric(f))


def markdown() -> str:
    """The table of feature series in docs/metrics.md: one row per family."""
    rows: dict[str, tuple[Series, list[str]]] = {}
    for feature in numeric_features():
        series = series_of(feature)
        rows.setdefault(series.name, (series, []))[1].append(feature.id)
    lines = ["| metric | type | labels | features |", "| --- | --- | --- | --- |"]
    for name, (series, ids) in rows.items():
        kind = "counter" if series.counter else "gauge"
        shown = f"{name}_total" if series.counter else name
        labels = ", ".join(("serial", *series.labels))
        lines.append(f"| `{shown}` | {kind} | {labels} | {', '.join(ids)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")

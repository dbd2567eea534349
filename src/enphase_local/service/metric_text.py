"""The text exposition format written directly, and each gateway's table lines cached.

Why: at a thousand gateways a scrape walked the whole feature table and had
`prometheus_client` format every sample again, though a gateway's values only
change with a new snapshot or live frame. Here a gateway's feature-table lines
are built once per (snapshot, frame, token expiry, connected) and a scrape only
joins text; the few features that read the clock (`metric_names.CLOCKED`) are
computed again each scrape. The text is byte for byte what
`prometheus_client.generate_latest` writes for the same families (gauges and
counters, no timestamps, labels sorted by name): a test holds the two equal.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import Metric
from prometheus_client.utils import floatToGoString

from ..features import Feature, Readings
from .metric_names import Series

__all__ = [
    "GatewayLines",
    "TableCache",
    "as_number",
    "header",
    "metric_text",
    "sample_line",
    "series_line",
]


_go_float: Callable[[float], str] = floatToGoString  # Prometheus' float text (+Inf, 1e+06)


def as_number(value: Any, factor: float) -> float | None:
    """A feature's value as a sample (on/off: 1 or 0), None when it is not a number."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value) * factor
    return None


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


@functools.lru_cache(maxsize=1024)
def header(name: str, documentation: str, counter: bool) -> str:
    """``# HELP`` and ``# TYPE`` of one family (a counter's name gets ``_total``).

    Cached: one string per family however many gateways' cached lines hold it."""
    shown = f"{name}_total" if counter else name
    doc = documentation.replace("\\", r"\\").replace("\n", r"\n")
    kind = "counter" if counter else "gauge"
    return f"# HELP {shown} {doc}\n# TYPE {shown} {kind}\n"


def sample_line(name: str, labels: Iterable[tuple[str, str]], value: float) -> str:
    """One sample; labels in name order, as prometheus_client writes them."""
    text = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels))
    return f"{name}{{{text}}} {_go_float(value)}\n" if text else (f"{name} {_go_float(value)}\n")


_SHAPES: dict[int, tuple[Series, str, tuple[tuple[str, int], ...]]] = {}
"""id(series) -> (series, sample name, label names sorted with their place): made once."""


def series_line(series: Series, labels: Sequence[str], value: float) -> str:
    """One sample of a table series; `labels` as `Series.values` gives them."""
    shape = _SHAPES.get(id(series))
    if shape is None or shape[0] is not series:
        order = tuple(sorted((n, i) for i, n in enumerate(("serial", *series.labels))))
        shape = (series, f"{series.name}_total" if series.counter else series.name, order)
        _SHAPES[id(series)] = shape
    _, name, order = shape
    text = ",".join(f'{n}="{_escape(labels[i])}"' for n, i in order)
    return f"{name}{{{text}}} {_go_float(value)}\n"


def metric_text(metric: Metric) -> str:
    """One gauge or counter family built by prometheus_client's classes, as text."""
    counter = metric.type == "counter"
    lines = [header(metric.name, metric.documentation, counter)]
    lines += [sample_line(s.name, s.labels.items(), s.value) for s in metric.samples]
    return "".join(lines)


@dataclass(slots=True)
class GatewayLines:
    """One gateway's table families: header and lines, in the order the walk made them.

    `clocked`: (series, label values, feature, item key, factor) of the samples computed
    again each scrape, placed at the end of their family's lines.
    """

    key: tuple[Any, ...]
    families: dict[str, tuple[str, str]] = field(default_factory=dict)
    clocked: list[tuple[Series, list[str], Feature, str, float]] = field(default_factory=list)

    def texts(self, readings: Readings) -> dict[str, str]:
        """Family name -> this gateway's lines now (clocked samples computed with `readings`)."""
        if not self.clocked:
            return {name: lines for name, (_, lines) in self.families.items()}
        out = {name: lines for name, (_, lines) in self.families.items()}
        for series, labels, feature, key, factor in self.clocked:
            number = as_number(feature.value(readings, key), factor)
            if number is not None:
                out[series.name] += series_line(series, labels, number)
        return out


class TableCache:
    """Each gateway's `GatewayLines`, kept while its snapshot and frame stay the same objects.

    `walks` counts table walks (a test holds a scrape of unchanged gateways to none).
    """

    def __init__(self) -> None:
        self.walks = 0
        self._entries: dict[str, GatewayLines] = {}

    def get(self, serial: str, key: tuple[Any, ...]) -> GatewayLines | None:
        entry = self._entries.get(serial)
        if entry is None:
            return None
        old = entry.key  # (snapshot, frame, ...): those two by identity, a new one is news
        same = old[0] is key[0] and old[1] is key[1] and old[2:] == key[2:]
        return entry if same else None

    def put(self, serial: str, entry: GatewayLines) -> None:
        self.walks += 1
        self._entries[serial] = entry

    def keep_only(self, serials: set[str]) -> None:
        """Forget gateways gone from the collector (their snapshots with them)."""
        for serial in [s for s in self._entries if s not in serials]:
            del self._entries[serial]

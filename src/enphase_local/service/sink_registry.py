"""The sinks a collector can build from its config: one entry per kind, table and flag.

Why a registry: each optional destination (MQTT, PostgreSQL, and the ones
to come) is a ``[sinks.<table>]`` TOML table and a command-line flag naming
its one required setting (``--mqtt URL``, ``--postgres DSN``). The config
loader, the ``enphase collect`` options and the runner all read this table,
so a new sink is one `SinkKind` here, nothing else. Builders import their
library lazily: a collector without MQTT never needs gmqtt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .sinks import Sink

__all__ = [
    "SINK_KINDS",
    "SinkKind",
    "SinkSettingsError",
    "build_sinks",
    "kind_named",
]


class SinkSettingsError(Exception):
    """A ``[sinks.*]`` table or flag cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class SinkKind:
    """One kind of sink: where its settings live and how it is built."""

    table: str  # its TOML table: [sinks.<table>]
    flag: str  # its command-line option, e.g. "--mqtt"
    key: str  # the table key the flag's value sets (url, dsn)
    metavar: str
    help: str
    extra: str  # the pip extra that installs its library
    build: Callable[[Mapping[str, Any]], Sink]


def _mqtt(table: Mapping[str, Any]) -> Sink:
    from .mqtt import MqttSink
    from .mqtt_config import MqttSettings

    return MqttSink(MqttSettings.from_config(table))


def _postgres(table: Mapping[str, Any]) -> Sink:
    from .postgres import PostgresSink

    return PostgresSink.from_config(table)


SINK_KINDS: tuple[SinkKind, ...] = (
    SinkKind(
        "mqtt",
        "--mqtt",
        "url",
        "URL",
        "Publish to this MQTT broker (mqtt://host[:port] or mqtts://), with HA discovery.",
        "mqtt",
        _mqtt,
    ),
    SinkKind(
        "postgres",
        "--postgres",
        "dsn",
        "DSN",
        "Also write the history to PostgreSQL (postgresql://user@host/db).",
        "postgres",
        _postgres,
    ),
)


def kind_named(table: str) -> SinkKind | None:
    for kind in SINK_KINDS:
        if kind.table == table:
            return kind
    return None


def build_sinks(tables: Mapping[str, Mapping[str, Any]]) -> list[Sink]:
    """The sinks of `tables` (``[sinks.*]`` name -> settings), in registry order.

    Raises `SinkSettingsError` naming the table for a bad setting or a
    missing library (with the extra to install), never a traceback.
    """
    sinks: list[Sink] = []
    for kind in SINK_KINDS:
        table = tables.get(kind.table)
        if table is None:
            continue
        try:
            sinks.append(kind.build(table))
        except ImportError as err:
            raise SinkSettingsError(
                f"[sinks.{kind.table}] needs {err.name or 'a library'}: "
                f"pip install 'enphase-local[{kind.extra}]'"
            ) from None
        except (ValueError, TypeError) as err:
            raise SinkSettingsError(f"[sinks.{kind.table}]: {err}") from None
    unknown = sorted(set(tables) - {k.table for k in SINK_KINDS})
    if unknown:
        raise SinkSettingsError(_unknown(unknown))
    return sinks


def _unknown(names: list[str]) -> str:
    known = ", ".join(f"[sinks.{k.table}]" for k in SINK_KINDS)
    return f"unknown sink(s) {', '.join(names)} (known: {known})"

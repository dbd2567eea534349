"""SOURCES: every endpoint the client can read, by key.

The one table the client's probe and scheduler, the CLI's `dump` and `raw`,
the simulator's tests and the benchmarks iterate over. It is *found*, not
listed: every `Source` defined in a module of this package is in it, in the
order of `SourceKey`, so adding an endpoint never edits this file (a key
without a source, or two sources for one key, fails at import). The sources
the engine names are re-exported here too: each is the typed key of its
model (``cache.get(TARIFF)``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from typing import Any

from .dry_contacts import DRY_CONTACT_SETTINGS, DRY_CONTACTS
from .ensemble import ENSEMBLE_INVENTORY, ENSEMBLE_POWER, ENSEMBLE_SECCTRL
from .generator import GEN_CONFIG, GEN_MODE, GEN_SCHEDULE, GENERATOR
from .home import HOME
from .info import INFO
from .inventory import INVENTORY
from .inverters import DEVICE_DATA, INVERTERS_V1
from .keys import SourceKey
from .legacy_html import PRODUCTION_HTML
from .live import LIVEDATA
from .meters import METERS, METERS_READINGS, METERS_REPORTS
from .production import PRODUCTION_JSON, PRODUCTION_SUMMARY, PRODUCTION_V1
from .registry import Source, build_table
from .settings import PEL_SETTINGS, PV_LIMIT
from .tariff import TARIFF

__all__ = [
    "DEVICE_DATA",
    "DRY_CONTACTS",
    "DRY_CONTACT_SETTINGS",
    "ENSEMBLE_INVENTORY",
    "ENSEMBLE_POWER",
    "ENSEMBLE_SECCTRL",
    "GENERATOR",
    "GEN_CONFIG",
    "GEN_MODE",
    "GEN_SCHEDULE",
    "HOME",
    "INFO",
    "INVENTORY",
    "INVERTERS_V1",
    "LIVEDATA",
    "METERS",
    "METERS_READINGS",
    "METERS_REPORTS",
    "PEL_SETTINGS",
    "PRODUCTION_HTML",
    "PRODUCTION_JSON",
    "PRODUCTION_SUMMARY",
    "PRODUCTION_V1",
    "PV_LIMIT",
    "SOURCES",
    "TARIFF",
]

_PACKAGE = __name__.rpartition(".")[0]


def _defined() -> Iterator[Source[Any]]:
    """Every `Source` object defined (or imported) by a module of this package."""
    package = importlib.import_module(_PACKAGE)
    for found in pkgutil.iter_modules(package.__path__):
        if found.name != "table":
            module = importlib.import_module(f"{_PACKAGE}.{found.name}")
            yield from (v for v in vars(module).values() if isinstance(v, Source))


def _collect() -> Mapping[SourceKey, Source[Any]]:
    """The sources by key, in `SourceKey` order; every key must have exactly one."""
    distinct = {id(source): source for source in _defined()}.values()
    order = {key: i for i, key in enumerate(SourceKey)}
    table = build_table(*sorted(distinct, key=lambda source: order[source.key]))
    missing = [key.value for key in SourceKey if key not in table]
    if missing:
        raise ValueError(f"no Source defined for {missing}: define one in its family module")
    return table


SOURCES: Mapping[SourceKey, Source[Any]] = _collect()

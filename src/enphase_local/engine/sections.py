"""Snapshot sections composed once per change of what they are made of, not once per update.

Why (issue 31 item 4): a steady update reads two or three sources, but the
snapshot rebuilt every section from the cache each time: 35 inverter views,
the meters, the battery, the generator... about a fifth of the update's
CPU for values that could not have changed. A section is a pure function
of some cached answers (and of the time those were read); while each of
those answers is the very object it was (the cache stores a new object for
every read), the section composed from them is kept and handed out again
(`engine.cache.SectionMemo`, held by the cache beside the answers).

So an unchanged section keeps its identity across snapshots (``is``), which
also lets a consumer (the Home Assistant integration, the MQTT publisher)
skip it cheaply.
"""

from __future__ import annotations

from ..models.meters import Meter
from ..models.production import ProductionReport
from ..sources.keys import SourceKey
from ..sources.table import (
    DEVICE_DATA,
    DPEL,
    DRY_CONTACT_SETTINGS,
    DRY_CONTACTS,
    ENSEMBLE_INVENTORY,
    ENSEMBLE_POWER,
    ENSEMBLE_SECCTRL,
    GEN_CONFIG,
    GEN_MODE,
    GEN_SCHEDULE,
    GENERATOR,
    INVENTORY,
    INVERTERS_V1,
    METERS,
    METERS_READINGS,
    PRODUCTION_POWER,
    SC_STATUS,
)
from .cache import SourceCache
from .export_limit import compose_export_limit
from .joins import (
    compose_acb,
    compose_battery,
    compose_contacts,
    compose_generator,
    compose_inverters,
    compose_meters,
)
from .quirks import blank_half_storage_ct

__all__ = [
    "MICROINVERTER_MAX_W",
    "Sections",
    "composed_meters",
    "inverter_rating_w",
]

MICROINVERTER_MAX_W = 450.0  # above the largest microinverter's rating (IQ8X: 384 VA)


def composed_meters(cache: SourceCache) -> tuple[dict[str, Meter], list[str]]:
    """The meters (their half-blank storage CT blanked) and that quirk's warnings."""
    config, readings = cache.get(METERS), cache.get(METERS_READINGS)
    meters, warnings = cache.sections.get(
        "meters",
        (config, readings),
        lambda: blank_half_storage_ct(compose_meters(config, readings)),
    )
    return meters, list(warnings)  # the caller adds its own warnings to the list


class Sections:
    """The sections composed from the cache and the production report, each kept while it can.

    The flows and their counter guards are not here: they count on every update.
    """

    __slots__ = (
        "acb", "battery", "dry_contacts", "export_limit", "generator", "inverters", "rated_w",
    )  # fmt: skip

    def __init__(self, cache: SourceCache, report: ProductionReport | None) -> None:
        memo, get, at = cache.sections, cache.get, cache.read_at
        v1, detail = get(INVERTERS_V1), get(DEVICE_DATA)
        self.inverters = memo.get("inverters", (v1, detail), lambda: compose_inverters(v1, detail))
        self.rated_w = memo.get("rated_w", (v1, detail), lambda: inverter_rating_w(cache))
        units = (get(ENSEMBLE_INVENTORY), get(ENSEMBLE_POWER), get(ENSEMBLE_SECCTRL))
        times = (at.get(SourceKey.ENSEMBLE_POWER), at.get(SourceKey.ENSEMBLE_SECCTRL))
        self.battery = memo.get(
            "battery", (*units, *times), lambda: compose_battery(*units, read_at=at)
        )
        devices = get(INVENTORY)
        self.acb = memo.get("acb", (report, devices), lambda: compose_acb(report, devices))
        gen = (get(GENERATOR), get(GEN_MODE), get(GEN_CONFIG), get(GEN_SCHEDULE))
        self.generator = memo.get("generator", gen, lambda: compose_generator(*gen))
        contacts = (get(DRY_CONTACTS), get(DRY_CONTACT_SETTINGS))
        self.dry_contacts = memo.get("dry_contacts", contacts, lambda: compose_contacts(*contacts))
        limit = (get(DPEL), get(PRODUCTION_POWER), get(SC_STATUS))
        self.export_limit = memo.get(
            "export_limit",
            limit,
            lambda: compose_export_limit(limit[0], limit[1], status=limit[2]),
        )


def inverter_rating_w(cache: SourceCache) -> float | None:
    """The inverters' rated power: their highest reports, or 450 W each if more (None: unknown).

    ``maxReportWatts`` may be a day's highest on some firmware: a cloudy
    morning must not shrink the ceiling, hence the per-inverter floor.
    """
    basic = cache.get(INVERTERS_V1) or {}
    detail = cache.get(DEVICE_DATA)
    details = detail.inverters if detail is not None else {}
    count = max(len(basic), len(details))
    sums = [sum(float(i.max_watts) for i in basic.values())]
    sums.append(sum(float(d.max_watts) for d in details.values()))
    best = max(*sums, count * MICROINVERTER_MAX_W)
    return best if best > 0 else None

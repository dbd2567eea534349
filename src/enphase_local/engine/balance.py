"""Power flows that add up: one `LiveFrame` from whichever source measured them. No I/O.

Every view (snapshot, live frames, CLI, JSON) presents the same balanced
picture, with the signs of `LiveFrame`:

    solar + grid + battery + generator = house    (within measurement error)

What each source measures, and so where each flow comes from:

- ``/ivp/livedata/status`` (`from_livedata`): the gateway's own balance: pv,
  grid, storage, generator and load, per phase. Used as is; house is the
  gateway's load (only computed when the load section is missing).
- CT readings (`from_readings`) and ``/stream/meter`` frames
  (`from_meter_frame`): solar is the *production* CT, grid the
  *net-consumption* CT (or total - production when only a total CT exists),
  battery the *storage* CT where one is installed, else the battery power the
  last update read (``/ivp/ensemble/power`` units plus the AC Battery's
  ``wNow``), flagged older in `LiveFrame.as_of`. House is computed:
  solar + grid + battery. It differs from the gateway's own
  *total-consumption*, which is production CT + net CT and so counts battery
  charging as consumption and leaves battery discharge out.

Why the production CT is solar: Enphase requires it to measure only the PV
output circuits, with the batteries on its load side (IQ System Controller
wiring); the captures agree (7.3.517_system_2: production CT 2660 W,
inverters 2675 W while the batteries charge at 2032 W).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from ..models.battery import AcbSummary, BatterySummary
from ..models.live import LiveData, LiveFlow
from ..models.live_frame import LiveFrame, LivePhase, MeterFrame
from ..models.meters import CtType, Meter, MeterReading
from ..sources.keys import SourceKey
from ..sources.table import LIVEDATA
from .cache import SourceCache

__all__ = [
    "FRESH_SLACK_S",
    "NEGATIVE_HOUSE_W",
    "Known",
    "battery_known",
    "cache_flow",
    "from_livedata",
    "from_meter_frame",
    "from_readings",
    "snapshot_flow",
]

FRESH_SLACK_S = 5.0
"""Livedata this much older than the CT readings still serves the snapshot's flow."""


@dataclass(frozen=True, slots=True)
class Known:
    """A flow value measured elsewhere, and when (epoch seconds) it was current."""

    watts: float
    at: float


def _sum(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


NEGATIVE_HOUSE_W = 50.0
"""A house load below minus this is impossible: the CT that made it so is not believed."""


def _implausible(solar: float | None, grid: float | None, storage: float | None) -> bool:
    """A storage CT that makes the house a producer (8.2.127 capture: -2580 W on the storage
    CT while the batteries report charging at 641 W) is miswired or misconfigured."""
    house = _house(solar, grid, storage, None)
    return house is not None and house < -NEGATIVE_HOUSE_W


def _house(
    solar: float | None, grid: float | None, battery: float | None, generator: float | None
) -> float | None:
    """The house load from its supplies; None unless both solar and grid are known."""
    if solar is None or grid is None:
        return None
    return solar + grid + (battery or 0.0) + (generator or 0.0)


# -- livedata --------------------------------------------------------------------------


def _flow_watts(flows: Mapping[str, LiveFlow], name: str) -> float | None:
    flow = flows.get(name)
    return None if flow is None else flow.watts


def from_livedata(live: LiveData, taken_at: float) -> LiveFrame:
    """The gateway's own balance: pv, grid, storage, generator and load, per phase."""
    flows = live.flows
    solar = _flow_watts(flows, "pv")
    grid = _flow_watts(flows, "grid")
    battery = _flow_watts(flows, "storage")
    generator = _flow_watts(flows, "generator")
    house = _flow_watts(flows, "load")
    if house is None:
        house = _house(solar, grid, battery, generator)
    names = sorted({p for f in flows.values() for p in f.phases})

    def phase(flow: str, name: str) -> float | None:
        found = flows.get(flow)
        return None if found is None else found.phases.get(name)

    phases = {
        name: LivePhase(
            solar_watts=phase("pv", name),
            house_watts=phase("load", name),
            grid_watts=phase("grid", name),
            battery_watts=phase("storage", name),
        )
        for name in names
    }
    return LiveFrame(
        taken_at=taken_at,
        source="livedata",
        solar_watts=solar,
        house_watts=house,
        grid_watts=grid,
        battery_watts=battery,
        generator_watts=generator,
        soc_percent=live.soc_percent,
        phases=phases if len(phases) > 1 else {},
    )


# -- CT readings and stream frames -------------------------------------------------------


def _by_type(meters: Mapping[str, Meter]) -> dict[CtType, MeterReading]:
    out: dict[CtType, MeterReading] = {}
    for meter in meters.values():
        if meter.reading is not None and meter.enabled:
            out.setdefault(meter.measurement_type, meter.reading)
    return out


def _channels(reading: MeterReading | None) -> dict[str, float]:
    return {} if reading is None else {c.phase: c.watts for c in reading.channels}


def _values(reading: MeterReading | None) -> Mapping[str, float] | float | None:
    """Per phase where the reading has channels, else its aggregate."""
    if reading is None:
        return None
    return _channels(reading) or reading.watts


def _ct_frame(
    source: str,
    taken_at: float,
    *,
    solar: Mapping[str, float] | float | None,
    grid: Mapping[str, float] | float | None,
    storage: Mapping[str, float] | float | None,
    battery: Known | None,
    soc_percent: float | None,
) -> LiveFrame:
    """The frame of CT values, aggregate and per phase; `battery` fills a missing storage CT."""

    def total(v: Mapping[str, float] | float | None) -> float | None:
        return _sum(v.values()) if isinstance(v, Mapping) else v

    solar_w, grid_w, storage_w = total(solar), total(grid), total(storage)
    as_of: dict[str, float] = {}
    battery_w = storage_w
    if battery is not None and (storage_w is None or _implausible(solar_w, grid_w, storage_w)):
        battery_w = battery.watts
        as_of["battery"] = battery.at
        storage = None  # the per-phase storage CT values are no better than its total
    phases: dict[str, LivePhase] = {}
    per = {k: v for k, v in (("s", solar), ("g", grid), ("b", storage)) if isinstance(v, Mapping)}
    names = sorted({p for v in per.values() for p in v})
    if len(names) > 1:
        for name in names:
            s, g = per.get("s", {}).get(name), per.get("g", {}).get(name)
            b = per.get("b", {}).get(name)
            # Per-phase house only when the battery's share of that phase is measured.
            known_b = b is not None or (battery_w is None)
            phases[name] = LivePhase(
                solar_watts=s,
                grid_watts=g,
                battery_watts=b,
                house_watts=_house(s, g, b, None) if known_b else None,
            )
    return LiveFrame(
        taken_at=taken_at,
        source=source,
        solar_watts=solar_w,
        house_watts=_house(solar_w, grid_w, battery_w, None),
        grid_watts=grid_w,
        battery_watts=battery_w,
        soc_percent=soc_percent,
        phases=phases,
        as_of=as_of,
    )


def from_readings(
    meters: Mapping[str, Meter],
    taken_at: float,
    *,
    battery: Known | None = None,
    soc_percent: float | None = None,
) -> LiveFrame | None:
    """The flows of the enabled CTs (None without a production or grid CT).

    Grid is the net-consumption CT, or total-consumption minus production
    where only a total CT is installed.
    """
    cts = _by_type(meters)
    prod = cts.get(CtType.PRODUCTION)
    net = cts.get(CtType.NET_CONSUMPTION)
    total = cts.get(CtType.TOTAL_CONSUMPTION)
    storage = cts.get(CtType.STORAGE)
    if prod is None and net is None and total is None:
        return None
    grid: Mapping[str, float] | float | None
    if net is not None:
        grid = _values(net)
    elif total is not None and prod is not None:
        tch, pch = _channels(total), _channels(prod)
        grid = {k: tch[k] - pch.get(k, 0.0) for k in tch} or total.watts - prod.watts
    else:
        grid = None
    return _ct_frame(
        "meters_readings",
        taken_at,
        solar=_values(prod),
        grid=grid,
        storage=_values(storage),
        battery=battery,
        soc_percent=soc_percent,
    )


def from_meter_frame(
    frame: MeterFrame,
    taken_at: float,
    *,
    battery: Known | None = None,
    soc_percent: float | None = None,
) -> LiveFrame:
    """The flows of one ``/stream/meter`` event (it carries no storage CT: see `battery`)."""
    grid: Mapping[str, float] | None = frame.net_consumption or None
    if grid is None and frame.total_consumption and frame.production:
        grid = {k: v - frame.production.get(k, 0.0) for k, v in frame.total_consumption.items()}
    return _ct_frame(
        "stream_meter",
        taken_at,
        solar=frame.production or None,
        grid=grid,
        storage=None,
        battery=battery,
        soc_percent=soc_percent,
    )


# -- the snapshot's balanced flow ------------------------------------------------------------


def battery_known(
    battery: BatterySummary | None, acb: AcbSummary | None, at: float | None
) -> Known | None:
    """Battery power (discharge > 0) from the last update: IQ Battery units plus AC Battery."""
    if at is None:
        return None
    units = [u.watts for u in battery.units.values()] if battery is not None else []
    parts = [*units, acb.watts if acb is not None else None]
    watts = _sum(parts)
    return None if watts is None else Known(watts, at)


def snapshot_flow(
    *,
    live: LiveData | None,
    live_at: float | None,
    meters: Mapping[str, Meter],
    meters_at: float | None,
    battery: Known | None,
    soc_percent: float | None,
    solar_watts: float | None,
    now: float,
) -> LiveFrame | None:
    """The snapshot's balanced flow from what the update knows.

    Livedata wins while its stream is on and it is about as fresh as the CT
    readings; else the CT readings with the battery from `battery`
    (generator power from older livedata, flagged in `as_of`); else solar only
    (`solar_watts`, from production) on sites without CTs.
    """
    if (
        live is not None
        and live_at is not None
        and live.stream_enabled
        and (meters_at is None or live_at >= meters_at - FRESH_SLACK_S)
    ):
        return from_livedata(live, live_at)
    if meters_at is not None:
        frame = from_readings(meters, meters_at, battery=battery, soc_percent=soc_percent)
        if frame is not None:
            return _with_generator(frame, live, live_at)
    if solar_watts is None:
        return None
    return LiveFrame(taken_at=now, source="snapshot", solar_watts=solar_watts)


def _with_generator(frame: LiveFrame, live: LiveData | None, live_at: float | None) -> LiveFrame:
    """Add the generator from livedata (no CT measures it), with its age."""
    gen = None if live is None else _flow_watts(live.flows, "generator")
    if gen is None or live_at is None or frame.house_watts is None:
        return frame
    return replace(
        frame,
        generator_watts=gen,
        house_watts=frame.house_watts + gen,
        as_of={**frame.as_of, "generator": live_at},
    )


def cache_flow(
    cache: SourceCache,
    *,
    meters: Mapping[str, Meter],
    battery: BatterySummary | None,
    acb: AcbSummary | None,
    solar_watts: float | None,
    now: float,
) -> LiveFrame | None:
    """`snapshot_flow` from what an update's `SourceCache` holds (the snapshot's one call)."""
    read_at = cache.read_at
    battery_at = read_at.get(SourceKey.ENSEMBLE_POWER)
    if acb is not None:
        acb_at = read_at.get(cache.production_key) if cache.production_key else None
        battery_at = acb_at if battery_at is None else min(battery_at, acb_at or battery_at)
    soc = battery.soc_percent if battery is not None else None
    return snapshot_flow(
        live=cache.get(LIVEDATA),
        live_at=read_at.get(SourceKey.LIVEDATA),
        meters=meters,
        meters_at=read_at.get(SourceKey.METERS_READINGS),
        battery=battery_known(battery, acb, battery_at),
        soc_percent=soc if soc is not None else (acb.soc_percent if acb else None),
        solar_watts=solar_watts,
        now=now,
    )

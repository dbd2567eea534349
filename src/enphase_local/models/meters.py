"""CT meters: their configuration, their readings, and the two joined into `Meter`.

``/ivp/meters`` says which current transformers (CTs) exist and what they
measure; ``/ivp/meters/readings`` gives their live values. Both list meters by
`eid`, so `engine.joins.join_meters` pairs them on it and names each meter by what it
measures (``production``, ``net-consumption``, ``storage``, ``backfeed``...).

Two gateway habits shape the models:

- The aggregate ``voltage`` of a reading is the *sum* of the phase voltages
  (about 247 V on a 2 x 123.6 V split-phase site). It is kept as `volts_sum`;
  `volts` is the voltage of one phase, the mean of the live channels.
- Readings always carry three channels, the unused ones at zero or at a few
  volts of noise (7.3.466, 7.6.175). A channel counts as live when its voltage
  is at least half the highest channel voltage, and `engine.joins.join_meters` keeps only
  the first `phase_count` channels of each meter, recomputing `volts` from them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from ._base import FlexEnum, Model

__all__ = [
    "ELECTRICAL_FIELDS",
    "CtType",
    "Electrical",
    "Meter",
    "MeterChannel",
    "MeterConfig",
    "MeterReading",
    "MeterReport",
    "MeterReportLine",
    "MeterState",
    "MeteringStatus",
    "PhaseMode",
    "meter_keys",
    "per_phase_volts",
]

LIVE_FRACTION = 0.5
"""A channel whose voltage is below this fraction of the highest one is an unwired phase."""


class CtType(FlexEnum):
    """What a CT measures (``measurementType``); the Meter Collar added the last four."""

    PRODUCTION = "production"
    NET_CONSUMPTION = "net-consumption"
    TOTAL_CONSUMPTION = "total-consumption"
    STORAGE = "storage"
    BACKFEED = "backfeed"
    LOAD = "load"
    EVSE = "evse"
    PV3P = "pv3p"
    UNKNOWN = "unknown"


class MeterState(FlexEnum):
    """Whether the gateway uses the CT (a disabled CT still reports, usually noise)."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    UNKNOWN = "unknown"


class PhaseMode(FlexEnum):
    """The wiring the CTs were configured for."""

    SINGLE = "single"
    SPLIT = "split"
    THREE = "three"
    UNKNOWN = "unknown"


class MeteringStatus(FlexEnum):
    """The gateway's verdict on the CT (``check-wiring`` comes with `status_flags`)."""

    NORMAL = "normal"
    NOT_METERING = "not-metering"
    CHECK_WIRING = "check-wiring"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class MeterConfig(Model):
    """One CT of ``/ivp/meters``. `status_flags` is empty on 4.x, which omits it."""

    eid: int
    state: MeterState
    measurement_type: CtType
    phase_mode: PhaseMode
    phase_count: int
    metering_status: MeteringStatus
    status_flags: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return self.state is MeterState.ENABLED


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Electrical(Model):
    """What every CT measurement carries: lifetime energies (Wh, VAh, varh) and power now.

    One home for the twelve electrical fields shared by a reading, its
    channels and the gateway's reports. `watts` is signed: negative is power
    flowing towards the grid (export on the net-consumption CT, charging on
    the storage CT). `volts` is per phase.
    """

    wh_delivered: float
    wh_received: float
    vah: float
    varh_lagging: float
    varh_leading: float
    watts: float
    va: float
    var: float
    volts: float
    amps: float
    hz: float
    power_factor: float


ELECTRICAL_FIELDS = tuple(f.name for f in dataclasses.fields(Electrical))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class MeterChannel(Electrical):
    """One phase of a reading (L1.. by position)."""

    phase: str
    eid: int
    timestamp: int


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class MeterReading(Electrical):
    """One meter of ``/ivp/meters/readings``: the whole meter, and `channels` per phase.

    `volts_sum` is the gateway's aggregate ``voltage`` (the sum of the phases);
    `volts` is per phase (see `per_phase_volts`).
    """

    eid: int
    timestamp: int
    volts_sum: float
    channels: tuple[MeterChannel, ...] = ()

    def for_phases(self, phase_count: int) -> MeterReading:
        """This reading with only the first `phase_count` channels (all when below 1)."""
        if phase_count < 1 or len(self.channels) <= phase_count:
            return self
        channels = self.channels[:phase_count]
        volts = per_phase_volts(self.volts_sum, [c.volts for c in channels])
        return dataclasses.replace(self, channels=channels, volts=volts)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class MeterReportLine(Electrical):
    """One phase of a ``/ivp/meters/reports`` report (no eid or timestamp of its own)."""

    phase: str


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class MeterReport(Electrical):
    """One report of ``/ivp/meters/reports``: per measurement type, including the
    total consumption the gateway computes. `lines` lists only the phases in use.
    """

    report_type: CtType
    timestamp: int
    volts_sum: float
    lines: tuple[MeterReportLine, ...] = ()


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Meter(Model):
    """A configured CT with its reading (None when the readings do not list its eid).

    The reading holds only the phases the configuration uses (`phase_count`).
    """

    key: str
    config: MeterConfig
    reading: MeterReading | None

    @property
    def measurement_type(self) -> CtType:
        return self.config.measurement_type

    @property
    def enabled(self) -> bool:
        return self.config.enabled


def per_phase_volts(volts_sum: float, channel_volts: Iterable[float]) -> float:
    """The voltage of one phase: the mean of the live channels.

    Live means at least `LIVE_FRACTION` of the highest channel voltage: unwired
    phases read zero or a few volts of noise. Without channels, or with none
    live, the aggregate value is all there is.
    """
    volts = [v for v in channel_volts if v > 0]
    if not volts:
        return volts_sum
    floor = max(volts) * LIVE_FRACTION
    live = [v for v in volts if v >= floor]
    return sum(live) / len(live)


def meter_keys(types: Iterable[CtType]) -> list[str]:
    """Stable names for meters of these types, in order: the type value, then ``load#2``..."""
    seen: dict[str, int] = {}
    keys: list[str] = []
    for ct_type in types:
        count = seen.get(ct_type.value, 0) + 1
        seen[ct_type.value] = count
        keys.append(ct_type.value if count == 1 else f"{ct_type.value}#{count}")
    return keys

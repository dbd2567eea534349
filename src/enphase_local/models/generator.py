"""A backup generator wired to the IQ System Controller (Enpower).

Four endpoints describe it: ``/ivp/ensemble/generator`` (its relay and
whether one is present), ``/ivp/ss/gen_config`` (what was installed),
``/ivp/ss/gen_mode`` (off, on, auto) and ``/ivp/ss/gen_schedule`` (the
exercise run and the default start/stop state of charge). The two `ss`
documents are ``{}`` on a site without a generator: their parsers give None.

`GeneratorConfig.raw` and `GeneratorSchedule.raw` keep the documents as
decoded because the gateway takes those writes as whole documents: the body
builders change a copy and send every other key back untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from ._base import FlexEnum, Model

__all__ = [
    "ExerciseDay",
    "GenMode",
    "GeneratorConfig",
    "GeneratorMode",
    "GeneratorRelayState",
    "GeneratorSchedule",
    "GeneratorState",
]


class GeneratorRelayState(FlexEnum):
    """State of the generator relay in the system controller (``admin_state``, ``oper_state``)."""

    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"


class GenMode(FlexEnum):
    """The generator command of ``/ivp/ss/gen_mode`` (``gen_cmd``)."""

    OFF = "off"
    ON = "on"
    AUTO = "auto"
    UNKNOWN = "unknown"


class ExerciseDay(FlexEnum):
    """Day of the week of the exercise run, in the gateway's spelling (``"Sat"``)."""

    MON = "Mon"
    TUE = "Tue"
    WED = "Wed"
    THU = "Thu"
    FRI = "Fri"
    SAT = "Sat"
    SUN = "Sun"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> Self:
        # The base class matches lower case; these values are capitalised.
        if isinstance(value, str):
            for member in cls:
                if member.value.lower() == value.lower():
                    return member
        return cls("unknown")


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class GeneratorState(Model):
    """``/ivp/ensemble/generator``: the generator relay and the controller's view of it.

    Every Enpower site answers this endpoint, with or without a generator:
    trust `present`, not the mere answer. The gateway sends a stop SoC of -1
    for "none": such SoC values are None here. `admin_mode`, `schedule` and
    `type` are small integer codes whose meaning Enphase does not document;
    they are given as sent.
    """

    admin_state: GeneratorRelayState
    oper_state: GeneratorRelayState
    admin_mode: int | None
    schedule: int | None
    start_soc_percent: float | None
    stop_soc_percent: float | None
    exercise_on: bool | None
    present: bool
    type: int | None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class GeneratorConfig(Model):
    """``/ivp/ss/gen_config``: the generator as the installer configured it.

    `rating_kw` is the nameplate rating in **kilowatts**: the gateway calls
    the key ``name_plate_rating_wat`` but sends 22.0 for a 22 kW generator.
    """

    _private: ClassVar[frozenset[str]] = frozenset({"raw"})

    charge_from_generator: bool | None
    max_continuous_amps: float | None
    min_loading_percent: float | None
    max_efficiency_percent: float | None
    rating_kw: float | None
    start_method: str | None
    warm_up_minutes: float | None
    cool_down_minutes: float | None
    gen_type: str | None
    model: str | None
    manufacturer: str | None
    generator_id: str | None
    last_updated_by: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, hash=False)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class GeneratorMode(Model):
    """``/ivp/ss/gen_mode``: the generator command and who set it last (e.g. ``ITK``)."""

    mode: GenMode
    last_updated_by: str | None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class GeneratorSchedule(Model):
    """``/ivp/ss/gen_schedule``: the exercise run and the default SoC thresholds.

    The generator exercises every `freq_in_weeks` weeks on `day`, starting
    `start_minute` minutes after local midnight (945 is 15:45), for
    `duration_minutes`. It starts when the batteries fall to
    `start_soc_percent` and stops at `stop_soc_percent`. The detailed
    ``schedule`` periods are kept only in `raw`.
    """

    _private: ClassVar[frozenset[str]] = frozenset({"raw"})

    day: ExerciseDay | None
    start_minute: int | None
    duration_minutes: int | None
    freq_in_weeks: int | None
    start_soc_percent: float | None
    stop_soc_percent: float | None
    last_updated_by: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, hash=False)

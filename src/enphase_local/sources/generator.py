"""Generator: parsers for its state, configuration, mode and schedule, and the write bodies.

``/ivp/ensemble/generator`` answers on every site with a system controller;
the three ``/ivp/ss/gen_*`` documents are ``{}`` without a generator (the
parsers give None). Firmware 4.x and 5.x answer ``{"error": ...}`` /
``{"err": ...}``, which becomes `EnvoyParseError` with `gateway_error` set.

The body builders are pure. They refuse, with a ValueError naming the rule,
anything the installer app would refuse, so a bad value never reaches the
gateway: mode off/on/auto; exercise day Mon..Sun, start 0..1439 minutes after
midnight, duration 10 to 60 minutes in steps of 10, every 1 to 4 weeks; SoC
0..100 with start below stop.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from ..models.generator import (
    ExerciseDay,
    GeneratorConfig,
    GeneratorMode,
    GeneratorRelayState,
    GeneratorSchedule,
    GeneratorState,
    GenMode,
)
from ._json import Obj, as_obj, json_parser
from .keys import SourceKey
from .registry import Cadence, Role, Source, Speed

__all__ = [
    "GENERATOR",
    "GEN_CONFIG",
    "GEN_MODE",
    "GEN_SCHEDULE",
    "gen_config_body",
    "gen_mode_body",
    "gen_schedule_body",
    "parse_gen_config",
    "parse_gen_mode",
    "parse_gen_schedule",
    "parse_generator",
]

GENERATOR_PATH = "/ivp/ensemble/generator"
GEN_CONFIG_PATH = "/ivp/ss/gen_config"
GEN_MODE_PATH = "/ivp/ss/gen_mode"
GEN_SCHEDULE_PATH = "/ivp/ss/gen_schedule"


def _soc(obj: Obj, key: str) -> float | None:
    """A SoC threshold in percent; the gateway's -1 ("none") becomes None."""
    value = obj.number_or(key)
    return None if value is None or value < 0 else value


@json_parser(GENERATOR_PATH)
def parse_generator(data: Any) -> GeneratorState:
    """``/ivp/ensemble/generator`` -> `GeneratorState`."""
    g = as_obj(data)
    return GeneratorState(
        admin_state=GeneratorRelayState.parse(g.text_or("admin_state")),
        oper_state=GeneratorRelayState.parse(g.text_or("oper_state")),
        admin_mode=g.integer_or("admin_mode"),
        schedule=g.integer_or("schedule"),
        start_soc_percent=_soc(g, "start_soc"),
        stop_soc_percent=_soc(g, "stop_soc"),
        exercise_on=g.flag_or("exc_on"),
        present=g.flag("present"),
        type=g.integer_or("type"),
    )


@json_parser(GEN_CONFIG_PATH)
def parse_gen_config(data: Any) -> GeneratorConfig | None:
    """``/ivp/ss/gen_config`` -> `GeneratorConfig`, or None for ``{}`` (no generator)."""
    c = as_obj(data)
    if not c.d:
        return None
    return GeneratorConfig(
        charge_from_generator=c.flag_or("charge_from_generator"),
        max_continuous_amps=c.number_or("max_cont_gen_amps"),
        min_loading_percent=c.number_or("min_gen_loading_perc"),
        max_efficiency_percent=c.number_or("max_gen_efficiency_perc"),
        rating_kw=c.number_or("name_plate_rating_wat"),
        start_method=c.text_or("start_method"),
        warm_up_minutes=c.number_or("warm_up_mins"),
        cool_down_minutes=c.number_or("cool_down_mins"),
        gen_type=c.text_or("gen_type"),
        model=c.text_or("model"),
        manufacturer=c.text_or("manufacturer"),
        generator_id=c.text_or("generator_id"),
        last_updated_by=c.text_or("last_updated_by"),
        raw=c.d,
    )


@json_parser(GEN_MODE_PATH)
def parse_gen_mode(data: Any) -> GeneratorMode | None:
    """``/ivp/ss/gen_mode`` -> `GeneratorMode`, or None for ``{}``.

    Only a generator site was captured; like its siblings the document is
    presumably ``{}`` without a generator, which must not read as an error.
    """
    m = as_obj(data)
    if not m.d:
        return None
    return GeneratorMode(
        mode=GenMode.parse(m.text("gen_cmd")),
        last_updated_by=m.text_or("last_updated_by"),
    )


@json_parser(GEN_SCHEDULE_PATH)
def parse_gen_schedule(data: Any) -> GeneratorSchedule | None:
    """``/ivp/ss/gen_schedule`` -> `GeneratorSchedule`, or None for ``{}`` (no generator)."""
    s = as_obj(data)
    if not s.d:
        return None
    exercise = s.child_or("exercise_config") or Obj({}, "body.exercise_config")
    soc = s.child_or("default_soc") or Obj({}, "body.default_soc")
    day = exercise.text_or("day")
    return GeneratorSchedule(
        day=None if day is None else ExerciseDay.parse(day),
        start_minute=exercise.integer_or("start"),
        duration_minutes=exercise.integer_or("duration"),
        freq_in_weeks=exercise.integer_or("freq_in_weeks"),
        start_soc_percent=_soc(soc, "start_soc"),
        stop_soc_percent=_soc(soc, "stop_soc"),
        last_updated_by=s.text_or("last_updated_by"),
        raw=s.d,
    )


# --- write bodies ------------------------------------------------------------

_MODES = tuple(m for m in GenMode if m is not GenMode.UNKNOWN)
_DAYS = tuple(d for d in ExerciseDay if d is not ExerciseDay.UNKNOWN)
_MINUTES_PER_DAY = 1440


def gen_mode_body(mode: GenMode | str) -> dict[str, Any]:
    """The body of ``POST /ivp/ss/gen_mode``: ``{"gen_cmd": "off"|"on"|"auto"}``."""
    if isinstance(mode, str):
        for member in _MODES:
            if member.value == mode.lower():
                return {"gen_cmd": member.value}
    raise ValueError(f"generator mode must be one of off, on, auto; got {mode!r}")


def _integer(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be {low} to {high}; got {value}")
    return value


def _percent(name: str, value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number of percent; got {value!r}")
    if not 0 <= value <= 100:
        raise ValueError(f"{name} must be 0 to 100 percent; got {value:g}")
    return int(value) if value == int(value) else float(value)


def _day(value: object) -> str:
    if isinstance(value, str):
        for member in _DAYS:
            if member.value.lower() == value.lower():
                return member.value
    raise ValueError(
        f"exercise day must be one of Mon, Tue, Wed, Thu, Fri, Sat, Sun; got {value!r}"
    )


def _document(
    raw: Mapping[str, Any] | GeneratorSchedule | GeneratorConfig, what: str
) -> dict[str, Any]:
    """A deep copy of the document to change; ``{}`` means there is no generator to change."""
    doc = raw.raw if isinstance(raw, GeneratorSchedule | GeneratorConfig) else raw
    if not isinstance(doc, Mapping) or not doc:
        raise ValueError(f"no {what} to change: the gateway reports no generator")
    return copy.deepcopy(dict(doc))


def _section(doc: dict[str, Any], key: str) -> dict[str, Any]:
    section = doc.setdefault(key, {})
    if not isinstance(section, dict):
        raise ValueError(f"the schedule's {key} is not an object ({section!r}): re-read it")
    return section


def _existing_soc(section: Mapping[str, Any], key: str) -> float | None:
    value = section.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def gen_schedule_body(
    schedule_raw: Mapping[str, Any] | GeneratorSchedule,
    *,
    day: ExerciseDay | str | None = None,
    start_minute: int | None = None,
    duration_minutes: int | None = None,
    freq_in_weeks: int | None = None,
    start_soc_percent: float | None = None,
    stop_soc_percent: float | None = None,
) -> dict[str, Any]:
    """The whole ``/ivp/ss/gen_schedule`` document with the given fields changed.

    `schedule_raw` is the document as read (or the `GeneratorSchedule`
    holding it); every key not changed goes back as it was, including the
    detailed ``schedule`` periods. Raises ValueError naming the broken rule.
    """
    doc = _document(schedule_raw, "generator schedule")
    exercise_changes: dict[str, Any] = {}
    if day is not None:
        exercise_changes["day"] = _day(day)
    if start_minute is not None:
        exercise_changes["start"] = _integer(
            "start_minute (minutes after midnight)", start_minute, 0, _MINUTES_PER_DAY - 1
        )
    if duration_minutes is not None:
        minutes = _integer("duration_minutes", duration_minutes, 10, 60)
        if minutes % 10:
            raise ValueError(f"duration_minutes must be a multiple of 10; got {minutes}")
        exercise_changes["duration"] = minutes
    if freq_in_weeks is not None:
        exercise_changes["freq_in_weeks"] = _integer("freq_in_weeks", freq_in_weeks, 1, 4)
    soc_changes: dict[str, Any] = {}
    if start_soc_percent is not None:
        soc_changes["start_soc"] = _percent("start_soc_percent", start_soc_percent)
    if stop_soc_percent is not None:
        soc_changes["stop_soc"] = _percent("stop_soc_percent", stop_soc_percent)
    if not exercise_changes and not soc_changes:
        raise ValueError("no schedule field to change: give at least one")
    if exercise_changes:
        _section(doc, "exercise_config").update(exercise_changes)
    if soc_changes:
        soc = _section(doc, "default_soc")
        soc.update(soc_changes)
        start, stop = _existing_soc(soc, "start_soc"), _existing_soc(soc, "stop_soc")
        if start is not None and stop is not None and start >= stop:
            raise ValueError(
                f"start_soc_percent ({start:g}) must be below stop_soc_percent ({stop:g})"
            )
    return doc


def gen_config_body(
    config_raw: Mapping[str, Any] | GeneratorConfig, *, charge_from_generator: bool
) -> dict[str, Any]:
    """The whole ``/ivp/ss/gen_config`` document with `charge_from_generator` changed."""
    if not isinstance(charge_from_generator, bool):
        raise ValueError(
            f"charge_from_generator must be True or False; got {charge_from_generator!r}"
        )
    doc = _document(config_raw, "generator configuration")
    doc["charge_from_generator"] = charge_from_generator
    return doc


GENERATOR: Source[GeneratorState] = Source(
    key=SourceKey.GENERATOR,
    path=GENERATOR_PATH,
    parse=parse_generator,
    role=Role.OWNER,
    cadence=Cadence.REPORT,
    speed=Speed.FAST,
    doc="generator relay state and presence, as the system controller sees it",
)

GEN_CONFIG: Source[GeneratorConfig | None] = Source(
    key=SourceKey.GEN_CONFIG,
    path=GEN_CONFIG_PATH,
    parse=parse_gen_config,
    role=Role.OWNER,
    cadence=Cadence.CONFIG,
    speed=Speed.FAST,
    doc="installed generator (rating, make, charge from generator); None without one",
)

GEN_MODE: Source[GeneratorMode | None] = Source(
    key=SourceKey.GEN_MODE,
    path=GEN_MODE_PATH,
    parse=parse_gen_mode,
    role=Role.OWNER,
    cadence=Cadence.CONFIG,
    speed=Speed.FAST,
    doc="generator command: off, on or auto",
)

GEN_SCHEDULE: Source[GeneratorSchedule | None] = Source(
    key=SourceKey.GEN_SCHEDULE,
    path=GEN_SCHEDULE_PATH,
    parse=parse_gen_schedule,
    role=Role.OWNER,
    cadence=Cadence.CONFIG,
    speed=Speed.FAST,
    doc="generator exercise run and default start/stop SoC; None without a generator",
)

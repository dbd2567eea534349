"""Generator: its mode, its exercise schedule, and charging the batteries from it.

- ``POST /ivp/ss/gen_mode {"gen_cmd": "off"|"on"|"auto"}``;
- ``POST /ivp/ss/gen_schedule`` with the whole schedule document, the
  exercise fields or default SoC thresholds changed;
- ``POST /ivp/ss/gen_config`` with the whole configuration,
  ``charge_from_generator`` changed.

Values are checked by the pure body builders of `sources.generator` (the
rules the installer app applies) before anything is sent. Each write is read
back from the same document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..capabilities import Capability
from ..errors import EnvoyFeatureUnavailable
from ..models.generator import (
    ExerciseDay,
    GeneratorConfig,
    GeneratorMode,
    GeneratorSchedule,
    GenMode,
)
from ..sources.generator import (
    GEN_CONFIG_PATH,
    GEN_MODE_PATH,
    GEN_SCHEDULE_PATH,
    gen_config_body,
    gen_mode_body,
    gen_schedule_body,
)
from ..sources.table import GEN_CONFIG, GEN_MODE, GEN_SCHEDULE
from ._core import ControlCore, Poll
from .result import Check, WriteRequest, WriteResult

__all__ = ["GENERATOR_POLL", "GeneratorActions"]

GENERATOR_POLL = Poll(timeout_s=10.0, interval_s=3.0, first_s=1.0)

_NO_GENERATOR = "the gateway reports no generator ({what} is empty)"

# argument (also the model attribute) -> (section, key) in the schedule document
_SCHEDULE_FIELDS: dict[str, tuple[str, str]] = {
    "day": ("exercise_config", "day"),
    "start_minute": ("exercise_config", "start"),
    "duration_minutes": ("exercise_config", "duration"),
    "freq_in_weeks": ("exercise_config", "freq_in_weeks"),
    "start_soc_percent": ("default_soc", "start_soc"),
    "stop_soc_percent": ("default_soc", "stop_soc"),
}


def _mode_of(mode: GeneratorMode | None) -> str | None:
    return None if mode is None else mode.mode.value


def _charge_of(config: GeneratorConfig | None) -> bool | None:
    return None if config is None else config.charge_from_generator


def _schedule_fields(
    names: tuple[str, ...],
) -> Callable[[GeneratorSchedule | None], dict[str, Any] | None]:
    def extract(schedule: GeneratorSchedule | None) -> dict[str, Any] | None:
        if schedule is None:
            return None
        out: dict[str, Any] = {}
        for name in names:
            value = getattr(schedule, name)
            out[name] = value.value if isinstance(value, ExerciseDay) else value
        return out

    return extract


class GeneratorActions(ControlCore):
    """Generator mode, exercise schedule, charge from generator."""

    async def set_generator_mode(
        self, mode: GenMode | str, *, dry_run: bool = False, timeout_s: float | None = None
    ) -> WriteResult:
        """Set the generator command: ``off``, ``on`` (start it now) or ``auto``."""
        body = gen_mode_body(mode)  # ValueError before anything else
        self._require(Capability.GENERATOR, "set the generator mode")
        poll = GENERATOR_POLL.with_timeout(timeout_s)
        current: GeneratorMode | None = await self._read(GEN_MODE)
        return await self.write(
            action="set_generator_mode",
            request=WriteRequest("POST", GEN_MODE_PATH, body),
            check=Check(GEN_MODE, _mode_of, "generator mode"),
            requested=body["gen_cmd"],
            before=_mode_of(current),
            poll=poll,
            dry_run=dry_run,
        )

    async def set_generator_exercise(
        self,
        *,
        day: ExerciseDay | str | None = None,
        start_minute: int | None = None,
        duration_minutes: int | None = None,
        freq_in_weeks: int | None = None,
        start_soc_percent: float | None = None,
        stop_soc_percent: float | None = None,
        dry_run: bool = False,
        timeout_s: float | None = None,
    ) -> WriteResult:
        """Change the exercise run (day, start minute after midnight, duration 10..60 in
        tens, every 1..4 weeks) and/or the default start/stop SoC; other keys stay."""
        given: dict[str, Any] = {
            "day": day,
            "start_minute": start_minute,
            "duration_minutes": duration_minutes,
            "freq_in_weeks": freq_in_weeks,
            "start_soc_percent": start_soc_percent,
            "stop_soc_percent": stop_soc_percent,
        }
        changes = {k: v for k, v in given.items() if v is not None}
        if not changes:
            raise ValueError("no schedule field to change: give at least one")
        # the builder validates pure values before anything is read: a stand-in document
        gen_schedule_body({"exercise_config": {}, "default_soc": {}}, **changes)
        self._require(Capability.GENERATOR, "change the generator exercise schedule")
        poll = GENERATOR_POLL.with_timeout(timeout_s)
        schedule: GeneratorSchedule | None = await self._read(GEN_SCHEDULE)
        if schedule is None:
            raise EnvoyFeatureUnavailable(
                "cannot change the exercise schedule: "
                + _NO_GENERATOR.format(what="/ivp/ss/gen_schedule")
            )
        body = gen_schedule_body(schedule, **changes)
        names = tuple(changes)
        requested = {n: body[_SCHEDULE_FIELDS[n][0]][_SCHEDULE_FIELDS[n][1]] for n in names}
        check = Check(GEN_SCHEDULE, _schedule_fields(names), "generator exercise schedule")
        return await self.write(
            action="set_generator_exercise",
            request=WriteRequest("POST", GEN_SCHEDULE_PATH, body),
            check=check,
            requested=requested,
            before=check.extract(schedule),
            poll=poll,
            dry_run=dry_run,
        )

    async def set_charge_from_generator(
        self, on: bool, *, dry_run: bool = False, timeout_s: float | None = None
    ) -> WriteResult:
        """Allow (True) or forbid (False) charging the batteries from the generator."""
        if not isinstance(on, bool):
            raise ValueError(f"charge from generator must be True or False; got {on!r}")
        self._require(Capability.GENERATOR, "change charging from the generator")
        poll = GENERATOR_POLL.with_timeout(timeout_s)
        config: GeneratorConfig | None = await self._read(GEN_CONFIG)
        if config is None:
            raise EnvoyFeatureUnavailable(
                "cannot change charging from the generator: "
                + _NO_GENERATOR.format(what="/ivp/ss/gen_config")
            )
        body = gen_config_body(config, charge_from_generator=on)
        return await self.write(
            action="set_charge_from_generator",
            request=WriteRequest("POST", GEN_CONFIG_PATH, body),
            check=Check(GEN_CONFIG, _charge_of, "charge from generator"),
            requested=on,
            before=_charge_of(config),
            poll=poll,
            dry_run=dry_run,
        )

"""Generator: state, config, mode and schedule parsers, and the write bodies."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enphase_local.errors import EnvoyParseError
from enphase_local.models.generator import (
    ExerciseDay,
    GeneratorRelayState,
    GeneratorSchedule,
    GenMode,
)
from enphase_local.sources.generator import (
    GEN_CONFIG,
    GEN_MODE,
    GEN_SCHEDULE,
    GENERATOR,
    gen_config_body,
    gen_mode_body,
    gen_schedule_body,
    parse_gen_config,
    parse_gen_mode,
    parse_gen_schedule,
    parse_generator,
)
from enphase_local.sources.registry import Cadence, Role, Speed
from tests.fuzz import JSON_LEAF, json_values, mutated_json, parses_or_refuses
from tests.support import REAL, needs_real, real_body, real_cases, real_folders, real_status

STATE = "ivp_ensemble_generator"
CONFIG = "ivp_ss_gen_config"
MODE = "ivp_ss_gen_mode"
SCHEDULE = "ivp_ss_gen_schedule"
WITH_GENERATOR = "8.3.5169_with_generator"
PARSERS = {
    STATE: parse_generator,
    CONFIG: parse_gen_config,
    MODE: parse_gen_mode,
    SCHEDULE: parse_gen_schedule,
}


def _body(folder: str, name: str) -> bytes:
    body = real_body(folder, name)
    assert body is not None
    return body


# Documents written for these tests in the gateway's shape (not copied from a capture).
STATE_DOC: dict[str, Any] = {
    "admin_state": "closed",
    "oper_state": "closed",
    "admin_mode": 1,
    "schedule": 0,
    "start_soc": 20,
    "stop_soc": 90,
    "exc_on": 1,
    "present": 1,
    "type": 2,
}
CONFIG_DOC: dict[str, Any] = {
    "max_cont_gen_amps": 40.0,
    "min_gen_loading_perc": 10,
    "max_gen_efficiency_perc": 95,
    "name_plate_rating_wat": 14.0,
    "start_method": "manual",
    "warm_up_mins": 3,
    "cool_down_mins": 2,
    "gen_type": "Portable",
    "model": "PX-14",
    "manufacturer": "Example",
    "last_updated_by": "app",
    "generator_id": "000111",
    "charge_from_generator": False,
    "unmodelled": {"a": [1]},
}
MODE_DOC: dict[str, Any] = {"gen_cmd": "auto", "last_updated_by": "app"}
SCHEDULE_DOC: dict[str, Any] = {
    "exercise_config": {"freq_in_weeks": 2, "start": 600, "duration": 30, "day": "Wed"},
    "default_soc": {"start_soc": 25, "stop_soc": 85},
    "schedule": {"default": [{"id": "p", "days": [{"periods": [{"start": 0.0}]}]}]},
    "last_updated_by": "app",
}
DOCS = {STATE: STATE_DOC, CONFIG: CONFIG_DOC, MODE: MODE_DOC, SCHEDULE: SCHEDULE_DOC}


# --- real captures -----------------------------------------------------------


@needs_real
@pytest.mark.parametrize(
    ("name", "folder"), [(name, folder) for name in PARSERS for folder in real_cases(name)]
)
def test_every_real_capture_parses(name: str, folder: str) -> None:
    result = PARSERS[name](_body(folder, name))
    if name == STATE:
        assert result is not None
        assert result.oper_state in (GeneratorRelayState.OPEN, GeneratorRelayState.CLOSED)
        assert isinstance(result.present, bool)
        for soc in (result.start_soc_percent, result.stop_soc_percent):
            assert soc is None or 0 <= soc <= 100
    elif folder != WITH_GENERATOR:
        assert result is None  # `{}`: no generator on this site
    else:
        assert result is not None
        assert "raw" not in result.to_dict()
    if result is not None:
        orjson.dumps(result.to_dict())


@needs_real
def test_generator_site_by_hand() -> None:
    state = parse_generator(_body(WITH_GENERATOR, STATE))
    assert state.present is True
    assert state.admin_state is GeneratorRelayState.OPEN
    assert state.oper_state is GeneratorRelayState.OPEN
    assert (state.admin_mode, state.schedule, state.type) == (2, 1, 1)
    assert (state.start_soc_percent, state.stop_soc_percent) == (30, 70)
    assert state.exercise_on is False

    mode = parse_gen_mode(_body(WITH_GENERATOR, MODE))
    assert mode is not None and mode.mode is GenMode.ON and mode.last_updated_by == "ITK"

    schedule = parse_gen_schedule(_body(WITH_GENERATOR, SCHEDULE))
    assert schedule is not None
    assert schedule.day is ExerciseDay.SAT
    assert (schedule.start_minute, schedule.duration_minutes, schedule.freq_in_weeks) == (
        945,
        20,
        3,
    )
    assert (schedule.start_soc_percent, schedule.stop_soc_percent) == (30, 70)

    config = parse_gen_config(_body(WITH_GENERATOR, CONFIG))
    assert config is not None
    assert config.charge_from_generator is True
    assert config.manufacturer == "Generac" and config.model == "G007042-3, G007043-3 (22kW)"
    assert config.rating_kw == 22  # a 22 kW generator, whatever the key name says
    assert config.max_continuous_amps == 60 and config.start_method == "auto"
    assert (config.warm_up_minutes, config.cool_down_minutes) == (5, 5)
    assert (config.min_loading_percent, config.max_efficiency_percent) == (5, 100)
    assert config.gen_type == "Standby" and config.generator_id == "3019990001"


@needs_real
def test_sites_without_generator_by_hand() -> None:
    state = parse_generator(_body("8.2.4264_metered_noct", STATE))
    assert state.present is False and state.type == 1
    assert state.admin_state is GeneratorRelayState.UNKNOWN
    assert (state.start_soc_percent, state.stop_soc_percent) == (100, None)  # -1 is "none"
    assert parse_gen_config(_body("7.3.517", CONFIG)) is None
    assert parse_gen_schedule(_body("7.3.517", SCHEDULE)) is None


@needs_real
def test_real_schedule_and_config_round_trip_through_the_builders() -> None:
    schedule = parse_gen_schedule(_body(WITH_GENERATOR, SCHEDULE))
    assert schedule is not None
    doc = gen_schedule_body(schedule, duration_minutes=60)
    expected = copy.deepcopy(dict(schedule.raw))
    expected["exercise_config"]["duration"] = 60
    assert doc == expected
    config = parse_gen_config(_body(WITH_GENERATOR, CONFIG))
    assert config is not None
    assert gen_config_body(config, charge_from_generator=False) == {
        **config.raw,
        "charge_from_generator": False,
    }


@needs_real
@pytest.mark.parametrize("name", [STATE, CONFIG, SCHEDULE])
def test_old_firmware_error_bodies_raise(name: str) -> None:
    folders = [f for f in real_folders() if (REAL / f / name).is_file()]
    folders = [f for f in folders if real_status(f, name) == 404]
    assert {"4.10.35", "5.0.62"} <= set(folders)
    for folder in folders:
        with pytest.raises(EnvoyParseError) as info:
            PARSERS[name](_body(folder, name))
        assert info.value.gateway_error == "404 - Not Found"


# --- hand-made documents -------------------------------------------------------


@pytest.mark.parametrize("name", list(PARSERS))
def test_error_bodies_set_gateway_error(name: str) -> None:
    for body in (b'{ "error" : "404 - Not Found" }', b' { "err": "404 - Not Found" }'):
        with pytest.raises(EnvoyParseError) as info:
            PARSERS[name](body)
        assert info.value.gateway_error == "404 - Not Found"


def test_hand_made_documents() -> None:
    state = parse_generator(orjson.dumps(STATE_DOC))
    assert state.oper_state is GeneratorRelayState.CLOSED and state.exercise_on is True
    assert (state.start_soc_percent, state.stop_soc_percent, state.type) == (20, 90, 2)
    config = parse_gen_config(orjson.dumps(CONFIG_DOC))
    assert config is not None and config.rating_kw == 14 and config.charge_from_generator is False
    assert config.to_dict()["manufacturer"] == "Example" and "raw" not in config.to_dict()
    mode = parse_gen_mode(orjson.dumps(MODE_DOC))
    assert mode is not None and mode.mode is GenMode.AUTO
    assert parse_gen_mode(b"{}") is None
    assert parse_gen_mode(b'{"gen_cmd": "OFF"}') == parse_gen_mode(b'{"gen_cmd": "off"}')
    assert parse_gen_mode(b'{"gen_cmd": "standby"}').mode is GenMode.UNKNOWN  # type: ignore[union-attr]
    schedule = parse_gen_schedule(orjson.dumps(SCHEDULE_DOC))
    assert schedule is not None and schedule.day is ExerciseDay.WED
    assert schedule.to_dict() == {
        "day": "Wed",
        "start_minute": 600,
        "duration_minutes": 30,
        "freq_in_weeks": 2,
        "start_soc_percent": 25.0,
        "stop_soc_percent": 85.0,
        "last_updated_by": "app",
    }
    sunday = parse_gen_schedule(b'{"exercise_config": {"day": "sun"}}')
    assert sunday is not None and sunday.day is ExerciseDay.SUN and sunday.start_minute is None
    odd = parse_gen_schedule(b'{"exercise_config": {"day": "Someday"}, "last_updated_by": "x"}')
    assert odd is not None and odd.day is ExerciseDay.UNKNOWN


@pytest.mark.parametrize(
    ("name", "body"),
    [
        (STATE, b"{}"),
        (STATE, b"[]"),
        (STATE, b'{"present": "yes"}'),
        (STATE, b'{"present": 1, "oper_state": 0}'),
        (STATE, b'{"present": 1, "start_soc": "30"}'),
        (STATE, b'{"present": 1, "admin_mode": 1.5}'),
        (CONFIG, b"[]"),
        (CONFIG, b'{"charge_from_generator": "sometimes"}'),
        (CONFIG, b'{"name_plate_rating_wat": "22kW"}'),
        (MODE, b'{"last_updated_by": "ITK"}'),
        (MODE, b'{"gen_cmd": 1}'),
        (SCHEDULE, b'{"exercise_config": []}'),
        (SCHEDULE, b'{"exercise_config": {"start": "15:45"}}'),
        (SCHEDULE, b'{"default_soc": {"start_soc": "30"}}'),
        (SCHEDULE, b"null"),
    ],
)
def test_bad_documents_raise_parse_error(name: str, body: bytes) -> None:
    with pytest.raises(EnvoyParseError):
        PARSERS[name](body)


@pytest.mark.parametrize(
    ("source", "key", "path", "cadence"),
    [
        (GENERATOR, "generator", "/ivp/ensemble/generator", Cadence.REPORT),
        (GEN_CONFIG, "gen_config", "/ivp/ss/gen_config", Cadence.CONFIG),
        (GEN_MODE, "gen_mode", "/ivp/ss/gen_mode", Cadence.CONFIG),
        (GEN_SCHEDULE, "gen_schedule", "/ivp/ss/gen_schedule", Cadence.CONFIG),
    ],
)
def test_sources_are_declared(source: Any, key: str, path: str, cadence: Cadence) -> None:
    assert (source.key, source.path, source.cadence) == (key, path, cadence)
    assert (source.role, source.speed) == (Role.OWNER, Speed.FAST)
    assert (
        source.parse
        is {
            "generator": parse_generator,
            "gen_config": parse_gen_config,
            "gen_mode": parse_gen_mode,
            "gen_schedule": parse_gen_schedule,
        }[key]
    )


# --- write bodies ----------------------------------------------------------------


def test_mode_body() -> None:
    assert gen_mode_body("off") == {"gen_cmd": "off"}
    assert gen_mode_body("ON") == {"gen_cmd": "on"}
    assert gen_mode_body(GenMode.AUTO) == {"gen_cmd": "auto"}
    for bad in ("unknown", GenMode.UNKNOWN, "standby", "", None, 1):
        with pytest.raises(ValueError, match="off, on, auto"):
            gen_mode_body(bad)  # type: ignore[arg-type]


def test_schedule_body_changes_only_the_given_fields() -> None:
    before = copy.deepcopy(SCHEDULE_DOC)
    doc = gen_schedule_body(
        SCHEDULE_DOC,
        day=ExerciseDay.FRI,
        start_minute=0,
        duration_minutes=10,
        freq_in_weeks=4,
        start_soc_percent=5,
        stop_soc_percent=100,
    )
    assert doc == {
        **before,
        "exercise_config": {"freq_in_weeks": 4, "start": 0, "duration": 10, "day": "Fri"},
        "default_soc": {"start_soc": 5, "stop_soc": 100},
    }
    assert before == SCHEDULE_DOC  # the input is not touched
    doc["schedule"]["default"].clear()
    assert SCHEDULE_DOC["schedule"]["default"]  # a deep copy
    assert gen_schedule_body(SCHEDULE_DOC, day="thu")["exercise_config"]["day"] == "Thu"
    only_stop = gen_schedule_body(SCHEDULE_DOC, stop_soc_percent=50.5)
    assert only_stop["default_soc"] == {"start_soc": 25, "stop_soc": 50.5}


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({}, "no schedule field to change"),
        ({"day": "Funday"}, "exercise day must be one of Mon"),
        ({"day": ExerciseDay.UNKNOWN}, "exercise day must be one of"),
        ({"day": 6}, "exercise day must be one of"),
        ({"start_minute": -1}, "start_minute (minutes after midnight) must be 0 to 1439"),
        ({"start_minute": 1440}, "must be 0 to 1439"),
        ({"start_minute": 60.0}, "start_minute (minutes after midnight) must be an integer"),
        ({"duration_minutes": 5}, "duration_minutes must be 10 to 60"),
        ({"duration_minutes": 70}, "duration_minutes must be 10 to 60"),
        ({"duration_minutes": 25}, "duration_minutes must be a multiple of 10"),
        ({"duration_minutes": True}, "duration_minutes must be an integer"),
        ({"freq_in_weeks": 0}, "freq_in_weeks must be 1 to 4"),
        ({"freq_in_weeks": 5}, "freq_in_weeks must be 1 to 4"),
        ({"start_soc_percent": -1}, "start_soc_percent must be 0 to 100"),
        ({"stop_soc_percent": 100.5}, "stop_soc_percent must be 0 to 100"),
        ({"stop_soc_percent": float("nan")}, "stop_soc_percent must be a number"),
        ({"start_soc_percent": "30"}, "start_soc_percent must be a number"),
        ({"start_soc_percent": 85}, "start_soc_percent (85) must be below stop_soc_percent (85)"),
        ({"stop_soc_percent": 20}, "start_soc_percent (25) must be below stop_soc_percent (20)"),
        ({"start_soc_percent": 60, "stop_soc_percent": 40}, "must be below"),
    ],
)
def test_schedule_body_refuses_bad_values(changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        gen_schedule_body(SCHEDULE_DOC, **changes)
    assert fragment in str(info.value)


def test_schedule_body_needs_a_schedule() -> None:
    for empty in ({}, GeneratorSchedule(None, None, None, None, None, None, None)):
        with pytest.raises(ValueError, match="no generator schedule to change"):
            gen_schedule_body(empty, day="Mon")
    with pytest.raises(ValueError, match="exercise_config is not an object"):
        gen_schedule_body({"exercise_config": "off"}, day="Mon")
    # A document without exercise_config gains one rather than losing the change.
    assert gen_schedule_body({"last_updated_by": "x"}, freq_in_weeks=1) == {
        "last_updated_by": "x",
        "exercise_config": {"freq_in_weeks": 1},
    }


def test_config_body() -> None:
    before = copy.deepcopy(CONFIG_DOC)
    doc = gen_config_body(CONFIG_DOC, charge_from_generator=True)
    assert doc == {**before, "charge_from_generator": True}
    assert before == CONFIG_DOC
    doc["unmodelled"]["a"].append(2)
    assert CONFIG_DOC["unmodelled"] == {"a": [1]}
    for bad in ("true", 1, None):
        with pytest.raises(ValueError, match="charge_from_generator must be True or False"):
            gen_config_body(CONFIG_DOC, charge_from_generator=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no generator configuration to change"):
        gen_config_body({}, charge_from_generator=True)


# --- properties --------------------------------------------------------------------

JSON = json_values(
    JSON_LEAF | st.sampled_from(["open", "on", "Sat", "true", "1", ""]),
    st.sampled_from(
        ["present", "gen_cmd", "exercise_config", "default_soc", "day", "start", "error", "x"]
    ),
)


def _refused_or_plain_json(parser: Any, body: bytes) -> None:
    result = parses_or_refuses(parser, body)
    if result is not None:
        orjson.dumps(result.to_dict())  # whatever parsed is plain JSON


@settings(deadline=None)
@given(st.data())
def test_mutated_documents_raise_only_parse_errors(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(list(PARSERS)))
    body = data.draw(mutated_json(DOCS[name], JSON))
    _refused_or_plain_json(PARSERS[name], body)
    _refused_or_plain_json(PARSERS[name], body[: data.draw(st.integers(0, len(body)))])


@settings(deadline=None)
@given(
    day=st.sampled_from([d for d in ExerciseDay if d is not ExerciseDay.UNKNOWN]),
    start_minute=st.integers(0, 1439),
    duration=st.sampled_from([10, 20, 30, 40, 50, 60]),
    weeks=st.integers(1, 4),
    socs=st.lists(st.integers(0, 100), min_size=2, max_size=2, unique=True).map(sorted),
)
def test_valid_schedules_give_a_body_that_parses_back(
    day: ExerciseDay, start_minute: int, duration: int, weeks: int, socs: list[int]
) -> None:
    doc = gen_schedule_body(
        SCHEDULE_DOC,
        day=day.value.upper(),
        start_minute=start_minute,
        duration_minutes=duration,
        freq_in_weeks=weeks,
        start_soc_percent=socs[0],
        stop_soc_percent=socs[1],
    )
    assert doc["schedule"] == SCHEDULE_DOC["schedule"]
    assert doc["last_updated_by"] == "app"
    back = parse_gen_schedule(orjson.dumps(doc))
    assert back is not None
    assert (back.day, back.start_minute, back.duration_minutes, back.freq_in_weeks) == (
        day,
        start_minute,
        duration,
        weeks,
    )
    assert (back.start_soc_percent, back.stop_soc_percent) == (socs[0], socs[1])


@settings(deadline=None)
@given(st.integers(-50, 150), st.integers(-50, 150))
def test_soc_pairs_are_accepted_exactly_when_in_range_and_ordered(start: int, stop: int) -> None:
    valid = 0 <= start <= 100 and 0 <= stop <= 100 and start < stop
    if valid:
        doc = gen_schedule_body(SCHEDULE_DOC, start_soc_percent=start, stop_soc_percent=stop)
        assert doc["default_soc"] == {"start_soc": start, "stop_soc": stop}
    else:
        with pytest.raises(ValueError, match="soc_percent"):
            gen_schedule_body(SCHEDULE_DOC, start_soc_percent=start, stop_soc_percent=stop)


@settings(deadline=None)
@given(st.integers(-100, 200))
def test_durations_are_accepted_exactly_in_tens_from_10_to_60(minutes: int) -> None:
    if minutes in (10, 20, 30, 40, 50, 60):
        assert gen_schedule_body(SCHEDULE_DOC, duration_minutes=minutes)["exercise_config"] == {
            **SCHEDULE_DOC["exercise_config"],
            "duration": minutes,
        }
    else:
        with pytest.raises(ValueError, match="duration_minutes must be"):
            gen_schedule_body(SCHEDULE_DOC, duration_minutes=minutes)

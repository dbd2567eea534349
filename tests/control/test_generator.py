"""Generator and AC Battery writes, against the simulated site."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from enphase_local.control import Outcome
from enphase_local.errors import EnvoyFeatureUnavailable
from tests.control.test_target import SimTarget


async def test_generator_mode_confirmed() -> None:
    target = SimTarget("generator")
    result = await target.control().set_generator_mode("on")
    assert result.outcome is Outcome.CONFIRMED
    assert (result.before, result.after) == ("auto", "on")
    assert [(w.method, w.path, w.json) for w in target.writes] == [
        ("POST", "/ivp/ss/gen_mode", {"gen_cmd": "on"})
    ]


async def test_exercise_schedule_confirmed_and_the_rest_kept() -> None:
    target = SimTarget("generator")
    before = orjson.loads(target.get("gen_schedule"))
    result = await target.control().set_generator_exercise(
        day="sun", start_minute=9 * 60 + 45, duration_minutes=30, freq_in_weeks=2
    )
    assert result.outcome is Outcome.CONFIRMED
    assert result.requested == {
        "day": "Sun",
        "start_minute": 585,
        "duration_minutes": 30,
        "freq_in_weeks": 2,
    }
    assert result.before == {
        "day": "Sat",
        "start_minute": 945,
        "duration_minutes": 20,
        "freq_in_weeks": 3,
    }
    after = orjson.loads(target.get("gen_schedule"))
    for key in ("default_soc", "schedule", "last_updated_by"):
        assert orjson.dumps(after[key]) == orjson.dumps(before[key]), key


async def test_default_soc_change_confirmed() -> None:
    target = SimTarget("generator")
    result = await target.control().set_generator_exercise(stop_soc_percent=80)
    assert result.outcome is Outcome.CONFIRMED
    assert result.after == {"stop_soc_percent": 80.0}


async def test_charge_from_generator_confirmed() -> None:
    target = SimTarget("generator")
    result = await target.control().set_charge_from_generator(False)
    assert result.outcome is Outcome.CONFIRMED
    assert (result.before, result.after) == (True, False)
    sent = target.writes[0].json
    assert sent["charge_from_generator"] is False
    assert sent["manufacturer"] == "Generac"  # the whole document went back


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.set_generator_mode("sometimes"),
        lambda c: c.set_generator_exercise(duration_minutes=25),
        lambda c: c.set_generator_exercise(duration_minutes=70),
        lambda c: c.set_generator_exercise(freq_in_weeks=5),
        lambda c: c.set_generator_exercise(day="Someday"),
        lambda c: c.set_generator_exercise(start_minute=1440),
        lambda c: c.set_generator_exercise(start_soc_percent=80, stop_soc_percent=20),
        lambda c: c.set_generator_exercise(),
        lambda c: c.set_charge_from_generator(1),
    ],
)
async def test_invalid_generator_values_send_nothing(call: Any) -> None:
    target = SimTarget("generator")
    with pytest.raises(ValueError):
        await call(target.control())
    assert target.writes == [] and target.reads == []


async def test_start_soc_above_existing_stop_is_refused_after_reading() -> None:
    target = SimTarget("generator")  # default_soc 30..70
    with pytest.raises(ValueError, match="below"):
        await target.control().set_generator_exercise(start_soc_percent=75)
    assert target.writes == []


async def test_no_generator_sends_nothing() -> None:
    target = SimTarget("battery-backup")
    with pytest.raises(EnvoyFeatureUnavailable, match="generator"):
        await target.control().set_generator_mode("on")
    assert target.writes == []


async def test_generator_dry_run() -> None:
    target = SimTarget("generator")
    result = await target.control().set_generator_exercise(day="Mon", dry_run=True)
    assert result.outcome is Outcome.DRY_RUN
    assert result.request.body is not None
    assert result.request.body["exercise_config"]["day"] == "Mon"
    assert target.writes == []


# --- AC Battery sleep -----------------------------------------------------------------------


async def test_acb_sleep_set_and_cleared() -> None:
    target = SimTarget("acb", acb_sleep_in_inventory=True)
    control = target.control()
    serial = target.backend.config.acb_serials()[0]
    result = await control.set_acb_sleep(serial, 20, 30)
    assert result.outcome is Outcome.CONFIRMED
    assert result.before == {serial: None}
    assert result.after == {serial: [20, 30]}
    assert target.writes[0].method == "PUT"
    assert target.writes[0].json == {
        "acb_sleep": [{"serial_num": serial, "sleep_min_soc": 20, "sleep_max_soc": 30}]
    }
    cleared = await control.clear_acb_sleep([serial])
    assert cleared.outcome is Outcome.CONFIRMED
    assert cleared.after == {serial: None}
    assert target.writes[1].method == "DELETE"
    assert target.writes[1].json == {"acb_sleep": [{"serial_num": serial}]}


async def test_acb_sleep_confirmed_by_the_simulated_inventory() -> None:
    """The simulator's own inventory shows the sleep window written (no test-side help)."""
    target = SimTarget("acb")
    serial = target.backend.config.acb_serials()[1]
    result = await target.control().set_acb_sleep(serial, 20, 30, timeout_s=20)
    assert result.outcome is Outcome.CONFIRMED
    assert result.after == {serial: [20, 30]}
    assert target.backend.controls.acb_sleep == {serial: (20, 30)}


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("000000000000", 20, 30), "unknown AC Battery"),
        ((None, 20, 30), "serial"),
        (("S", 40, 30), "above"),
        (("S", -1, 30), "0 to 100"),
        (("S", 20, 30.5), "whole number"),
    ],
)
async def test_invalid_acb_sleep_sends_nothing(args: tuple[Any, ...], match: str) -> None:
    target = SimTarget("acb", acb_sleep_in_inventory=True)
    serial = target.backend.config.acb_serials()[0]
    args = tuple(serial if a == "S" else a for a in args)
    with pytest.raises(ValueError, match=match):
        await target.control().set_acb_sleep(*args)
    with pytest.raises(ValueError, match="serial"):
        await target.control().clear_acb_sleep([])
    assert target.writes == []


async def test_acb_needs_the_capability() -> None:
    target = SimTarget("battery-backup")
    with pytest.raises(EnvoyFeatureUnavailable, match="acb"):
        await target.control().clear_acb_sleep("122232000071")
    assert target.writes == []

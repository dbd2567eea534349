"""The pure pieces of issue 23: integrating battery power, the site's day, its zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from enphase_local.engine.energy import MAX_GAP_S, Integrator
from enphase_local.engine.site_day import DayStart, SiteDay
from enphase_local.models.gateway import HomeInfo

PACIFIC = ZoneInfo("US/Pacific")


def test_integrator_splits_directions_and_counts_gaps_it_does_not_bridge() -> None:
    acc = Integrator()
    for t, w in ((0, 1000.0), (60, 1000.0), (120, -600.0), (120, -600.0), (180, -600.0)):
        acc.add(t, w)
    # 1 kW for a minute; a linear ramp through zero over the next; -600 W for a minute
    assert acc.positive_wh == pytest.approx(1000 / 60 + 500 / 60)
    assert acc.negative_wh == pytest.approx(300 / 60 + 600 / 60)
    before = (acc.positive_wh, acc.negative_wh)
    acc.add(180 + MAX_GAP_S + 1, 2000.0)  # the reader was away: not guessed
    assert (acc.positive_wh, acc.negative_wh) == before
    assert acc.gaps_s == MAX_GAP_S + 1
    acc.add(180 + MAX_GAP_S + 61, 2000.0)
    assert acc.positive_wh == pytest.approx(before[0] + 2000 / 60)


def _at(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 11, day, hour, minute, tzinfo=PACIFIC).timestamp()


def test_day_start_interpolates_midnight_and_is_unknown_on_a_first_sight_without_own_today() -> (
    None
):
    day = DayStart()
    assert day.today(1000.0, _at(1, 23, 50), PACIFIC) is None  # counting began mid-day
    assert day.today(1100.0, _at(1, 23, 58), PACIFIC) is None
    # midnight falls at a quarter of the way from 23:58 to 00:06: 1125 Wh then
    assert day.today(1200.0, _at(2, 0, 6), PACIFIC) == pytest.approx(75.0)
    # across the fall-back hour (01:00 twice) the day goes on
    assert day.today(1500.0, _at(2, 3), PACIFIC) == pytest.approx(375.0)
    # the gateway's own today counter gives the start on a first sight
    own = DayStart()
    assert own.today(5000.0, _at(2, 12), PACIFIC, own_today=1200.0) == 1200.0
    assert own.today(5100.0, _at(2, 13), PACIFIC, own_today=None) == 1300.0
    assert DayStart().today(5000.0, _at(2, 12), None, own_today=1200.0) is None  # no zone


def test_site_zone_is_pending_until_home_then_learnt_and_kept() -> None:
    days = SiteDay()
    waiting = days.zone(None, awaiting_home=True)
    assert waiting.tz is None and waiting.pending and "/home" in (waiting.note or "")
    home = HomeInfo.__new__(HomeInfo)
    object.__setattr__(home, "timezone", "US/Pacific")
    known = days.zone(home, awaiting_home=True)
    assert known.tz == PACIFIC and not known.pending and known.note is None
    assert days.zone(None, awaiting_home=True).tz == PACIFIC  # a later failed /home keeps it
    legacy = SiteDay().zone(None, awaiting_home=False)  # before firmware 7: never told
    assert legacy.tz is None and not legacy.pending
    given = SiteDay("Europe/Brussels").zone(home, awaiting_home=True)
    assert given.tz == ZoneInfo("Europe/Brussels")  # the user's zone wins
    with pytest.raises(ValueError, match="unknown time zone"):
        SiteDay("Nowhere/Special")

"""Counter sanity: the 1.19 MWh step-down and the daily counter that fails to reset."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from enphase_local.engine.counters import UNKNOWN_CEILING_W, WRAP_WH, CounterGuard, site_ceiling_w
from enphase_local.models.energy import EnergyReading

UTC = ZoneInfo("UTC")
DAY = 86_400.0
T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC


def reading(lifetime: float, today: float | None = None) -> EnergyReading:
    return EnergyReading(1000.0, today, None, lifetime, "test")


def test_steady_counters_pass_untouched() -> None:
    guard = CounterGuard("production")
    for i, life in enumerate([5_000_000.0, 5_000_500.0, 5_001_200.0]):
        r = reading(life, 1_000.0 + (life - 5_000_000.0))
        out, warnings = guard.check(r, T0 + 12 * 3600 + i * 60, UTC)
        assert out is r and warnings == []


def test_step_down_by_wrap_is_corrected_and_flagged() -> None:
    guard = CounterGuard("production")
    guard.check(reading(3_000_000.0), T0, None)
    out, warnings = guard.check(reading(3_000_100.0 - WRAP_WH), T0 + 60, None)
    assert out.wh_lifetime == 3_000_100.0  # exactly 2^32 J added back: nothing lost
    assert warnings and "1.19 MWh" in warnings[0]
    # later readings continue from the corrected value plus the real increase
    out, warnings = guard.check(reading(3_000_600.0 - WRAP_WH), T0 + 120, None)
    assert out.wh_lifetime == 3_000_600.0 and warnings == []


def test_reset_to_zero_at_the_wrap_is_recognised() -> None:
    guard = CounterGuard("production")
    guard.check(reading(1_192_900.0), T0, None)
    out, warnings = guard.check(reading(100.0), T0 + 60, None)
    assert out.wh_lifetime is not None
    assert out.wh_lifetime == 100.0 + WRAP_WH  # the 146 Wh made across the wrap are kept
    assert "counter wrap" in warnings[0]


def test_any_other_drop_is_held_and_flagged() -> None:
    guard = CounterGuard("consumption")
    guard.check(reading(500_000.0), T0, None)
    out, warnings = guard.check(reading(400_000.0), T0 + 60, None)
    assert out.wh_lifetime == 500_000.0
    assert "went down" in warnings[0]
    # the next good reading continues from the true counter: nothing was added
    out, warnings = guard.check(reading(500_010.0), T0 + 120, None)
    assert out.wh_lifetime == 500_010.0 and warnings == []


def test_today_that_fails_to_reset_at_midnight_is_corrected() -> None:
    guard = CounterGuard("production")
    # evening: 20 kWh today
    guard.check(reading(9_000_000.0, 20_000.0), T0 + 20 * 3600, UTC)
    # 00:10 next day: lifetime unchanged (night) but today still says 20 kWh
    out, warnings = guard.check(reading(9_000_000.0, 20_000.0), T0 + DAY + 600, UTC)
    assert out.wh_today == 0.0
    assert "did not reset" in warnings[0]
    # 01:00: the gateway finally resets: values pass again
    out, warnings = guard.check(reading(9_000_000.0, 0.0), T0 + DAY + 3600, UTC)
    assert out.wh_today == 0.0 and warnings == []


def test_today_is_trusted_on_first_sight() -> None:
    guard = CounterGuard("production")
    out, warnings = guard.check(reading(9_000_000.0, 15_000.0), T0 + 15 * 3600, UTC)
    assert out.wh_today == 15_000.0 and warnings == []


# -- issue 11: counters that never lie ---------------------------------------------------


def test_one_all_zero_answer_adds_no_phantom_energy() -> None:
    """Old code added every drop to the offset: one zero doubled the lifetime for ever."""
    guard = CounterGuard("production")
    guard.check(reading(5_000_000.0), T0, None)
    held, warnings = guard.check(reading(0.0), T0 + 60, None)
    assert held.wh_lifetime == 5_000_000.0 and "held" in warnings[0]
    out, warnings = guard.check(reading(5_000_300.0), T0 + 120, None)
    assert out.wh_lifetime == 5_000_300.0 and warnings == []
    assert guard.offset_wh == 0.0


def test_drop_that_is_not_the_exact_wrap_is_held() -> None:
    guard = CounterGuard("production")
    guard.check(reading(3_000_000.0), T0, None)
    out, warnings = guard.check(reading(3_000_000.0 - 1_150_000.0), T0 + 60, None)
    assert out.wh_lifetime == 3_000_000.0 and "went down" in warnings[0]
    assert guard.offset_wh == 0.0


def test_impossible_jump_is_held_and_bounded_by_the_site_rating() -> None:
    guard = CounterGuard("production")
    ceiling = site_ceiling_w(10_000.0)  # 10 kW of inverters -> 15 kW ceiling
    guard.check(reading(2_000_000.0), T0, None, ceiling_w=ceiling)
    # 400 Wh in a minute is 24 kW: more than the site can make
    out, warnings = guard.check(reading(2_000_400.0), T0 + 60, None, ceiling_w=ceiling)
    assert out.wh_lifetime == 2_000_000.0 and "jumped" in warnings[0]
    # 200 Wh in two minutes (6 kW) is fine, counted from the last good reading
    out, warnings = guard.check(reading(2_000_200.0), T0 + 120, None, ceiling_w=ceiling)
    assert out.wh_lifetime == 2_000_200.0 and warnings == []


def test_absurd_and_non_finite_values_are_held() -> None:
    guard = CounterGuard("consumption")
    guard.check(reading(700_000.0), T0, None)
    for bad in (1e300, -1.2e11, float("nan"), float("inf")):
        out, warnings = guard.check(reading(bad), T0 + 60, None)
        assert out.wh_lifetime == 700_000.0 and warnings


def test_a_real_reset_is_accepted_once_it_persists() -> None:
    """A replaced meter restarts its counter: held for a while, then followed, never down."""
    guard = CounterGuard("production")
    guard.check(reading(8_000_000.0), T0, None)
    reported = []
    for minute in range(1, 60):
        out, _ = guard.check(reading(100.0 + 20 * minute), T0 + 60 * minute, None)
        assert out.wh_lifetime is not None
        reported.append(out.wh_lifetime)
    assert reported == sorted(reported)  # never backwards
    assert reported[0] == 8_000_000.0  # held at first
    assert reported[-1] > 8_000_000.0  # then followed, continuing from the last good value
    assert reported[-1] - reported[-2] == 20.0
    assert reported[-1] <= 8_000_000.0 + 20 * 59


def test_reboot_zeros_for_minutes_are_never_accepted_as_a_reset() -> None:
    guard = CounterGuard("production")
    guard.check(reading(6_000_000.0), T0, None)
    for minute in range(1, 11):  # ten minutes of zeros: fewer than CONFIRM_S
        out, _ = guard.check(reading(0.0), T0 + 60 * minute, None)
        assert out.wh_lifetime == 6_000_000.0
    out, warnings = guard.check(reading(6_000_500.0), T0 + 660, None)
    assert out.wh_lifetime == 6_000_500.0 and warnings == []


def test_today_never_goes_backwards_within_a_day_and_resets_once() -> None:
    guard = CounterGuard("production")
    noon = T0 + 12 * 3600
    guard.check(reading(9_000_000.0, 10_000.0), noon, UTC)
    out, _ = guard.check(reading(9_000_500.0, 10_500.0), noon + 600, UTC)
    assert out.wh_today == 10_500.0
    # a reboot resets whToday mid-day: counted from the lifetime instead
    out, warnings = guard.check(reading(9_000_600.0, 0.0), noon + 1200, UTC)
    assert out.wh_today == 10_600.0 and "went down" in warnings[0]
    # a small wobble never shows as a step back
    out, _ = guard.check(reading(9_000_600.0, 10_590.0), noon + 1260, UTC)
    assert out.wh_today == 10_600.0
    # next local day: one reset, to zero
    out, _ = guard.check(reading(9_020_000.0, 0.0), T0 + DAY + 60, UTC)
    assert out.wh_today == 0.0


def test_negative_today_is_never_reported() -> None:
    guard = CounterGuard("production")
    out, _ = guard.check(reading(9_000_000.0, -40.0), T0 + 3600, UTC)
    assert out.wh_today == 0.0


def test_ceiling_from_inverters_or_generous_when_unknown() -> None:
    assert site_ceiling_w(None) == UNKNOWN_CEILING_W
    assert site_ceiling_w(12_810.0) == 12_810.0 * 1.5
    assert site_ceiling_w(12_810.0, house=True) > site_ceiling_w(12_810.0)

"""Counter sanity: the 1.19 MWh step-down and the daily counter that fails to reset."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from enphase_local.engine.counters import WRAP_WH, CounterGuard
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
    assert out.wh_lifetime == 3_000_000.0
    assert warnings and "1.19 MWh" in warnings[0]
    # later readings continue from the corrected value plus the real increase
    out, warnings = guard.check(reading(3_000_600.0 - WRAP_WH), T0 + 120, None)
    assert out.wh_lifetime == 3_000_500.0 and warnings == []


def test_reset_to_zero_near_wrap_is_recognised() -> None:
    guard = CounterGuard("production")
    guard.check(reading(1_185_000.0), T0, None)
    out, warnings = guard.check(reading(200.0), T0 + 60, None)
    assert out.wh_lifetime == 1_185_000.0
    assert "counter wrap" in warnings[0]


def test_any_other_drop_is_held_and_flagged() -> None:
    guard = CounterGuard("consumption")
    guard.check(reading(500_000.0), T0, None)
    out, warnings = guard.check(reading(400_000.0), T0 + 60, None)
    assert out.wh_lifetime == 500_000.0
    assert "went down" in warnings[0]


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

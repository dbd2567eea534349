"""Backoff: full jitter inside exponential bounds, deterministic with an injected Random."""

from __future__ import annotations

import random

import pytest

from enphase_local.net.backoff import RetryPolicy, backoff_delay


def test_delays_stay_within_the_exponential_ceiling_and_the_cap() -> None:
    rng = random.Random(1)
    for attempt in range(12):
        ceiling = min(10.0, 0.5 * 2**attempt)
        for _ in range(200):
            delay = backoff_delay(attempt, base=0.5, cap=10.0, rng=rng)
            assert 0.0 <= delay <= ceiling


def test_full_jitter_spreads_over_the_whole_range() -> None:
    rng = random.Random(2)
    delays = [backoff_delay(3, base=0.5, cap=10.0, rng=rng) for _ in range(2000)]
    # ceiling is 4 s: full jitter uses all of [0, 4], not just its top
    assert min(delays) < 0.2
    assert max(delays) > 3.8
    assert 1.8 < sum(delays) / len(delays) < 2.2


def test_same_seed_gives_same_delays_and_uniform_scales_the_ceiling() -> None:
    a = [backoff_delay(i, base=1.0, cap=100.0, rng=random.Random(5)) for i in range(5)]
    b = [backoff_delay(i, base=1.0, cap=100.0, rng=random.Random(5)) for i in range(5)]
    assert a == b
    # uniform(0, c) with one seed is the same fraction of c whatever the ceiling
    fractions = [d / 2**i for i, d in enumerate(a)]
    assert max(fractions) - min(fractions) < 1e-9


def test_huge_attempts_do_not_overflow_and_zero_cap_means_no_wait() -> None:
    assert backoff_delay(10_000, base=0.5, cap=10.0, rng=random.Random(0)) <= 10.0
    assert backoff_delay(3, base=0.5, cap=0.0, rng=random.Random(0)) == 0.0


def test_invalid_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        backoff_delay(-1, base=0.5, cap=10.0, rng=random.Random(0))
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_s=-1)


def test_retry_policy_defaults_and_delay() -> None:
    policy = RetryPolicy()
    assert (policy.attempts, policy.base_s, policy.cap_s) == (3, 0.5, 10.0)
    expected = backoff_delay(1, base=0.5, cap=10.0, rng=random.Random(9))
    assert policy.delay(1, random.Random(9)) == expected

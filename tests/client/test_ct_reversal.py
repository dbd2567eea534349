"""A CT installed backwards, a whole simulated day against the simulator (issue 30, item 3).

The production CT of phase L1 is clamped backwards from 08:00. Before the
diagnosis the counter guards held the counters right but said so about
1,500 times a day; now the day says it once, names the CT and the phase, and
the counters still never step back nor run ahead of what the site produced.
"""

from __future__ import annotations

import logging
from collections import Counter
from itertools import pairwise

import pytest

from enphase_local.simulator import PRESETS
from tests.simkit import envoy_for, gateway

MIDNIGHT = 1_781_506_800.0  # 2026-06-15 00:00 in US/Pacific (metered-split's time zone)
SLACK_WH = 50.0


async def _day(
    preset: str, start: float, *, reverse: tuple[str, int] | None, step_s: float = 60.0
) -> tuple[Counter[str], list[logging.LogRecord], list[tuple[float, float, float]]]:
    """Every warning of a day of updates, the log records, and (production, truth, house)."""
    seen: Counter[str] = Counter()
    counters: list[tuple[float, float, float]] = []
    records: list[logging.LogRecord] = []
    handler = _Keep(records)
    log = logging.getLogger("enphase_local")
    log.addHandler(handler)
    diagnosis = logging.getLogger("enphase_local.diagnosis")  # its DEBUG lines: what was folded
    old_level = diagnosis.level
    diagnosis.setLevel(logging.DEBUG)
    try:
        async with gateway(preset, start=start) as (gw, clock), envoy_for(gw, clock) as envoy:
            if reverse is not None:
                gw.faults.reverse_ct(reverse[0], reverse[1], since=start + 8 * 3600)
            model = gw.backend.model  # type: ignore[attr-defined]
            for _ in range(int(86400 / step_s)):
                clock.advance(step_s)
                snap = await envoy.update()
                seen.update(snap.warnings)
                if snap.production is not None and snap.production.wh_lifetime is not None:
                    truth = sum(model.energy_at(clock.now())["prod"])
                    house = snap.consumption.wh_lifetime if snap.consumption else None
                    counters.append((snap.production.wh_lifetime, truth, house or 0.0))
    finally:
        log.removeHandler(handler)
        diagnosis.setLevel(old_level)
    return seen, records, counters


class _Keep(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


def _never_back_nor_ahead(counters: list[tuple[float, float, float]]) -> None:
    start_gap = counters[0][1] - counters[0][0]
    for (prod0, _, house0), (prod1, truth1, house1) in pairwise(counters):
        assert prod1 >= prod0 and house1 >= house0  # never a step back
        assert prod1 <= truth1 - start_gap + SLACK_WH  # never more than the site produced


async def test_a_day_with_the_l1_production_ct_backwards_says_it_once() -> None:
    seen, records, counters = await _day("metered-split", MIDNIGHT, reverse=("production", 1))
    diagnosis = [w for w in seen if "looks installed backwards" in w]
    assert len(diagnosis) == 1, diagnosis
    text = diagnosis[0]
    assert "production CT on phase L1" in text
    assert "arrow" in text and "phase conductor" in text and "meter wizard" in text
    noise = sum(n for w, n in seen.items() if "counter went down" in w or "jumped" in w)
    assert noise <= 40, noise  # the few before it was confirmed, not ~1,500
    loud = [r for r in records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in loud] == [text]
    folded = [r for r in records if r.levelno == logging.DEBUG and "folded" in r.getMessage()]
    assert len(folded) > 100  # the guards did hold, every update: only the noise went
    _never_back_nor_ahead(counters)


async def test_a_net_ct_backwards_is_named_once_consumption_reads_below_zero() -> None:
    """A backwards net CT shows in daylight only as too much consumption; at dusk it is said."""
    amsterdam_midnight = 1_781_474_400.0  # 2026-06-15 00:00 in Europe/Amsterdam
    seen, records, counters = await _day(
        "metered-3phase", amsterdam_midnight, reverse=("net-consumption", 2)
    )
    diagnosis = [w for w in seen if "looks installed backwards" in w]
    assert len(diagnosis) == 1 and "net-consumption CT on phase L2" in diagnosis[0]
    assert [r.levelno for r in records if "backwards" in r.getMessage()] == [logging.WARNING]
    _never_back_nor_ahead(counters)


@pytest.mark.parametrize("preset", sorted(p for p, c in PRESETS.items() if c.metered))
async def test_a_healthy_day_never_raises_it(preset: str) -> None:
    tz_noon = 1_781_546_400.0  # a June day in every preset's time zone, from 18:00 UTC
    seen, records, counters = await _day(preset, tz_noon, reverse=None, step_s=600.0)
    assert not [w for w in seen if "backwards" in w]
    assert not [r for r in records if "backwards" in r.getMessage()]
    _never_back_nor_ahead(counters)

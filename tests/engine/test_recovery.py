"""Demotion, promotion, re-probes, retry backoff and the update budget: the pure decisions."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from enphase_local.capabilities import SourceStatus
from enphase_local.engine.budget import STOP_AFTER, UpdateBudget, default_budget
from enphase_local.engine.recovery import (
    DEMOTE_AFTER,
    REPROBE_FAILED_S,
    REPROBE_S,
    demotes,
    demotion_warning,
    never_answered,
    next_reprobe,
)
from enphase_local.engine.schedule import RETRY_MAX_CAP_S, Schedule, retry_delay
from enphase_local.errors import (
    EnvoyConnectionError,
    EnvoyHTTPError,
    EnvoyParseError,
    EnvoyTimeoutError,
)
from enphase_local.sources.keys import SourceKey
from enphase_local.sources.registry import Cadence, Source

LIVE: Source[object] = Source("live", "/l", lambda b: b, cadence=Cadence.LIVE)


def test_one_parse_error_never_demotes_several_do_connection_errors_never() -> None:
    parse = EnvoyParseError("/production.json", "<html>", "got an HTML page")
    assert not demotes(parse, 1)
    assert not demotes(parse, DEMOTE_AFTER - 1)
    assert demotes(parse, DEMOTE_AFTER)
    assert demotes(EnvoyHTTPError(500, "/production.json"), DEMOTE_AFTER)
    assert not demotes(EnvoyConnectionError("reset"), 50)  # the gateway is away, not the source


def test_the_warning_names_the_worse_source_and_why() -> None:
    text = demotion_warning(
        SourceKey.PRODUCTION_SUMMARY, SourceKey.PRODUCTION_JSON, "HTML instead of JSON"
    )
    assert text is not None
    assert "production_summary instead of production_json" in text and "per-phase" in text
    assert "HTML instead of JSON" in text
    assert demotion_warning(SourceKey.PRODUCTION_JSON, SourceKey.PRODUCTION_JSON, None) is None


def test_only_never_answered_sources_are_reprobed_failed_ones_sooner() -> None:
    status = {
        SourceKey.METERS: SourceStatus.FORBIDDEN,
        SourceKey.HOME: SourceStatus.OK,
        SourceKey.TARIFF: SourceStatus.ABSENT,
    }
    read_at = {SourceKey.HOME: 10.0, SourceKey.TARIFF: 5.0}  # tariff answered once
    assert never_answered(status, read_at) == [SourceKey.METERS]
    assert next_reprobe(100.0, status, read_at) == 100.0 + REPROBE_S
    status[SourceKey.ENSEMBLE_INVENTORY] = SourceStatus.FAILED
    assert next_reprobe(100.0, status, read_at) == 100.0 + REPROBE_FAILED_S
    assert next_reprobe(0.0, {SourceKey.HOME: SourceStatus.OK}, read_at) is None


def test_retry_backoff_doubles_and_is_capped_by_the_period() -> None:
    assert retry_delay(1, 0.0) == 30.0
    assert retry_delay(2, 0.0) == 60.0  # live sources: at most a minute
    assert retry_delay(5, 0.0) == 60.0
    assert retry_delay(3, 300.0) == 120.0
    assert retry_delay(9, 300.0) == 300.0
    assert retry_delay(30, 4 * 3600.0) == RETRY_MAX_CAP_S
    sched = Schedule()
    sched.record_success("live", 0.0)
    for failures in range(1, 4):
        sched.record_failure("live", 100.0)
        assert sched.next_due(LIVE) == 100.0 + retry_delay(failures, 0.0)
    sched.record_success("live", 200.0)
    assert sched.next_due(LIVE) == 0.0  # live again on every update


def test_default_budget_is_two_and_a_half_slow_timeouts() -> None:
    assert default_budget(60.0) == 150.0


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_budget_stops_after_consecutive_unreachable_reads() -> None:
    budget = UpdateBudget.start(100.0, Ticks())
    assert budget.retry() and not UpdateBudget.start(100.0, Ticks(), gentle=True).retry()
    budget.record(EnvoyTimeoutError("slow"))
    assert budget.stopped is None and not budget.retry()
    budget.record(None)  # one answer in between resets the count
    for _ in range(STOP_AFTER):
        budget.record(EnvoyHTTPError(503, "/x"))
    assert budget.stopped is not None and "in a row" in budget.stopped
    other = UpdateBudget.start(100.0, Ticks())
    for _ in range(5):
        other.record(EnvoyParseError("/x", "", "garbage"))
    assert other.stopped is None  # bad answers are not an absent gateway


async def test_budget_cuts_a_read_at_the_time_left() -> None:
    budget = UpdateBudget.start(0.05)

    async def hang() -> int:
        await asyncio.sleep(5)
        return 1

    with pytest.raises(EnvoyTimeoutError, match="budget"):
        await budget.run(hang())
    assert budget.stopped is not None

    async def quick() -> int:
        return 2

    with pytest.raises(EnvoyTimeoutError):
        await budget.run(quick())  # nothing left: not even started


async def test_a_read_is_not_started_in_the_budgets_reserve() -> None:
    """The budget is a promise (issue 30): the last tenth (at most 0.5 s) is kept for the
    snapshot after the reads, so a read is never started once only the reserve is left."""
    ticks = Ticks()
    budget = UpdateBudget.start(10.0, ticks)
    assert budget.reserve() == 0.5 and UpdateBudget.start(2.0, ticks).reserve() == 0.2
    ticks.now = 9.6  # 0.4 s left: less than the 0.5 s reserve
    started = False

    async def read() -> int:
        nonlocal started
        started = True
        await asyncio.Event().wait()
        return 1

    with pytest.raises(EnvoyTimeoutError, match="budget"):
        await budget.run(read())
    assert not started and budget.stopped is not None


def test_a_reprobe_while_demoted_keeps_the_better_source_preferred() -> None:
    from enphase_local.engine.cache import SourceCache
    from enphase_local.engine.production import production_chain
    from enphase_local.firmware import Firmware

    chain = production_chain(Firmware.parse("D8.3.5167"))
    cache = SourceCache()
    cache.read_at[SourceKey.PRODUCTION_JSON] = 1.0  # it answered once
    cache.production_key = SourceKey.PRODUCTION_JSON
    cache.settle_preferred(chain, SourceKey.PRODUCTION_JSON)
    assert cache.preferred_production == SourceKey.PRODUCTION_JSON
    # demoted, then a re-probe where production.json still fails
    cache.production_key = SourceKey.PRODUCTION_SUMMARY
    cache.settle_preferred(chain, SourceKey.PRODUCTION_SUMMARY)
    assert cache.preferred_production == SourceKey.PRODUCTION_JSON
    assert demotion_warning(cache.production_key, cache.preferred_production, cache.demoted_because)
    # v1 chosen on purpose (non-metered): a worse chain position is not a demotion
    cache.preferred_production = SourceKey.PRODUCTION_V1
    cache.production_key = SourceKey.PRODUCTION_V1
    cache.settle_preferred(chain, SourceKey.PRODUCTION_JSON)
    assert cache.preferred_production == SourceKey.PRODUCTION_V1
    assert cache.demoted_because is None


def test_a_source_that_keeps_failing_is_reprobed_less_and_less_often() -> None:
    status = {SourceKey.PRODUCTION_HTML: SourceStatus.FAILED}
    waits = [next_reprobe(0.0, status, {}, attempts) for attempts in range(8)]
    assert waits[0] == REPROBE_FAILED_S
    assert waits[1] == 2 * REPROBE_FAILED_S and waits[2] == 4 * REPROBE_FAILED_S
    assert all(b is not None and a is not None and b >= a for a, b in itertools.pairwise(waits))
    assert waits[-1] == REPROBE_S  # never longer than the refused sources' wait
    refused = {SourceKey.HOME: SourceStatus.FORBIDDEN}
    assert next_reprobe(0.0, refused, {}, attempts=5) == REPROBE_S

"""When is each source worth asking again? The client's request economy in one place.

The gateway is slow and fragile (gateway.md section 6), so every request must
earn its place. Each source has a cadence (registry.Cadence): LIVE sources are
read on every update, CONFIG and IDENTITY sources after their period, and
REPORT sources (microinverter data) only when a new 5-minute report can be
due: at the newest report time seen plus the report period, not at our own
fetch time plus it, so we neither miss a report by minutes nor ask early.

All decisions use an injected clock (epoch seconds), so tests and benchmarks
replay hours of polling in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from ..models.inverters import DeviceData
from ..sources.keys import SourceKey
from ..sources.registry import Cadence, Source
from ..sources.table import SOURCES
from .production import as_report

__all__ = ["Schedule", "SourceState", "new_local_day", "newest_report", "retry_delay"]

# A report arrives a little after its nominal instant and the gateway needs a
# moment to publish it: ask this long after it is due.
REPORT_GRACE_S = 15.0
# When no report timestamp is known (or it looks stale), fall back to asking
# every period after our last fetch. A report that is merely late (the gateway
# publishes it a little after its instant) is looked for again each minute,
# but only this long past its due time: at night, or on a replayed capture,
# the newest report stays hours old and the source is asked once a period.
LATE_REPORT_S = 120.0
LATE_REPORT_RETRY_S = 60.0
# A live source the probe read this recently is not asked again by the update
# that follows it (the first snapshot would re-read what it holds).
PROBE_REUSE_S = 15.0

# After a failure a source is asked again after a backoff that doubles with each
# consecutive failure: 30 s, 60 s, 120 s... never longer than its own period (at
# least a minute) nor 10 minutes, so a section is fresh again within about two of
# its periods once the gateway answers, and a broken endpoint is not hammered.
RETRY_BASE_S = 30.0
RETRY_MIN_CAP_S = 60.0
RETRY_MAX_CAP_S = 600.0


def retry_delay(failures: int, period: float) -> float:
    """Seconds to wait after `failures` consecutive failures of a source of `period`."""
    cap = min(max(period, RETRY_MIN_CAP_S), RETRY_MAX_CAP_S)
    return min(RETRY_BASE_S * 2.0 ** min(max(failures - 1, 0), 20), cap)


@dataclass(slots=True)
class SourceState:
    """What we know of one source's last fetch."""

    fetched_at: float | None = None  # epoch s of the last successful fetch
    failed_at: float | None = None  # epoch s of the last failure
    failures: int = 0  # consecutive failures
    newest_report: float | None = None  # REPORT sources: newest device report time seen
    forced: bool = False  # ask on the next update whatever the cadence
    reuse_until: float | None = None  # a probe read: not due before this
    # `Schedule.next_due`'s last answer and the period it used: asked once per source and
    # update, not by every snapshot section again (issue 31); any change above clears it
    due: float | None = None
    due_period: float = -1.0


@dataclass(slots=True)
class Schedule:
    """Per-source bookkeeping and the "is it due?" decision.

    `overrides` lets the client shorten or lengthen a cadence for one source
    (for instance production.json's counters are only needed every few
    minutes when CT readings give live power).
    """

    overrides: dict[SourceKey, float] = field(default_factory=dict)
    states: dict[SourceKey, SourceState] = field(default_factory=dict)
    report_period_s: float = float(Cadence.REPORT.seconds)

    @classmethod
    def seeded(
        cls,
        plan: dict[SourceKey, float],
        read_at: dict[SourceKey, float],
        report_time: Callable[[SourceKey], float | None],
    ) -> Schedule:
        """A schedule for `plan` (periods as overrides) that knows the reads made so far."""
        schedule = cls(overrides=dict(plan))
        for key in plan:
            if key in read_at:
                schedule.record_success(key, read_at[key], report_time(key))
                st = schedule.state(key)
                st.reuse_until, st.due = read_at[key] + PROBE_REUSE_S, None
        return schedule

    def state(self, key: SourceKey) -> SourceState:
        st = self.states.get(key)
        if st is None:
            st = self.states[key] = SourceState()
        return st

    def period(self, source: Source[object]) -> float:
        """Seconds between reads of `source`."""
        return self.overrides.get(source.key, float(source.cadence.seconds))

    def next_due(self, source: Source[object]) -> float:
        """Epoch seconds from which `source` is worth asking again (0: now).

        Remembered until the source's state or period changes: the update
        asks it (`due_in`), then the snapshot's freshness asks it again.
        """
        st = self.state(source.key)
        period = self.period(source)
        if st.due is not None and st.due_period == period:
            return st.due
        st.due, st.due_period = self._next_due(source, st, period), period
        return st.due

    def _next_due(self, source: Source[object], st: SourceState, period: float) -> float:
        if st.forced:
            return 0.0
        if st.failed_at is not None and (st.fetched_at is None or st.failed_at > st.fetched_at):
            # The data we hold is stale: try again soon, backing off while it keeps failing.
            return st.failed_at + retry_delay(st.failures, period)
        if st.fetched_at is None:
            return 0.0
        if period <= 0:
            return st.reuse_until or 0.0
        if source.cadence is Cadence.REPORT and st.newest_report is not None:
            return self._report_due(st, period)
        return st.fetched_at + period

    def _report_due(self, st: SourceState, period: float) -> float:
        """A REPORT source: when its next report is due, or one period after a stale one."""
        assert st.fetched_at is not None and st.newest_report is not None
        by_report = st.newest_report + self.report_period_s + REPORT_GRACE_S
        if by_report > st.fetched_at:
            return by_report  # not asked since the next report became due
        if st.fetched_at - by_report < LATE_REPORT_S:
            return st.fetched_at + min(period, LATE_REPORT_RETRY_S)  # late: look again soon
        # Asleep at night, or a replayed capture: the report will not come soon.
        return st.fetched_at + period

    def due(self, sources: Iterable[Source[object]], now: float) -> list[Source[object]]:
        """The sources worth asking at `now`, in the given order."""
        return [s for s in sources if self.next_due(s) <= now]

    def due_in(
        self,
        plan: Iterable[SourceKey],
        now: float,
        *,
        also: SourceKey | None = None,
        skip: Collection[SourceKey] = (),
    ) -> list[Source[Any]]:
        """The sources of `plan` due at `now` (identity apart: it is read first, on its own).

        `also`, when due, comes first: a demoted production source asked again
        so that it can be promoted back. `skip`: not now (the deferred sources
        on the first snapshot's path).
        """
        keys: list[SourceKey] = [k for k in plan if k != SourceKey.INFO and k not in skip]
        if also is not None and also not in keys:
            keys.insert(0, also)
        return self.due([SOURCES[k] for k in keys], now)

    def record_success(
        self, key: SourceKey, now: float, newest_report: float | None = None
    ) -> None:
        st = self.state(key)
        st.fetched_at = now
        st.failures = 0
        st.forced = False
        st.reuse_until = st.due = None
        if newest_report is not None:
            st.newest_report = newest_report

    def record_failure(self, key: SourceKey, now: float) -> None:
        st = self.state(key)
        st.failed_at, st.due = now, None
        st.failures += 1

    def force(self, *keys: SourceKey) -> None:
        """Ask these sources on the next update whatever their cadence (after a write, say)."""
        for key in keys:
            st = self.state(key)
            st.forced, st.reuse_until, st.due = True, None, None


def newest_report(key: SourceKey, value: object, production_key: SourceKey | None) -> float | None:
    """The newest microinverter report time in `value` (None when it carries none).

    REPORT sources are asked again only when a newer report can be due: this
    is the time that rhythm is counted from. production.json's inverter
    section counts only when no production CT measures production.
    """
    if key == SourceKey.DEVICE_DATA and isinstance(value, DeviceData):
        times = [d.last_report for d in value.inverters.values()]
        return float(max(times)) if times else None
    if key == SourceKey.INVERTERS_V1 and isinstance(value, Mapping) and value:
        return float(max(i.last_report for i in value.values()))
    if key == production_key:
        report = as_report(value)
        inverters = report.inverters if report is not None else None
        if inverters and inverters.reading_time and report and report.production is None:
            return float(inverters.reading_time)
    return None


def new_local_day(last_read: float | None, now: float, tz: tzinfo | None) -> bool:
    """Local midnight has passed since `last_read`: re-read production so daily counters restart."""
    if tz is None or last_read is None:
        return False
    return datetime.fromtimestamp(last_read, tz).date() != datetime.fromtimestamp(now, tz).date()

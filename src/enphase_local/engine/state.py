"""`GatewayState`: one owner of what the client knows of a gateway, and its decisions. No I/O.

The cache, the schedule, the plan, the deferred sources, the source
statuses, the capabilities and the re-probe timers used to be fifteen loose
fields of `Envoy`, handed to the engine and back as packed tuples. They live
here now, and the state answers the two questions of a sans-I/O protocol
(compare httpx's ``Auth.auth_flow``, aioesphomeapi's connection state):
*what should be read now* (`production_chain`, `probe_keys`, `due`,
`reprobe_keys`, `info_due`) and *here is what came back* (`probed`,
`accepted`, `refused`, `failed`, `read`, `reprobed`). `Envoy` is the I/O loop
around it: it sends the requests, keeps time and budgets, and says nothing
about what an answer means. The live reader sees it through the few methods
of `live.link.LiveState`. Every decision still has its one home
(`engine.production`, `engine.recovery`, `engine.rhythm`, ...): this class
calls them, it does not repeat them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, TypeVar

from ..capabilities import Capability, SourceStatus
from ..errors import EnvoyError, EnvoyFeatureUnavailable
from ..firmware import Firmware
from ..models.energy import EnergyReading
from ..models.gateway import GatewayInfo, HomeInfo
from ..models.snapshot import Snapshot
from ..sources.keys import SourceKey
from ..sources.registry import Source
from ..sources.table import (
    ENSEMBLE_INVENTORY,
    ENSEMBLE_POWER,
    ENSEMBLE_SECCTRL,
    GEN_CONFIG,
    HOME,
    INVENTORY,
    SOURCES,
)
from . import probe as probing
from . import production as producing
from . import recovery
from .balance import Known, battery_known
from .budget import UpdateBudget, bounded_by_budget, default_budget
from .cache import SourceCache
from .energy import EnergyBook
from .freshness import not_asked
from .joins import compose_acb, compose_battery
from .outage import in_outage_window
from .schedule import Schedule, new_local_day
from .site_day import SiteDay, ZoneLike
from .snapshot import build_snapshot, gateway_summary

__all__ = [
    "GatewayState",
    "UpdateBudget",
    "UpdateWindow",
    "ZoneLike",  # what `Envoy(timezone=...)` accepts (engine.site_day)
    "bounded_by_budget",
    "default_budget",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class UpdateWindow:
    """Where one update happens in the gateway's day: its zone, and the nightly restart."""

    tz: tzinfo | None
    note: str | None  # why the zone is a guess, while /home has not answered
    gentle: bool  # in the nightly restart window: no retries


@dataclass(slots=True)
class GatewayState:
    """Everything known of one gateway between requests (see the module docstring)."""

    cache: SourceCache = field(default_factory=SourceCache)
    status: dict[SourceKey, SourceStatus] = field(default_factory=dict)
    capabilities: frozenset[Capability] = frozenset()
    plan: dict[SourceKey, float] = field(default_factory=dict)
    deferred: dict[SourceKey, float] = field(default_factory=dict)  # after the first snapshot
    schedule: Schedule = field(default_factory=Schedule)
    next_reprobe: float | None = None
    reprobes: int = 0  # re-probes in a row that found nothing new (their wait doubles)
    snapshots: int = 0
    site_day: SiteDay = field(default_factory=SiteDay)  # the zone "today" is in (issue 23)
    energy: EnergyBook = field(default_factory=EnergyBook)  # the six flows across updates

    @classmethod
    def in_zone(cls, timezone: ZoneLike) -> GatewayState:
        """A fresh state counting "today" in `timezone` (None: the gateway's own zone).

        ValueError names a zone that does not exist, before any I/O.
        """
        return cls(site_day=SiteDay(timezone))

    # --- typed reads (the live reader's and the facade's view) -------------------------------
    def get(self, source: Source[T]) -> T | None:
        """The last value `source` answered, typed by its parser."""
        return self.cache.get(source)

    @property
    def home(self) -> HomeInfo | None:
        return self.cache.get(HOME)

    def probed(self) -> bool:
        """Whether a probe (or a remembered one) said what the gateway has."""
        return bool(self.status)

    def answers(self, key: SourceKey) -> bool:
        """The source answered with data when last asked."""
        return self.status.get(key) is SourceStatus.OK

    def unasked(self, key: SourceKey) -> bool:
        """Left for after the first snapshot and not asked yet: worth a try."""
        return key in self.deferred and key not in self.status

    def live_read(self, key: SourceKey, value: object, now: float) -> None:
        """A value the live reader read: `update()` finds it fresh."""
        self.cache.put(key, value, now)

    def battery_now(self) -> tuple[Known | None, float | None]:
        """Battery power and SoC from the last update (for live sources without a storage CT)."""
        cache = self.cache
        get = cache.get
        battery = compose_battery(
            get(ENSEMBLE_INVENTORY), get(ENSEMBLE_POWER), get(ENSEMBLE_SECCTRL), cache.read_at
        )
        acb = compose_acb(cache.production(), get(INVENTORY))
        at = cache.read_at.get(SourceKey.ENSEMBLE_POWER)
        if at is None and acb is not None and cache.production_key is not None:
            at = cache.read_at.get(cache.production_key)
        soc = battery.soc_percent if battery is not None else None
        if soc is None and acb is not None:
            soc = acb.soc_percent
        return battery_known(battery, acb, at), soc

    # --- probing ------------------------------------------------------------------------------
    def production_chain(self, fw: Firmware) -> tuple[SourceKey, ...]:
        """The production sources to try, best first (engine.production)."""
        return producing.production_chain(fw)

    @staticmethod
    def late_after(key: SourceKey, limit_s: float) -> float | None:
        return producing.late_after(key, limit_s)

    @staticmethod
    def fallback_usable(value: object) -> bool:
        return producing.fallback_usable(value)

    fallback = producing.FALLBACK

    def already_read(self, key: SourceKey, now: float) -> bool:
        """Read at `now` already in this probe (the fallback check read v1): not again."""
        return self.cache.read_at.get(key) == now

    def probed_answer(
        self, key: SourceKey, status: SourceStatus, value: object, error: str | None, now: float
    ) -> None:
        """What the probe's request for `key` gave: its status, and its model or its error."""
        self.status[key] = status
        if error is not None:
            self.cache.fail(key, error)
        elif status is SourceStatus.OK:
            self.cache.put(key, value, now)

    def production_found(self, found: SourceKey | None, awaited: SourceKey | None) -> bool:
        """The chain's answer: who serves production (a re-probe keeps the last); False: nobody."""
        cache = self.cache
        cache.awaited_production = awaited
        cache.production_key = found or cache.production_key
        return cache.production_key is not None

    def no_production(self, host: str, firmware: str) -> EnvoyFeatureUnavailable:
        """The error of a probe that found no production source."""
        errors = "; ".join(self.cache.errors.values()) or "nothing to read"
        return EnvoyFeatureUnavailable(
            f"no production source answered on {host} (firmware {firmware}): {errors}"
        )

    def wants_v1(self) -> bool:
        """Whether v1 must be read to judge the production report (engine.production)."""
        key = self.cache.production_key
        return key is not None and producing.wants_v1(key, self.cache.production())

    def settle_production(self, info: GatewayInfo, v1: object, found: SourceKey | None) -> None:
        """Prefer v1 where the report's figures are worse; remember the best source found."""
        cache = self.cache
        key, report = cache.production_key, cache.production()
        assert key is not None
        reading = v1 if isinstance(v1, EnergyReading) else None  # PRODUCTION_V1's model, or None
        if producing.prefers_v1(key, report, reading, fw=info.fw, metered=info.imeter):
            cache.production_key = SourceKey.PRODUCTION_V1
        cache.settle_preferred(producing.production_chain(info.fw), found)

    def probe_keys(self, info: GatewayInfo) -> Iterator[SourceKey]:
        """The sources to probe after production, each decided from the answers before it.

        A generator: the client reads each key and reports it (`probed_answer`)
        before the next is decided, so follow-ups see what the first answers said.
        """
        fw = info.fw
        ensemble = probing.ensemble_candidates(fw)
        yield from [*probing.base_candidates(fw, info.imeter, self.cache), *ensemble]
        yield from probing.followups(self.cache, self.cache.production())
        yield from probing.generator_followups(self.cache.get(GEN_CONFIG))
        yield from probing.installer_followups(self.cache, fw)  # after the switch answered

    def password_refusal(self, username: str) -> str | None:
        """A digest password never accepted: the fatal message, or None (a refusal is noted)."""
        refusal = probing.judge_password(self.status, username)
        if refusal is not None and refusal.fatal:
            return refusal.message
        if refusal is not None:
            self.cache.fail(refusal.key, refusal.message)
        return None

    def settle_probe(self, fw: Firmware, now: float) -> None:
        """The probe is over: capabilities, plan, deferred sources, schedule, re-probe time."""
        cache = self.cache
        self.capabilities, self.plan, self.deferred = recovery.replan(cache, fw, self.status)
        self.schedule = Schedule.seeded(self.plan, cache.read_at, cache.report_time)
        cache.anchor_baseline()
        self.next_reprobe = recovery.next_reprobe(now, self.status, cache.read_at)

    def recall(
        self,
        production: tuple[SourceKey | None, SourceKey | None],
        *,
        capabilities: frozenset[Capability],
        status: dict[SourceKey, SourceStatus],
        plan: dict[SourceKey, float],
        deferred: dict[SourceKey, float],
        now: float,
    ) -> None:
        """Take a remembered probe (net.probe_cache) instead of probing."""
        cache = self.cache
        cache.production_key, cache.preferred_production = production
        self.capabilities, self.status, self.plan, self.deferred = (
            capabilities,
            status,
            plan,
            deferred,
        )
        self.schedule = Schedule.seeded(self.plan, cache.read_at, cache.report_time)
        self.next_reprobe = recovery.next_reprobe(now, self.status, cache.read_at)

    def reprobe_due(self, now: float) -> bool:
        """Whether the sources that never answered are due to be asked again."""
        return self.next_reprobe is not None and self.next_reprobe <= now

    def reprobe_keys(self) -> list[SourceKey]:
        """The sources that never answered (refused, absent or failed)."""
        return recovery.never_answered(self.status, self.cache.read_at)

    def reprobed(self, answered: Iterable[SourceKey], now: float) -> bool:
        """The re-probe's outcome; True when a source now answers (then probe afresh)."""
        found = bool(list(answered))
        self.reprobes = 0 if found else self.reprobes + 1
        self.next_reprobe = recovery.next_reprobe(
            now, self.status, self.cache.read_at, self.reprobes
        )
        return found

    # --- updating -----------------------------------------------------------------------------
    def window(self, now: float) -> UpdateWindow:
        """The zone and restart window of an update at `now`."""
        awaiting = SourceKey.HOME in self.plan
        site = self.site_day.zone(self.home, awaiting_home=awaiting)
        tz = self.site_day.window_zone(self.home, awaiting_home=awaiting)
        return UpdateWindow(tz, site.note, in_outage_window(now, tz))

    def info_due(self, now: float) -> bool:
        return (
            SourceKey.INFO in self.plan and self.schedule.next_due(SOURCES[SourceKey.INFO]) <= now
        )

    def info_read(self, now: float, error: EnvoyError | None) -> None:
        """/info re-read on its cadence (the client re-probes on a firmware change)."""
        if error is not None:
            self.cache.fail(SourceKey.INFO, str(error))
            self.schedule.record_failure(SourceKey.INFO, now)
        else:
            self.schedule.record_success(SourceKey.INFO, now)

    def due(
        self, now: float, tz: tzinfo | None, *, full: bool, sections: Iterable[str] | None
    ) -> list[Source[Any]]:
        """The sources worth asking at `now` (the demoted production source first)."""
        cache, schedule = self.cache, self.schedule
        key, preferred = cache.production_key, cache.preferred_production
        if key is not None and new_local_day(cache.read_at.get(key), now, tz):
            schedule.force(key)
        demoted = preferred if preferred != key else None  # asked again to be promoted back
        later = () if self.snapshots or full else self.deferred  # off the first snapshot's path
        skip = {*later, *not_asked(sections, self.plan, (key, preferred))}
        return schedule.due_in(self.plan, now, also=demoted, skip=skip)

    def planned(self, key: SourceKey) -> bool:
        """Still worth its request (a refusal or a production switch may have changed the plan)."""
        return key in self.plan or key == self.cache.preferred_production

    def not_asked(self, source: Source[Any], why: str) -> None:
        self.cache.fail(source.key, f"{source.path}: not asked: {why}")

    def first_read(self, key: SourceKey) -> bool:
        """A deferred source's first read: once, no retries (it may well be absent)."""
        return key in self.deferred

    def accepted(self, key: SourceKey, value: object, now: float, info: GatewayInfo) -> None:
        """A good answer: cached, unless a firmware guard sets it aside (then asked again)."""
        cache, glitch = self.cache, self.cache.set_aside(key, value, now)
        if glitch is not None:
            cache.notes[key] = glitch
            self.schedule.force(key)
            return
        self.status[key] = SourceStatus.OK
        cache.put(key, value, now)
        self.schedule.record_success(key, now, cache.report_time(key))
        if key == cache.awaited_production:  # late at start-up: now the probe's own choice
            overrides = self.schedule.overrides
            found = recovery.settle_late_production(cache, info, self.status, overrides)
            self.capabilities, self.plan, self.deferred = found
        self._settle_deferred(key)
        if key == cache.preferred_production and key != cache.production_key:
            recovery.use_production(cache, self.plan, self.schedule.overrides, key, None)

    def read(self, key: SourceKey, value: object, now: float) -> None:
        """A source read on demand (`Envoy.read`, a write's read-back)."""
        self.cache.put(key, value, now)
        self._settle_deferred(key)

    def _settle_deferred(self, key: SourceKey) -> None:
        """A source left out of the probe answered: what the gateway can do may grow."""
        if self.deferred.pop(key, None) is not None:
            self.capabilities = probing.derive(self.cache, self.cache.production())

    def refused(self, key: SourceKey, status: SourceStatus, now: float) -> None:
        """An absent or forbidden answer during an update (engine.recovery.after_refusal)."""
        self.status[key] = status
        state = (self.cache.read_at, self.plan, self.schedule)
        self.next_reprobe = recovery.after_refusal(key, status, state, (self.next_reprobe, now))

    def failed(self, key: SourceKey, message: str, error: BaseException, now: float) -> bool:
        """A failed read; True when production should move to the next source of the chain."""
        self.schedule.record_failure(key, now)
        failures = self.schedule.state(key).failures
        recovery.record_failure(self.cache, key, message, failures)
        return key == self.cache.production_key and recovery.demotes(error, failures)

    def next_production(self, fw: Firmware) -> list[SourceKey]:
        """The sources after the current production source in the chain (all if it is not in it)."""
        chain, current = producing.production_chain(fw), self.cache.production_key
        return list(chain[chain.index(current) + 1 :] if current in chain else chain)

    def use_production(self, key: SourceKey, now: float, why: str) -> None:
        """`key` answered: it serves production from now on, at its predecessor's period."""
        recovery.use_production(self.cache, self.plan, self.schedule.overrides, key, why)
        self.schedule.record_success(key, now)

    def finish(self, now: float, budget: UpdateBudget) -> None:
        """The update's reads are over: anchor the counters; no production at all is an error."""
        cache = self.cache
        if budget.stopped is not None:  # the gateway was away: a reboot may bring new firmware
            self.schedule.force(SourceKey.INFO)
        cache.anchor_baseline(read_at=now)
        if cache.production() is None:
            raise budget.failures[0] if budget.failures else EnvoyFeatureUnavailable("no data")
        self.snapshots += 1

    def snapshot(
        self,
        info: GatewayInfo,
        *,
        host: str,
        auth_kind: str,
        role: str | None,
        now: float,
        window: UpdateWindow,
    ) -> Snapshot:
        """The snapshot of the update `finish`ed at `now`, from what the cache holds."""
        gw = gateway_summary(info, host, auth_kind, role, self.capabilities)
        # the zone as this update's reads left it (/home may have answered in it)
        site = self.site_day.zone(self.home, awaiting_home=SourceKey.HOME in self.plan)
        return build_snapshot(
            self.cache,
            self.schedule,
            self.plan,
            gw,
            now=now,
            site=site,
            gentle=window.gentle,
            energy=self.energy,
        )

"""Losing a source slowly and winning it back: demotion, promotion and re-probes. Pure.

One bad answer must not cost a site its best data for ever. A gateway
answers a malformed ``/production.json`` now and then, refuses an endpoint
for a minute while its session renews, or forgets an endpoint across a
reboot. So:

- the production source is demoted to the next one of the chain only after
  `DEMOTE_AFTER` consecutive parse errors, refusals or HTTP errors
  (connection errors and timeouts prove nothing about one endpoint: the
  whole gateway is away), and the preferred source is asked again on its
  cadence with backoff and promoted back as soon as it answers well;
- a source that has answered before is never retired by a refusal: it is a
  failure like any other, retried with backoff;
- sources that never answered are left out of the plan but asked again
  every `REPROBE_S` (sooner, `REPROBE_FAILED_S`, when they failed rather
  than refused: a reset during the probe should not cost a day), and after
  a firmware change.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..capabilities import Capability, SourceStatus
from ..errors import EnvoyConnectionError
from ..firmware import Firmware
from ..models.gateway import GatewayInfo
from ..sources.keys import SourceKey
from ..sources.table import PRODUCTION_V1
from .cache import SourceCache
from .probe import derive
from .production import after_late_answer, as_report
from .rhythm import plan_after_probe
from .schedule import Schedule

__all__ = [
    "DEMOTE_AFTER",
    "REPROBE_FAILED_S",
    "REPROBE_S",
    "after_refusal",
    "demotes",
    "demotion_warning",
    "never_answered",
    "next_reprobe",
    "record_failure",
    "replan",
    "settle_late_production",
    "use_production",
]

DEMOTE_AFTER = 3  # consecutive failures of the production source before it is demoted
REPROBE_S = 6 * 3600.0  # sources that refused at probe are asked again this often
REPROBE_FAILED_S = 600.0  # ...and those that failed (reset, 5xx, garbage) this soon


def demotes(error: BaseException, consecutive_failures: int) -> bool:
    """Whether the production source's latest failure is reason to try the next source."""
    if isinstance(error, EnvoyConnectionError):
        return False  # the gateway, not this endpoint: every other source fails too
    return consecutive_failures >= DEMOTE_AFTER


def use_production(
    cache: SourceCache,
    plan: dict[SourceKey, float],
    overrides: dict[SourceKey, float],
    key: SourceKey,
    demoted_because: str | None,
) -> None:
    """Serve production from `key` (demoted from the current one, or promoted back: None).

    It takes over the period of the source it replaces, in the plan and the
    schedule's `overrides`, so the update rhythm does not change with it.
    """
    current = cache.production_key
    period = plan.pop(current, 0.0) if current is not None else 0.0
    cache.production_key, cache.demoted_because = key, demoted_because
    plan[key] = overrides[key] = period


Plan = tuple[frozenset[Capability], dict[SourceKey, float], dict[SourceKey, float]]


def replan(cache: SourceCache, fw: Firmware, status: Mapping[SourceKey, SourceStatus]) -> Plan:
    """Capabilities, plan and deferred sources for what `cache` holds (engine.probe)."""
    caps = derive(cache, cache.production())
    found = (cache.production_key, cache, cache.awaited_production)
    return (caps, *plan_after_probe(fw, caps, found, status))


def settle_late_production(
    cache: SourceCache,
    info: GatewayInfo,
    status: Mapping[SourceKey, SourceStatus],
    overrides: dict[SourceKey, float],
) -> Plan:
    """The production source late at start-up answered: the probe's own choice from now on.

    Until then the fallback served production, power only (engine.production).
    What the gateway can do, and so the plan, may grow with its answer: the
    new periods go to the schedule's `overrides`.
    """
    late, fw = cache.awaited_production, info.fw
    assert late is not None
    report = as_report(cache.value(late))
    assert report is not None  # it answered: that is why we are here
    key = after_late_answer(report, cache.get(PRODUCTION_V1), fw=fw, metered=info.imeter)
    cache.production_key = cache.preferred_production = key
    cache.awaited_production = cache.demoted_because = None
    found = replan(cache, fw, status)
    overrides.update(found[1])
    return found


def record_failure(cache: SourceCache, key: SourceKey, message: str, failures: int) -> None:
    """A read failed: its error kept, its last value too (a section goes stale, not missing).

    The production source awaited since start-up (engine.production) that
    fails `DEMOTE_AFTER` times in a row stops being waited for: the fallback
    then serves production with its own counters (the first any guard sees),
    and the awaited source, still asked with backoff, takes over when it
    answers (a step between their counters is then held by the guards).
    """
    cache.fail(key, message)
    if key == cache.awaited_production and failures >= DEMOTE_AFTER and not cache.demoted_because:
        cache.demoted_because = f"it has not answered since start-up ({failures} tries)"


def after_refusal(
    key: SourceKey,
    refused: SourceStatus,
    state: tuple[Mapping[SourceKey, float], dict[SourceKey, float], Schedule],
    reprobe_at: tuple[float | None, float],
) -> float | None:
    """A source refused us (absent, forbidden): when to re-probe (`state`: read_at, plan, schedule).

    One that answered before and is now absent: an endpoint vanished, the
    firmware may have changed, so /info is read on the next update. One that
    never answered leaves the plan until the next re-probe (`reprobe_at`:
    the one planned, if any, and now).
    """
    (read_at, plan, schedule), (planned, now) = state, reprobe_at
    if key not in read_at:
        plan.pop(key, None)
        return planned or now + REPROBE_S
    if refused is SourceStatus.ABSENT:
        schedule.force(SourceKey.INFO)
    return planned


def never_answered(
    status: Mapping[SourceKey, SourceStatus], read_at: Mapping[SourceKey, float]
) -> list[SourceKey]:
    """Sources the probe asked that have never given data (refused, absent or failed)."""
    return [key for key, st in status.items() if st is not SourceStatus.OK and key not in read_at]


def next_reprobe(
    now: float,
    status: Mapping[SourceKey, SourceStatus],
    read_at: Mapping[SourceKey, float],
    attempts: int = 0,
) -> float | None:
    """When to ask the never-answered sources again (None: nothing to ask).

    `attempts` counts the re-probes in a row that left a source still failing: the
    wait after a failure doubles with each (10 min, 20, 40...) up to `REPROBE_S`, so
    an endpoint that answers garbage for ever (a 3.x HTML page we cannot read, say)
    costs a request every few hours, not every ten minutes.
    """
    missing = never_answered(status, read_at)
    if not missing:
        return None
    failed = any(status[key] is SourceStatus.FAILED for key in missing)
    if not failed:
        return now + REPROBE_S
    return now + min(REPROBE_FAILED_S * 2.0 ** min(attempts, 16), REPROBE_S)


def demotion_warning(
    current: SourceKey | None, preferred: SourceKey | None, reason: str | None
) -> str | None:
    """What the snapshot says while production comes from a worse source than it should."""
    if current is None or preferred is None or current == preferred:
        return None
    lost = "per-phase lines" if preferred == SourceKey.PRODUCTION_JSON else "some detail"
    return (
        f"production: served by {current.value} instead of {preferred.value} ({lost} "
        f"unavailable) because {reason or 'it failed repeatedly'}; "
        f"{preferred.value} is asked again with backoff and takes over when it answers well"
    )

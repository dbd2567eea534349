"""`GatewayState` without sockets: what to read now, and here is what came back.

The simulator's site model answers in-process (`SiteBackend.handle`), parsed
by the real parsers; the state is driven exactly as `Envoy` drives it, with
no I/O, which is the point of the sans-I/O owner.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from enphase_local.capabilities import Capability, SourceStatus
from enphase_local.engine.state import GatewayState, UpdateBudget
from enphase_local.models.gateway import GatewayInfo
from enphase_local.simulator import SimClock, SiteBackend
from enphase_local.sources.keys import SourceKey
from enphase_local.sources.table import INFO, SOURCES
from tests.simkit import NOON


def _answer(backend: SiteBackend, key: SourceKey) -> tuple[SourceStatus, object]:
    path, _, query = SOURCES[key].path.partition("?")
    reply = backend.handle("GET", path, dict(parse_qsl(query)), b"")
    if reply is None or reply.status == 404:
        return SourceStatus.ABSENT, None
    return SourceStatus.OK, SOURCES[key].parse(reply.body)


def _probe(preset: str) -> tuple[GatewayState, SiteBackend, GatewayInfo, list[SourceKey]]:
    """A whole probe, driven as `Envoy.probe` drives it; the keys asked, in order."""
    backend = SiteBackend.from_preset(preset, clock=SimClock(start=NOON, speed=0), seed=1)
    info = INFO.parse(backend.handle("GET", "/info", {}, b"").body)  # type: ignore[union-attr]
    state, asked = GatewayState(), []

    def ask(key: SourceKey) -> object:
        asked.append(key)
        status, value = _answer(backend, key)
        state.probed_answer(key, status, value, None, NOON)
        return value

    found = next((k for k in state.production_chain(info.fw) if ask(k) is not None), None)
    assert state.production_found(found, None)
    state.settle_production(info, ask(state.fallback) if state.wants_v1() else None, found)
    for key in state.probe_keys(info):
        ask(key)
    state.settle_probe(info.fw, NOON)
    return state, backend, info, asked


def test_probe_keys_follow_the_answers_before_them() -> None:
    """The ensemble inventory listing batteries is what brings their power and the tariff."""
    state, _, _, asked = _probe("battery-backup")
    inventory_at = asked.index(SourceKey.ENSEMBLE_INVENTORY)
    assert asked.index(SourceKey.ENSEMBLE_POWER) > inventory_at
    assert asked.index(SourceKey.TARIFF) > inventory_at
    assert Capability.ENCHARGE in state.capabilities
    _, _, _, standard = _probe("standard")
    assert SourceKey.ENSEMBLE_POWER not in standard and SourceKey.TARIFF not in standard


def test_described_sources_wait_for_the_second_update() -> None:
    state, backend, info, asked = _probe("battery-backup")
    assert SourceKey.SC_SCHED not in asked and SourceKey.SC_SCHED in state.deferred
    first = {s.key for s in state.due(NOON + 60, None, full=False, sections=None)}
    assert SourceKey.SC_SCHED not in first  # never on the first snapshot's path
    budget = UpdateBudget.start(30.0, lambda: 0.0)  # no loop, no clock of its own
    for key in first:
        status, value = _answer(backend, key)
        if status is SourceStatus.OK:
            state.accepted(key, value, NOON + 60, info)
    state.finish(NOON + 60, budget)
    second = {s.key for s in state.due(NOON + 120, None, full=False, sections=None)}
    assert {SourceKey.SC_SCHED, SourceKey.SC_STATUS} <= second
    status, value = _answer(backend, SourceKey.SC_SCHED)
    state.accepted(SourceKey.SC_SCHED, value, NOON + 120, info)
    assert SourceKey.SC_SCHED not in state.deferred and state.answers(SourceKey.SC_SCHED)
    later = {s.key for s in state.due(NOON + 180, None, full=False, sections=None)}
    assert SourceKey.SC_SCHED not in later  # now on its own period


def test_a_refused_source_leaves_the_plan_until_a_reprobe() -> None:
    state, _, _, _ = _probe("battery-backup")
    state.refused(SourceKey.SC_STATUS, SourceStatus.ABSENT, NOON + 60)
    assert SourceKey.SC_STATUS not in state.plan
    assert not state.reprobe_due(NOON + 61)
    assert state.next_reprobe is not None and state.reprobe_due(state.next_reprobe)
    assert SourceKey.SC_STATUS in state.reprobe_keys()
    assert not state.reprobed([], state.next_reprobe) and state.reprobes == 1

"""The library's promises, checked on every simulator preset and every real capture replayed.

One behaviour suite instead of a copy per preset (as pyatv runs its common functional
tests against each protocol): each target is observed once (`observe.observe`: connect,
a first snapshot, five more a minute apart) and every promise below is judged on that
run. A new preset or a new capture folder is covered without a line here.

The promises: it connects with its firmware's authentication; every snapshot has
production and serialises to the JSON contract; energy counters never decrease;
freshness is there for what the snapshot shows; errors appear only where the gateway
refused a path (never in the first snapshot, never on a preset); the request rhythm is
bounded (one request in flight, no path twice in an update, few requests per update);
the first snapshot already has every section the site has; and on a preset the values
are the site model's.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from enphase_local.capabilities import Capability
from enphase_local.firmware import Firmware
from enphase_local.models.snapshot import Snapshot
from tests.behaviour.observe import (
    LATER_CAPABILITIES,
    LATER_SECTIONS,
    Run,
    Target,
    observe,
    sections,
    targets,
)

TARGETS = targets()
PRESETS = [t for t in TARGETS if not t.replay]

FIRST_MOST = 15  # requests before the first snapshot (the generator site's 15 pages)
SECOND_MOST = 8  # the next minute: the sources read only after the first snapshot, once each
MINUTE_MOST = 2  # then a minute's update: the live heartbeat (CT readings, battery power)
REPORT_MOST = 6  # and five minutes in: the sources on the gateway's report rhythm too
COUNTERS = ("production", "consumption")  # net consumption goes down when exporting


@pytest.fixture(params=TARGETS, ids=[t.id for t in TARGETS])
def run(request: pytest.FixtureRequest) -> Run:
    target: Target = request.param
    return observe(target)


def test_every_target_is_here() -> None:
    assert len(PRESETS) >= 10  # and every capture folder when ../shared is there
    assert len({t.id for t in TARGETS}) == len(TARGETS)


def test_connects_with_its_firmwares_auth(run: Run) -> None:
    assert run.auth_kind == ("token" if run.uses_tokens else "digest")
    for snap in run.snapshots:
        assert snap.gateway.serial == run.serial
        assert Firmware.parse(snap.gateway.firmware) == Firmware.parse(run.firmware)


def test_every_snapshot_has_production_and_serialises(run: Run) -> None:
    for snap in run.snapshots:
        assert snap.production is not None
        assert snap.production.watts >= (0 if not run.target.replay else -50)  # CTs at night
        doc = orjson.loads(orjson.dumps(snap.to_dict()))
        assert doc["schema"] == 1 and doc["gateway"]["serial"] == run.serial
    if Firmware.parse(run.firmware).before(3, 9):  # the HTML page of the oldest firmware
        assert run.first.production is not None
        assert run.first.production.source == "production.html"


def test_sections_follow_what_the_gateway_can_do(run: Run) -> None:
    for snap in run.snapshots:
        if Capability.CONSUMPTION in run.capabilities:
            assert snap.consumption is not None
        if run.imeter is False:  # no consumption CT: no consumption invented
            assert snap.consumption is None
        if Capability.ENCHARGE in run.capabilities:
            assert snap.battery is not None and snap.battery.units


def test_energy_counters_never_decrease(run: Run) -> None:
    for name in COUNTERS:
        for unit in ("wh_lifetime", "wh_today"):  # no midnight within the run
            seen = [_counter(snap, name, unit) for snap in run.snapshots]
            values = [v for v in seen if v is not None]
            assert values == sorted(values), (name, unit, values)


def _counter(snap: Snapshot, name: str, unit: str) -> float | None:
    reading = getattr(snap, name)
    return None if reading is None else getattr(reading, unit)


def test_freshness_is_there_for_what_the_snapshot_shows(run: Run) -> None:
    for snap in run.snapshots:
        assert snap.freshness["production"] <= snap.taken_at
        assert all(at <= snap.taken_at for at in snap.freshness.values()), snap.freshness
        if snap.inverters:
            assert "inverters" in snap.freshness
        if snap.battery is not None:
            assert "battery" in snap.freshness
    last = run.snapshots[-1]
    assert last.freshness["gateway"] == last.taken_at  # the clock moved: so did the data


def test_errors_only_where_the_gateway_refused(run: Run) -> None:
    assert run.first.errors == {}  # the first snapshot reads only what the probe found
    for snap in run.snapshots:
        if not run.target.replay:
            assert snap.errors == {}
        for section, message in snap.errors.items():
            path = message.split(":", 1)[0].split("?", 1)[0]
            assert path in run.refused, (section, message, run.refused)


def test_request_rhythm_is_bounded(run: Run) -> None:
    assert run.max_in_flight == 1  # never two requests at the gateway at once
    first, second, *minutes, report = run.asked
    assert sum(first.values()) <= FIRST_MOST, first
    for asked in run.asked:
        assert max(asked.values(), default=0) <= 1, asked  # nothing twice in one update
    assert sum(second.values()) <= SECOND_MOST, second
    for asked in minutes:
        assert sum(asked.values()) <= MINUTE_MOST, asked
    assert sum(report.values()) <= REPORT_MOST, report
    assert sum(asked["/info"] for asked in run.asked) == 1  # identity read once, not per update


def test_the_first_snapshot_has_every_section_the_site_has(run: Run) -> None:
    """Home Assistant builds its entities from the first snapshot: nothing may come later
    but what the later sources (live figures, export limit, network) alone give."""
    last = run.snapshots[-1]
    assert sections(last) - sections(run.first) <= LATER_SECTIONS
    assert set(last.inverters) == set(run.first.inverters)
    assert run.later_capabilities - run.capabilities <= LATER_CAPABILITIES


@pytest.mark.parametrize("target", PRESETS, ids=[t.id for t in PRESETS])
def test_a_presets_values_are_the_site_models(target: Target) -> None:
    run = observe(target)
    snap, state = run.first, run.state
    assert snap.production is not None and state is not None
    if Capability.METERS in run.capabilities:
        _metered_values(snap, state)
    if Capability.ENCHARGE in run.capabilities:
        assert snap.battery is not None
        assert snap.battery.soc_percent == pytest.approx(state["soc_percent"], abs=1)


def _metered_values(snap: Snapshot, state: dict[str, Any]) -> None:
    """CT-backed flows are the model's at this instant; as on real sites the production CT
    sees PV only (batteries sit behind the net CT)."""
    assert snap.production is not None
    assert snap.production.watts == pytest.approx(state["pv_w"], abs=2)
    assert snap.net_consumption is not None
    assert snap.net_consumption.watts == pytest.approx(state["grid_w"], abs=2)
    # the firmware never fills net today / 7 days: None, not a fake number
    assert snap.net_consumption.wh_today is None
    assert snap.net_consumption.wh_last_7_days is None
    # consumption, derived from the CTs as the gateway does (production CT + net CT)
    assert snap.consumption is not None
    assert snap.consumption.watts == pytest.approx(state["pv_w"] + state["grid_w"], abs=2)
    assert snap.power_flow is not None  # the balanced house load is the site's load
    assert snap.power_flow.house_watts == pytest.approx(state["load_w"], abs=4)

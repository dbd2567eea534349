"""Flows that add up: solar + grid + battery + generator = house, on every preset and capture.

The simulator's `state()` is the truth a frame must match (pv, load, grid,
batteries, generator); the captures check what each CT includes on real
sites, and that the balance built from their CTs is physically possible.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import pytest

from enphase_local.engine.balance import Known, from_livedata, from_meter_frame, from_readings
from enphase_local.engine.joins import join_meters
from enphase_local.models.live import LiveData, LiveFlow
from enphase_local.models.live_frame import FRAME_SCHEMA, LiveFrame, MeterFrame
from enphase_local.simulator import PRESETS
from enphase_local.sources.ensemble import parse_ensemble_power
from enphase_local.sources.meters import parse_meter_readings, parse_meters
from tests.simkit import envoy_for, gateway
from tests.support import needs_real, real_body, real_cases

HOURS = (12.5, 19.5, 2.0)  # local noon (sun, charging), evening (discharging), night


def local(name: str, hour: float) -> float:
    tz = ZoneInfo(PRESETS[name].timezone)
    day = datetime(2026, 6, 15, tzinfo=tz).timestamp()
    return day + hour * 3600


def close(a: float | None, b: float, rel: float = 0.002, abs_w: float = 1.5) -> bool:
    return a is not None and abs(a - b) <= abs_w + rel * abs(b)


def balanced(frame: LiveFrame) -> None:
    gap = frame.imbalance_watts()
    assert gap is not None, frame
    assert abs(gap) <= 1.0 + 0.002 * abs(frame.house_watts or 0.0), frame


# -- pure ------------------------------------------------------------------------------------


def test_livedata_frame_uses_the_gateway_balance_and_phases() -> None:
    live = LiveData(
        stream_enabled=True,
        last_update=1,
        soc_percent=55,
        backup_soc_percent=None,
        main_relay_state=1,
        main_relay_closed=True,
        gen_relay_state=None,
        gen_relay_closed=None,
        phase_count=2,
        split_phase=True,
        enc_soc_percent=None,
        enc_wh=None,
        acb_soc_percent=None,
        acb_wh=None,
        flows={
            "pv": LiveFlow(5280.0, phases={"L1": 2640.0, "L2": 2640.0}),
            "storage": LiveFlow(-3840.0, phases={"L1": -1920.0, "L2": -1920.0}),
            "grid": LiveFlow(-1250.0, phases={"L1": -600.0, "L2": -650.0}),
            "load": LiveFlow(190.0, phases={"L1": 120.0, "L2": 70.0}),
        },
    )
    frame = from_livedata(live, 100.0)
    assert (frame.solar_watts, frame.battery_watts, frame.grid_watts) == (5280, -3840, -1250)
    assert frame.house_watts == 190 and frame.generator_watts is None
    assert frame.soc_percent == 55 and frame.source == "livedata"
    balanced(frame)
    assert frame.phases["L2"].house_watts == 70 and frame.phases["L1"].battery_watts == -1920
    line = frame.to_json(now=102.5)
    assert line["schema"] == FRAME_SCHEMA and line["age_s"] == 2.5
    assert orjson.loads(orjson.dumps(line))["phases"]["L1"]["grid_watts"] == -600


def test_stream_frame_takes_the_battery_from_elsewhere_and_says_how_old() -> None:
    meter = MeterFrame(
        production={"L1": 1000.0, "L2": 1100.0},
        net_consumption={"L1": -300.0, "L2": 100.0},
        total_consumption={"L1": 700.0, "L2": 1200.0},
    )
    frame = from_meter_frame(meter, 50.0, battery=Known(-500.0, 20.0))
    assert frame.solar_watts == 2100 and frame.grid_watts == -200
    assert frame.battery_watts == -500 and frame.house_watts == 1400
    assert frame.as_of == {"battery": 20.0}
    balanced(frame)
    # the battery is not split by phase: per-phase house would be a guess
    assert frame.phases["L1"].house_watts is None and frame.phases["L1"].solar_watts == 1000
    without = from_meter_frame(meter, 50.0)
    assert without.house_watts == 1900 and without.phases["L2"].house_watts == 1200


def test_stream_frame_with_total_only_derives_the_grid() -> None:
    meter = MeterFrame(production={"L1": 800.0}, total_consumption={"L1": 300.0})
    frame = from_meter_frame(meter, 1.0)
    assert frame.grid_watts == -500 and frame.house_watts == 300


# -- every preset, through the snapshot and through live() -------------------------------------


@pytest.mark.parametrize("hour", HOURS)
@pytest.mark.parametrize("name", sorted(PRESETS))
async def test_snapshot_flow_balances_and_matches_the_site(name: str, hour: float) -> None:
    async with gateway(name, start=local(name, hour)) as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
        truth = gw.backend.state()
    flow = snap.power_flow
    assert flow is not None
    assert snap.to_dict()["power_flow"]["source"] == flow.source
    if not PRESETS[name].metered:
        assert flow.source == "snapshot" and flow.house_watts is None
        assert flow.solar_watts == snap.production.watts  # type: ignore[union-attr]
        return
    balanced(flow)
    battery = truth["battery_w"] + truth["acb_w"]
    assert close(flow.solar_watts, truth["pv_w"]), (flow, truth)
    assert close(flow.grid_watts, truth["grid_w"]), (flow, truth)
    assert close(flow.battery_watts or 0.0, battery, abs_w=3.0), (flow, truth)
    assert close(flow.house_watts, truth["load_w"], abs_w=4.0), (flow, truth)


@pytest.mark.parametrize("name", sorted(n for n, p in PRESETS.items() if p.battery.count))
@pytest.mark.parametrize("hour", HOURS)
async def test_live_frames_balance_and_match_the_site(name: str, hour: float) -> None:
    async with gateway(name, start=local(name, hour)) as (gw, clock):

        async def sleep(seconds: float) -> None:
            clock.advance(seconds)

        async with envoy_for(gw, clock, sleep=sleep) as envoy:
            async with contextlib.aclosing(envoy.live()) as frames:
                frame = await anext(frames)
            truth = gw.backend.state()
            snap = await envoy.update()
    assert frame.source == "livedata" and not frame.stale
    balanced(frame)
    assert close(frame.solar_watts, truth["pv_w"])
    assert close(frame.house_watts, truth["load_w"])
    assert close(frame.battery_watts, truth["battery_w"] + truth["acb_w"])
    assert close(frame.generator_watts, truth["generator_w"])
    # the update that follows takes the flow from the fresh livedata
    assert snap.power_flow is not None and snap.power_flow.source == "livedata"


# -- real captures ------------------------------------------------------------------------


def _capture_frame(folder: str) -> tuple[LiveFrame | None, dict[str, float]]:
    meters = join_meters(
        parse_meters(real_body(folder, "ivp_meters") or b""),
        parse_meter_readings(real_body(folder, "ivp_meters_readings") or b""),
    )
    power = real_body(folder, "ivp_ensemble_power")
    battery = None
    if power is not None:
        with contextlib.suppress(Exception):
            units = parse_ensemble_power(power)
            battery = Known(sum(u.watts for u in units.values()), 0.0) if units else None
    pj = orjson.loads(real_body(folder, "production.json") or b"{}")
    inverters = next((e["wNow"] for e in pj.get("production", []) if e["type"] == "inverters"), 0)
    return from_readings(meters, 0.0, battery=battery), {"inverters": float(inverters)}


# Captures whose meters answer but have no enabled production and grid CT pair.
NO_ENABLED_CTS = {
    "5.0.62",
    "7.3.466_metered_disabled_cts",
    "7.6.175_total",
    "8.2.4264_metered_noct",
}


@needs_real
@pytest.mark.parametrize("folder", real_cases("ivp_meters_readings"))
def test_capture_balance_is_physically_possible(folder: str) -> None:
    frame, _ = _capture_frame(folder)
    if frame is None or frame.house_watts is None:
        # no enabled production and grid CT: nothing is invented from what is not measured
        assert folder in NO_ENABLED_CTS, f"{folder}: CTs are enabled but no balance came out"
        return
    assert folder not in NO_ENABLED_CTS
    balanced(frame)
    assert frame.house_watts >= -50.0, frame  # a house never produces
    assert (frame.solar_watts or 0.0) >= -50.0, frame


@needs_real
@pytest.mark.parametrize("folder", ["7.3.517_system_2", "8.2.127_with_3cts_and_battery_split"])
def test_production_ct_is_pv_only_on_battery_sites(folder: str) -> None:
    """Encharge batteries sit on the load side of the production CT: it reads the inverters'
    output, not PV plus battery (which would be far lower while they charge)."""
    frame, seen = _capture_frame(folder)
    assert frame is not None and frame.solar_watts is not None
    power = parse_ensemble_power(real_body(folder, "ivp_ensemble_power") or b"")
    charging = -sum(u.watts for u in power.values())
    assert charging > 500  # both captures were taken while the batteries charged
    assert abs(frame.solar_watts - seen["inverters"]) < 0.1 * seen["inverters"]
    assert abs(frame.solar_watts - (seen["inverters"] - charging)) > 0.25 * seen["inverters"]

"""All endpoints are views of one state: the identities a client may rely on hold at any instant."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from enphase_local.simulator import SimClock, SiteBackend
from tests.sim.test_site_endpoints import noon

HOURS = (-5.5, -3.0, 0.0, 2.25, 5.0)  # around 12:30 local: dawn, morning, noon, afternoon, evening


def get(b: SiteBackend, path: str, **query: str) -> Any:
    reply = b.handle("GET", path, query, b"")
    assert reply is not None and reply.status == 200, path
    return orjson.loads(reply.body)


def instants(name: str) -> Iterator[tuple[SiteBackend, float]]:
    """One backend at each of HOURS in turn (live data streaming, so it is current)."""
    start = noon(name) - 6 * 3600
    clock = SimClock(start=start, speed=0)
    b = SiteBackend.from_preset(name, clock=clock, seed=3)
    b.handle("POST", "/ivp/livedata/stream", {}, b'{"enable": 1}')
    for h in HOURS:
        clock.set(noon(name) + h * 3600 + 7)
        b.handle("POST", "/ivp/livedata/stream", {}, b'{"enable": 1}')
        yield b, h


def by_type(entries: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(e for e in entries if e.get("measurementType") == kind)


@pytest.mark.parametrize(
    "name", ["metered-split", "metered-3phase", "battery-backup", "collar", "acb"]
)
@pytest.mark.parametrize("hour", HOURS)
def test_production_consumption_identities(name: str, hour: float) -> None:
    clock = SimClock(start=noon(name) - 6 * 3600, speed=0)
    b = SiteBackend.from_preset(name, clock=clock, seed=3)
    clock.set(noon(name) + hour * 3600 + 7)
    pj = get(b, "/production.json", details="1")
    readings = {r["eid"]: r for r in get(b, "/ivp/meters/readings")}
    meters = {m["measurementType"]: m["eid"] for m in get(b, "/ivp/meters")}
    prod = by_type(pj["production"], "production")
    total = by_type(pj["consumption"], "total-consumption")
    net = by_type(pj["consumption"], "net-consumption")
    state = b.state()
    for entry in (prod, total, net):
        assert entry["wNow"] == pytest.approx(sum(ln["wNow"] for ln in entry["lines"]), abs=0.002)
        assert entry["whLifetime"] == pytest.approx(
            sum(ln["whLifetime"] for ln in entry["lines"]), abs=0.002
        )
    storage_w = state["battery_w"] + state["acb_w"]
    # As on real sites: the production CT sees PV only; batteries are behind the net CT.
    assert prod["wNow"] == readings[meters["production"]]["activePower"]
    assert prod["wNow"] == pytest.approx(state["pv_w"], abs=0.01)
    assert net["wNow"] == readings[meters["net-consumption"]]["activePower"]
    assert net["wNow"] == pytest.approx(state["grid_w"], abs=0.01)
    # the gateway computes total = production CT + net CT (a storage CT left out), so the
    # batteries' charging is consumption and their discharge negative consumption
    assert total["wNow"] == pytest.approx(prod["wNow"] + net["wNow"], abs=0.02)
    assert total["wNow"] == pytest.approx(
        state["load_w"] - storage_w - state["generator_w"], abs=0.02
    )
    assert total["whLifetime"] == pytest.approx(prod["whLifetime"] + net["whLifetime"], abs=0.01)
    assert prod["whLifetime"] == readings[meters["production"]]["actEnergyDlvd"]
    inverters = get(b, "/api/v1/production/inverters")
    section = pj["production"][0]
    assert section["type"] == "inverters"
    assert section["wNow"] == sum(i["lastReportWatts"] for i in inverters)
    assert section["readingTime"] == max(i["lastReportDate"] for i in inverters)
    if "storage" in meters:
        assert readings[meters["storage"]]["activePower"] == pytest.approx(
            state["battery_w"], abs=0.01
        )


@pytest.mark.parametrize("name", ["battery-backup", "collar", "acb"])
def test_battery_views_agree(name: str) -> None:
    for b, _hour in instants(name):
        state = b.state()
        inv = {g["type"]: g["devices"] for g in get(b, "/ivp/ensemble/inventory")}
        power = get(b, "/ivp/ensemble/power")["devices:"]
        sec = get(b, "/ivp/ensemble/secctrl")
        live = get(b, "/ivp/livedata/status")["meters"]
        soc = round(state["soc_percent"])
        assert {d["percentFull"] for d in inv["ENCHARGE"]} == {soc}
        assert {d["soc"] for d in power} == {soc}
        assert sec["ENC_agg_soc"] == soc == live["enc_agg_soc"]
        assert [d["serial_num"] for d in power] == [d["serial_num"] for d in inv["ENCHARGE"]]
        total_mw = sum(d["real_power_mw"] for d in power)
        assert total_mw == pytest.approx(state["battery_w"] * 1000, abs=1000 * len(power))
        assert live["storage"]["agg_p_mw"] == pytest.approx(
            (state["battery_w"] + state["acb_w"]) * 1000, abs=3
        )
        assert live["pv"]["agg_p_mw"] == pytest.approx(state["pv_w"] * 1000, abs=3)
        assert live["grid"]["agg_p_mw"] == pytest.approx(state["grid_w"] * 1000, abs=3)
        assert live["load"]["agg_p_mw"] == pytest.approx(state["load_w"] * 1000, abs=3)
        assert sec["ENC_agg_avail_energy"] == live["enc_agg_energy"]


def test_acb_agrees_between_production_json_and_secctrl() -> None:
    for b, _hour in instants("acb"):
        storage = get(b, "/production.json")["storage"][0]
        sec = get(b, "/ivp/ensemble/secctrl")
        assert storage["whNow"] == sec["ACB_agg_energy"]
        assert storage["percentFull"] == sec["ACB_agg_soc"]
        assert storage["wNow"] == round(b.state()["acb_w"])


@pytest.mark.parametrize("name", ["standard", "legacy-5x", "metered-3phase"])
def test_v1_and_inverters_agree_on_non_metered(name: str) -> None:
    for b, _hour in instants(name):
        v1 = get(b, "/api/v1/production")
        pj = get(b, "/production.json")
        inv = pj["production"][0]
        if name != "metered-3phase":
            assert v1["wattsNow"] == inv["wNow"]
            assert v1["wattHoursLifetime"] == pytest.approx(inv["whLifetime"], abs=1)
        assert v1["wattHoursToday"] <= v1["wattHoursSevenDays"] <= v1["wattHoursLifetime"]


def test_meter_reports_match_readings() -> None:
    for b, _hour in instants("generator"):
        reports = {r["reportType"]: r for r in get(b, "/ivp/meters/reports")}
        readings = get(b, "/ivp/meters/readings")
        assert reports["production"]["cumulative"]["actPower"] == readings[0]["activePower"]
        assert reports["net-consumption"]["cumulative"]["whDlvdCum"] == readings[1]["actEnergyDlvd"]
        assert reports["total-consumption"]["cumulative"]["currW"] == pytest.approx(
            b.state()["load_w"], abs=0.01
        )


def test_device_data_agrees_with_v1_inverters() -> None:
    for b, _hour in instants("metered-3phase"):
        dd = get(b, "/ivp/pdm/device_data")
        inv = {i["serialNumber"]: i for i in get(b, "/api/v1/production/inverters")}
        for key, dev in dd.items():
            if not isinstance(dev, dict):
                continue
            chan = dev["channels"][0]
            assert chan["watts"]["now"] == inv[dev["sn"]]["lastReportWatts"]
            assert chan["lastReading"]["endDate"] == inv[dev["sn"]]["lastReportDate"]
            assert chan["watts"]["max"] >= chan["watts"]["now"]
            assert key.isdigit()

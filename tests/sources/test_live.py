"""/ivp/livedata/status: milliwatts to watts, phases in use only, relay and stream states.

No real capture of this endpoint exists; LIVE_DOC follows the documented
format with realistic values for a split-phase site with batteries and a
generator, written for these tests.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enphase_local.errors import EnvoyParseError
from enphase_local.models.live import LiveFlow
from enphase_local.sources.live import LIVEDATA, parse_livedata
from enphase_local.sources.registry import Cadence, Role, Speed
from tests.fuzz import mutated_json, parses_or_refuses
from tests.hypothesis_profile import examples


def _flow(total: int, apparent: int, a: int, b: int, c: int = 0) -> dict[str, int]:
    """A flow section in milliwatts / milli-VA; apparent power split like the active power."""
    return {
        "agg_p_mw": total,
        "agg_s_mva": apparent,
        "agg_p_ph_a_mw": a,
        "agg_p_ph_b_mw": b,
        "agg_p_ph_c_mw": c,
        "agg_s_ph_a_mva": apparent // 2,
        "agg_s_ph_b_mva": apparent - apparent // 2,
        "agg_s_ph_c_mva": 0,
    }


LIVE_DOC: dict[str, Any] = {
    "connection": {
        "mqtt_state": "connected",
        "prov_state": "configured",
        "auth_state": "ok",
        "sc_stream": "disabled",
        "sc_debug": "disabled",
    },
    "meters": {
        "last_update": 1700000000,
        "soc": 54,
        "main_relay_state": 1,
        "gen_relay_state": 5,
        "backup_bat_mode": 1,
        "backup_soc": 30,
        "is_split_phase": 1,
        "phase_count": 2,
        "enc_agg_soc": 54,
        "enc_agg_energy": 5400,
        "acb_agg_soc": 0,
        "acb_agg_energy": 0,
        "pv": _flow(3125000, 3150000, 1560000, 1565000),
        "storage": _flow(-1250000, 1262000, -625000, -625000),
        "grid": _flow(-412000, 980000, -230500, -181500, 7000),
        "load": _flow(1463000, 1510000, 704500, 758500),
        "generator": _flow(0, 0, 0, 0),
    },
    "tasks": {"task_id": 123, "timestamp": 1700000000},
    "counters": {
        "main_CfgLoad": 1,
        "main_CfgChanged": 1,
        "main_taskUpdate": 2,
        "MqttClient_publish": 4021,
        "MqttClient_respond": 12,
        "MqttClient_msgarrvd": 6,
        "MqttClient_create": 1,
        "MqttClient_setCallbacks": 1,
        "MqttClient_connect": 1,
        "MqttClient_subscribe": 1,
        "SSL_Keys_Create": 1,
        "sc_hdlDataPub": 4021,
        "sc_SendStreamCtrl": 2,
        "sc_SendDemandRspCtrl": 1,
        "rest_Status": 118,
    },
    "dry_contacts": {
        "": {
            "dry_contact_id": "",
            "dry_contact_type": "",
            "dry_contact_load_name": "",
            "dry_contact_status": 3050476,
        }
    },
}
LIVE_BODY = orjson.dumps(LIVE_DOC)


def _with(**meters: Any) -> bytes:
    doc = copy.deepcopy(LIVE_DOC)
    for key, value in meters.items():
        if value is None:
            doc["meters"].pop(key, None)
        else:
            doc["meters"][key] = value
    return orjson.dumps(doc)


def test_documented_example_values() -> None:
    live = parse_livedata(LIVE_BODY)
    assert live.stream_enabled is False
    assert live.last_update == 1700000000
    assert live.soc_percent == 54.0 and live.backup_soc_percent == 30.0
    assert (live.main_relay_state, live.main_relay_closed) == (1, True)
    assert (live.gen_relay_state, live.gen_relay_closed) == (5, False)
    assert live.phase_count == 2 and live.split_phase is True
    assert (live.enc_soc_percent, live.enc_wh) == (54.0, 5400.0)
    assert (live.acb_soc_percent, live.acb_wh) == (0.0, 0.0)
    assert list(live.flows) == ["pv", "storage", "grid", "load", "generator"]
    assert live.flows["pv"] == LiveFlow(
        watts=3125.0, va=3150.0, phases={"L1": 1560.0, "L2": 1565.0}
    )
    assert live.flows["storage"].watts == -1250.0
    assert live.flows["grid"].phases == {"L1": -230.5, "L2": -181.5}  # no L3 on two phases
    assert live.flows["load"].va == 1510.0
    assert live.flows["generator"] == LiveFlow(watts=0.0, va=0.0, phases={"L1": 0.0, "L2": 0.0})


def test_to_dict_is_plain_json() -> None:
    plain = parse_livedata(LIVE_BODY).to_dict()
    assert plain["flows"]["pv"] == {
        "watts": 3125.0,
        "va": 3150.0,
        "phases": {"L1": 1560.0, "L2": 1565.0},
    }
    assert plain["stream_enabled"] is False
    assert orjson.loads(orjson.dumps(plain)) == plain


@pytest.mark.parametrize(
    ("count", "phases"),
    [
        (3, {"L1": -230.5, "L2": -181.5, "L3": 7.0}),
        (1, {"L1": -230.5}),
        (0, {}),
        (None, {}),
        (7, {"L1": -230.5, "L2": -181.5, "L3": 7.0}),
        (-1, {}),
    ],
)
def test_phases_up_to_phase_count(count: int | None, phases: dict[str, float]) -> None:
    live = parse_livedata(_with(phase_count=count))
    assert live.phase_count == count
    assert live.flows["grid"].phases == phases


def test_missing_phase_key_is_left_out() -> None:
    doc = copy.deepcopy(LIVE_DOC)
    del doc["meters"]["pv"]["agg_p_ph_b_mw"]
    del doc["meters"]["pv"]["agg_s_mva"]
    pv = parse_livedata(orjson.dumps(doc)).flows["pv"]
    assert pv.phases == {"L1": 1560.0} and pv.va is None


def test_stream_enabled() -> None:
    doc = copy.deepcopy(LIVE_DOC)
    doc["connection"]["sc_stream"] = "enabled"
    assert parse_livedata(orjson.dumps(doc)).stream_enabled is True
    del doc["connection"]
    assert parse_livedata(orjson.dumps(doc)).stream_enabled is False


@pytest.mark.parametrize(("state", "closed"), [(1, True), (5, False), (0, None), (3, None)])
def test_relay_states(state: int, closed: bool | None) -> None:
    live = parse_livedata(_with(main_relay_state=state, gen_relay_state=state))
    assert live.main_relay_state == state and live.main_relay_closed is closed
    assert live.gen_relay_state == state and live.gen_relay_closed is closed


def test_minimal_document() -> None:
    live = parse_livedata(b'{"meters": {}}')
    assert live.flows == {} and live.soc_percent is None and live.main_relay_closed is None
    assert live.stream_enabled is False and live.last_update is None


def test_absent_flows_are_left_out() -> None:
    live = parse_livedata(_with(generator=None, storage=None))
    assert set(live.flows) == {"pv", "grid", "load"}


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b'{"meters": []}',
        _with(pv={"agg_s_mva": 1}),
        _with(pv={"agg_p_mw": "3125000"}),
        _with(grid={"agg_p_mw": 1, "agg_p_ph_a_mw": True}),
        _with(soc="54"),
        _with(main_relay_state=1.5),
        _with(is_split_phase=2),
        _with(phase_count="2"),
        b'{"meters": {}, "connection": {"sc_stream": 1}}',
        b'{"error": "404 - Not Found"}',
        b"<html><body>401 Unauthorized</body></html>",
    ],
)
def test_refuses_bad_documents(body: bytes) -> None:
    with pytest.raises(EnvoyParseError) as info:
        parse_livedata(body)
    assert info.value.path == "/ivp/livedata/status"


def test_source() -> None:
    assert (LIVEDATA.key, LIVEDATA.path) == ("livedata", "/ivp/livedata/status")
    assert LIVEDATA.parse is parse_livedata
    assert (LIVEDATA.role, LIVEDATA.cadence, LIVEDATA.speed) == (
        Role.OWNER,
        Cadence.LIVE,
        Speed.FAST,
    )


# --- properties ---------------------------------------------------------------------


@given(st.data())
@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutations_raise_only_parse_error(data: st.DataObject) -> None:
    live = parses_or_refuses(parse_livedata, data.draw(mutated_json(LIVE_DOC)))
    if live is None:
        return
    for flow in live.flows.values():
        assert len(flow.phases) <= min(max(live.phase_count or 0, 0), 3)


@given(st.integers(-(10**12), 10**12), st.integers(1, 3))
@settings(max_examples=examples(100), deadline=None)
def test_milliwatts_become_watts(milliwatts: int, count: int) -> None:
    pv = {"agg_p_mw": milliwatts, "agg_p_ph_a_mw": milliwatts, "agg_p_ph_c_mw": milliwatts}
    live = parse_livedata(_with(pv=pv, phase_count=count))
    assert live.flows["pv"].watts == pytest.approx(milliwatts / 1000)
    expected = {"L1": milliwatts / 1000, "L3": milliwatts / 1000}
    assert live.flows["pv"].phases == {k: v for k, v in expected.items() if int(k[1]) <= count}

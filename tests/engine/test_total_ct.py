"""A total-consumption (load-side) CT counts the house as delivered - received.

The 8.3.5433 capture described in issue 23 shows the gateway's own
definition: net-consumption ``whLifetime`` = (total CT delivered - received)
- production. The real bodies of a three-phase site are used, with its
net CT relabelled load-side (as such a site's ``/ivp/meters`` reads).
"""

from __future__ import annotations

import orjson
import pytest

from enphase_local.engine.flows import ct_counters
from enphase_local.engine.joins import join_meters
from enphase_local.sources.meters import parse_meter_readings, parse_meters
from tests.support import needs_real, real_body

FOLDER = "7.3.466_with_cts_3phase"


@needs_real
def test_total_ct_lifetime_is_delivered_minus_received_aggregate_and_per_phase() -> None:
    config = orjson.loads(real_body(FOLDER, "ivp_meters") or b"[]")
    for meter in config:
        if meter["measurementType"] == "net-consumption":
            meter["measurementType"] = "total-consumption"
            eid = meter["eid"]
    readings_body = real_body(FOLDER, "ivp_meters_readings") or b"[]"
    raw = next(r for r in orjson.loads(readings_body) if r["eid"] == eid)
    meters = join_meters(parse_meters(orjson.dumps(config)), parse_meter_readings(readings_body))
    counters, _ = ct_counters(meters)
    assert raw["actEnergyRcvd"] > 100  # received is far from negligible on this site
    assert counters["consumption"] == pytest.approx(raw["actEnergyDlvd"] - raw["actEnergyRcvd"])
    for i, phase in enumerate(("L1", "L2", "L3")):
        channel = raw["channels"][i]
        own = channel["actEnergyDlvd"] - channel["actEnergyRcvd"]
        assert counters[f"{phase}:consumption"] == pytest.approx(own)

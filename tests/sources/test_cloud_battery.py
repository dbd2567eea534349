"""The cloud's battery answers: the documented fixture read by hand, variants, and fuzzing.

The values below are read by hand from the ``batterySettings`` fixture in
/work/shared/docs/cloud.md (section 1), not from the parser's output.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enphase_local.models.cloud_battery import CloudProfile, StormGuard
from enphase_local.sources.cloud_battery import (
    cloud_number,
    parse_battery_settings,
    parse_cloud_schedules,
    parse_site_settings,
)
from tests.fuzz import JSON_VALUE, mutated_json, parses_or_refuses
from tests.hypothesis_profile import examples

FIXTURE: dict[str, Any] = {
    "type": "battery-details",
    "timestamp": "2026-09-24T19:17:39Z",
    "data": {
        "supportsMqtt": True,
        "profile": "backup_only",
        "batteryBackupPercentage": 100,
        "requestedConfig": {},
        "requestedConfigMqtt": {"powerMatchControl": {}},
        "stormGuardState": "disabled",
        "acceptedItcDisclaimer": "2026-09-24T19:13:11.950Z",
        "hideChargeFromGrid": True,
        "envoySupportsVls": True,
        "chargeBeginTime": 120,
        "chargeEndTime": 300,
        "veryLowSoc": 10,
        "veryLowSocMin": 5,
        "veryLowSocMax": 25,
        "chargeFromGrid": False,
        "chargeFromGridScheduleEnabled": False,
        "batteryBackupPercentageMin": 5,
        "batteryBackupPercentageMax": 100,
        "previousBatteryBackupPercentage": {
            "self-consumption": 30,
            "cost_savings": 30,
            "backup_only": 100,
            "expert": 30,
            "ai_optimisation": 12,
        },
        "dtgControl": {"show": True, "enabled": False, "locked": True},
        "siteProfileStatus": "READY",
    },
}

SITE = {
    "hasEncharge": True,
    "hasEnpower": True,
    "hasAcb": False,
    "countryCode": "DE",
    "isEmea": True,
    "showChargeFromGrid": True,
    "userDetails": {"isOwner": True, "isInstaller": False},
}


def test_the_documented_fixture() -> None:
    s = parse_battery_settings(orjson.dumps(FIXTURE))
    assert s.profile is CloudProfile.BACKUP_ONLY and s.reserve_percent == 100.0
    assert (s.reserve_min_percent, s.reserve_max_percent) == (5.0, 100.0)
    assert (s.charge_from_grid, s.charge_begin_min, s.charge_end_min) == (False, 120, 300)
    assert s.very_low_soc_percent == 10.0
    assert (s.very_low_soc_min_percent, s.very_low_soc_max_percent) == (5.0, 25.0)
    assert s.storm_guard is StormGuard.DISABLED and s.accepted_itc_disclaimer is True
    assert s.profile_reserves["ai_optimisation"] == 12.0
    assert s.requested == {} and s.pending_gateways == ()
    assert s.raw["siteProfileStatus"] == "READY"  # unknown keys kept
    assert "raw" not in s.to_dict()


def test_unwrapped_strings_na_and_a_pending_change() -> None:
    data = dict(FIXTURE["data"])
    data.update(
        batteryBackupPercentage="30",
        veryLowSocMax="N/A",
        chargeFromGrid="true",
        profile="a-new-profile",
        acceptedItcDisclaimer=None,
        requestedConfig={"veryLowSoc": 15, "pendingGateways": ["122232004225"]},
    )
    s = parse_battery_settings(orjson.dumps(data))  # not wrapped: accepted too
    assert s.reserve_percent == 30.0 and s.very_low_soc_max_percent is None
    assert s.charge_from_grid is True and s.accepted_itc_disclaimer is False
    assert s.profile is CloudProfile.UNKNOWN and s.profile_name == "a-new-profile"
    assert s.pending_for("122232004225") and s.effective("veryLowSoc") == 15
    assert s.effective("profile") == "a-new-profile"


def test_site_settings_and_schedules() -> None:
    site = parse_site_settings(orjson.dumps({"type": "x", "timestamp": "t", "data": SITE}))
    assert site.is_emea is True and site.country_code == "DE" and site.is_owner is True
    grouped = {
        "cfg": {
            "details": [
                {
                    "id": 7,
                    "scheduleType": "CFG",
                    "startTime": "02:00",
                    "endTime": "05:00",
                    "limit": 90,
                    "days": [1, 2],
                }
            ]
        },
        "dtg": {"details": []},
    }
    (one,) = parse_cloud_schedules(orjson.dumps(grouped)).schedules
    assert (one.schedule_id, one.start, one.limit_percent, one.days) == ("7", "02:00", 90.0, (1, 2))


def test_cloud_numbers() -> None:
    assert [cloud_number(v) for v in (5, "5.5", "N/A", None, True, "", float("inf"))] == [
        5.0,
        5.5,
        None,
        None,
        None,
        None,
        None,
    ]


PARSERS = [parse_battery_settings, parse_site_settings, parse_cloud_schedules]
DOCS = [
    (parse_battery_settings, FIXTURE),
    (parse_site_settings, {"data": SITE, "type": "x"}),
    (
        parse_cloud_schedules,
        {
            "schedules": [
                {
                    "scheduleType": "CFG",
                    "startTime": "02:00",
                    "endTime": "05:00",
                    "limit": 90,
                    "days": [1],
                }
            ]
        },
    ),
]


@given(st.binary(max_size=200) | JSON_VALUE.map(orjson.dumps), st.sampled_from(PARSERS))
@settings(max_examples=examples(300), deadline=None)
def test_random_bodies_raise_only_parse_error(body: bytes, parse: Any) -> None:
    parses_or_refuses(parse, body)


@given(st.data(), st.sampled_from(DOCS))
@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutations_raise_only_parse_error(data: st.DataObject, case: Any) -> None:
    parse, doc = case
    parses_or_refuses(parse, data.draw(mutated_json(doc)))

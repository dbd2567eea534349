"""A checker for the JSON contract, written from docs/json-contract.md (schema 1).

It checks what the document promises scripts: the top-level keys and their
types, the flow fields, and the shape of every documented section. Extra
fields are allowed (the contract may grow within schema 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NUM = (int, float)
TOP: dict[str, tuple[type, ...]] = {
    "schema": (int,),
    "taken_at": NUM,
    "gateway": (dict,),
    "production": (dict, type(None)),
    "consumption": (dict, type(None)),
    "net_consumption": (dict, type(None)),
    "phases": (dict,),
    "meters": (dict,),
    "inverters": (dict,),
    "battery": (dict, type(None)),
    "acb": (dict, type(None)),
    "enpower": (dict, type(None)),
    "collar": (dict, type(None)),
    "c6cc": (dict, type(None)),
    "generator": (dict, type(None)),
    "dry_contacts": (dict,),
    "tariff": (dict, type(None)),
    "battery_settings": (dict, type(None)),
    "live": (dict, type(None)),
    "power_export_limit": (dict, type(None)),
    "freshness": (dict,),
    "errors": (dict,),
    "warnings": (list,),
}
FLOW_SOURCES = (
    "production.json:eim",
    "production.json:inverters",
    "production:eim",
    "api/v1/production",
    "production.html",
    "meters/readings",
)
CT_TYPES = {
    "production",
    "net-consumption",
    "total-consumption",
    "storage",
    "backfeed",
    "load",
    "evse",
    "pv3p",
}


def _num_or_null(where: str, value: Any) -> None:
    assert value is None or (isinstance(value, NUM) and not isinstance(value, bool)), (
        f"{where}: expected a number or null, got {value!r}"
    )


def _has(where: str, obj: Mapping[str, Any], keys: str) -> None:
    missing = [k for k in keys.split() if k not in obj]
    assert not missing, f"{where}: missing {missing}"


def check_flow(where: str, flow: Any) -> None:
    if flow is None:
        return
    assert isinstance(flow, dict), f"{where}: a flow is an object"
    _has(where, flow, "watts wh_today wh_last_7_days wh_lifetime source")
    assert isinstance(flow["watts"], NUM), f"{where}.watts must be a number"
    for key in ("wh_today", "wh_last_7_days", "wh_lifetime"):
        _num_or_null(f"{where}.{key}", flow[key])
    assert isinstance(flow["source"], str), f"{where}.source is text"
    assert any(known in flow["source"] for known in FLOW_SOURCES), f"{where}.source unknown"


def check_snapshot(doc: Any) -> None:
    """Raise AssertionError naming the first place `doc` breaks the contract."""
    assert isinstance(doc, dict), "the document is an object"
    _has("top level", doc, " ".join(TOP))
    for key, types in TOP.items():
        assert isinstance(doc[key], types), f"{key}: expected {types}, got {type(doc[key])}"
    assert doc["schema"] == 1
    gw = doc["gateway"]
    _has("gateway", gw, "host serial part_number firmware metered auth role")
    assert gw["auth"] in ("token", "digest", "none")
    assert gw["role"] in ("owner", "installer", None)
    assert isinstance(gw["metered"], bool)
    for key in ("production", "consumption", "net_consumption"):
        check_flow(key, doc[key])
    for phase, flows in doc["phases"].items():
        assert phase in ("L1", "L2", "L3"), f"phase {phase!r}"
        _has(f"phases.{phase}", flows, "production consumption net_consumption")
        for key, flow in flows.items():
            check_flow(f"phases.{phase}.{key}", flow)
    for ct, meter in doc["meters"].items():
        assert ct.split("#")[0] in CT_TYPES, f"meter type {ct!r}"
        _has(f"meters.{ct}", meter, "eid state watts wh_delivered wh_received volts phases")
        for phase, values in meter["phases"].items():
            _has(f"meters.{ct}.phases.{phase}", values, "watts wh_delivered wh_received volts")
    for serial, inverter in doc["inverters"].items():
        _has(f"inverters.{serial}", inverter, "watts max_watts last_report")
        _num_or_null(f"inverters.{serial}.watts", inverter["watts"])
    if doc["battery"] is not None:
        _has("battery", doc["battery"], "soc_percent available_wh capacity_wh units")
        for serial, unit in doc["battery"]["units"].items():
            _has(f"battery.units.{serial}", unit, "soc_percent watts temperature_c capacity_wh")
    if doc["acb"] is not None:
        _has("acb", doc["acb"], "watts wh_now soc_percent state count units")
    if doc["enpower"] is not None:
        _has("enpower", doc["enpower"], "serial temperature_c mains_admin_state mains_oper_state")
    if doc["generator"] is not None:
        _has("generator", doc["generator"], "present admin_state oper_state mode")
    for cid, contact in doc["dry_contacts"].items():
        _has(f"dry_contacts.{cid}", contact, "status type load_name mode grid_action")
    if doc["tariff"] is not None:
        _has("tariff", doc["tariff"], "storage_mode reserve_soc_percent charge_from_grid")
    for section, when in doc["freshness"].items():
        assert isinstance(when, NUM), f"freshness.{section}"
    for section, message in doc["errors"].items():
        assert isinstance(message, str), f"errors.{section}"
    assert all(isinstance(w, str) for w in doc["warnings"])

"""/admin/lib/tariff (storage settings, write body), /ivp/ss/pel_settings, /ivp/sc/pvlimit."""

from __future__ import annotations

import copy
import math
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enphase_local.errors import EnvoyFeatureUnavailable, EnvoyParseError
from enphase_local.models.settings import PowerExportLimit, PvLimit
from enphase_local.models.tariff import StorageMode
from enphase_local.sources.registry import Cadence, Role, Source, Speed
from enphase_local.sources.settings import (
    PEL_SETTINGS,
    PV_LIMIT,
    parse_pel_settings,
    parse_pv_limit,
)
from enphase_local.sources.tariff import TARIFF, parse_tariff, tariff_write_body
from tests.fuzz import mutated_json, parses_or_refuses
from tests.hypothesis_profile import examples
from tests.support import REAL, needs_real, real_body, real_cases

# A tariff document in the shape firmware 7.x sends, written for these tests:
# older firmware spelled economy mode "savings-mode".
TARIFF_DOC: dict[str, Any] = {
    "tariff": {
        "currency": {"code": "USD"},
        "logger": "mylogger",
        "date": "1692471808",
        "storage_settings": {
            "mode": "savings-mode",
            "operation_mode_sub_type": "",
            "reserved_soc": 25.0,
            "very_low_soc": 10,
            "charge_from_grid": True,
            "date": "1692471808",
            "future_key": {"nested": [1, 2.5, None]},
        },
        "single_rate": {"rate": 0.27, "sell": 0.05},
        "seasons": [{"id": "all_year", "start": "1/1", "days": [{"id": "all_days"}]}],
        "seasons_sell": [],
    },
    "schedule": {"source": "Tariff", "date": "2023-08-19 18:56:07 UTC"},
}
TARIFF_BODY = orjson.dumps(TARIFF_DOC)


def test_tariff_values() -> None:
    tariff = parse_tariff(TARIFF_BODY)
    assert tariff.storage_mode is StorageMode.ECONOMY  # "savings-mode"
    assert tariff.reserve_soc_percent == 25.0 and tariff.very_low_soc_percent == 10.0
    assert tariff.charge_from_grid is True and tariff.opt_schedules is None
    assert tariff.currency == "USD"
    assert tariff.raw == TARIFF_DOC and tariff.has_storage_settings


def test_tariff_to_dict_leaves_out_raw() -> None:
    plain = parse_tariff(TARIFF_BODY).to_dict()
    assert plain == {
        "storage_mode": "economy",
        "reserve_soc_percent": 25.0,
        "very_low_soc_percent": 10.0,
        "charge_from_grid": True,
        "opt_schedules": None,
        "currency": "USD",
        "storage_mode_raw": "savings-mode",
    }


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("backup", StorageMode.BACKUP),
        ("self-consumption", StorageMode.SELF_CONSUMPTION),
        ("economy", StorageMode.ECONOMY),
        ("savings-mode", StorageMode.ECONOMY),
        ("Savings-Mode", StorageMode.ECONOMY),
        ("ai-optimised", StorageMode.UNKNOWN),
        (None, None),
    ],
)
def test_storage_modes(mode: str | None, expected: StorageMode | None) -> None:
    doc = copy.deepcopy(TARIFF_DOC)
    doc["tariff"]["storage_settings"]["mode"] = mode
    tariff = parse_tariff(orjson.dumps(doc))
    assert tariff.storage_mode is expected
    assert tariff.storage_mode_raw == mode
    del doc["tariff"]["storage_settings"]["mode"]
    assert parse_tariff(orjson.dumps(doc)).storage_mode is None


def test_unknown_storage_mode_keeps_its_name() -> None:
    """Issue 12 case 7: a mode newer firmware reports is never mapped to a known one."""
    doc = copy.deepcopy(TARIFF_DOC)
    doc["tariff"]["storage_settings"]["mode"] = "ai-optimisation"
    tariff = parse_tariff(orjson.dumps(doc))
    assert tariff.storage_mode is StorageMode.UNKNOWN
    assert tariff.storage_mode_name == "ai-optimisation"
    assert tariff.to_dict()["storage_mode"] == "ai-optimisation"
    assert tariff.to_dict()["storage_mode_raw"] == "ai-optimisation"
    known = parse_tariff(TARIFF_BODY)
    assert known.storage_mode_name == "economy"  # savings-mode is economy by another name


def test_tariff_without_storage_settings() -> None:
    tariff = parse_tariff(b'{"tariff": {"currency": {"code": "EUR"}, "single_rate": {}}}')
    assert tariff.storage_mode is None and tariff.reserve_soc_percent is None
    assert tariff.very_low_soc_percent is None and tariff.charge_from_grid is None
    assert tariff.opt_schedules is None and tariff.currency == "EUR"
    assert not tariff.has_storage_settings


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b'{"tariff": []}',
        b'{"tariff": {"storage_settings": []}}',
        b'{"tariff": {"storage_settings": {"mode": 3}}}',
        b'{"tariff": {"storage_settings": {"reserved_soc": "30"}}}',
        b'{"tariff": {"storage_settings": {"charge_from_grid": "yes"}}}',
        b'{"tariff": {"currency": {"code": 840}}}',
        b'{"error": "404 - Not Found"}',
    ],
)
def test_tariff_refuses_bad_documents(body: bytes) -> None:
    with pytest.raises(EnvoyParseError) as info:
        parse_tariff(body)
    assert info.value.path == "/admin/lib/tariff"


def test_sources() -> None:
    assert (TARIFF.key, TARIFF.path) == ("tariff", "/admin/lib/tariff")
    assert (PEL_SETTINGS.key, PEL_SETTINGS.path) == ("pel_settings", "/ivp/ss/pel_settings")
    assert (PV_LIMIT.key, PV_LIMIT.path) == ("pv_limit", "/ivp/sc/pvlimit")
    assert TARIFF.parse is parse_tariff and PEL_SETTINGS.parse is parse_pel_settings
    assert PV_LIMIT.parse is parse_pv_limit
    sources: list[Source[Any]] = [TARIFF, PEL_SETTINGS, PV_LIMIT]
    for source in sources:
        assert (source.role, source.cadence, source.speed) == (
            Role.OWNER,
            Cadence.CONFIG,
            Speed.FAST,
        )


# --- the write body -----------------------------------------------------------------


def _without(doc: dict[str, Any], key: str) -> bytes:
    """The tariff part of a body as orjson bytes, with one storage key removed."""
    rest = copy.deepcopy(doc)
    del rest["storage_settings"][key]
    return orjson.dumps(rest)


def test_write_body_changes_only_the_given_field() -> None:
    before = orjson.dumps(TARIFF_DOC)
    body = tariff_write_body(TARIFF_DOC, reserve_soc_percent=40)
    assert set(body) == {"tariff"}
    assert body["tariff"]["storage_settings"]["reserved_soc"] == 40.0
    assert isinstance(body["tariff"]["storage_settings"]["reserved_soc"], float)
    assert _without(body["tariff"], "reserved_soc") == _without(
        TARIFF_DOC["tariff"], "reserved_soc"
    )
    assert orjson.dumps(TARIFF_DOC) == before  # the document read is never modified
    body["tariff"]["storage_settings"]["future_key"]["nested"].append(9)
    assert orjson.dumps(TARIFF_DOC) == before  # a deep copy


def test_write_body_keeps_the_documents_spelling_of_economy() -> None:
    body = tariff_write_body(TARIFF_DOC, mode=StorageMode.ECONOMY)
    assert body["tariff"]["storage_settings"]["mode"] == "savings-mode"
    modern = copy.deepcopy(TARIFF_DOC)
    modern["tariff"]["storage_settings"]["mode"] = "backup"
    assert tariff_write_body(modern, mode="economy")["tariff"]["storage_settings"]["mode"] == (
        "economy"
    )
    assert tariff_write_body(modern, mode="savings-mode")["tariff"]["storage_settings"]["mode"] == (
        "economy"
    )
    body = tariff_write_body(TARIFF_DOC, mode=StorageMode.SELF_CONSUMPTION)
    assert body["tariff"]["storage_settings"]["mode"] == "self-consumption"


def test_write_body_several_fields() -> None:
    body = tariff_write_body(
        TARIFF_DOC, mode=StorageMode.BACKUP, reserve_soc_percent=100, charge_from_grid=False
    )
    storage = body["tariff"]["storage_settings"]
    assert (storage["mode"], storage["reserved_soc"], storage["charge_from_grid"]) == (
        "backup",
        100.0,
        False,
    )
    assert storage["very_low_soc"] == 10 and storage["future_key"] == {"nested": [1, 2.5, None]}


def test_write_body_keeps_integer_reserve_when_the_document_uses_integers() -> None:
    doc = copy.deepcopy(TARIFF_DOC)
    doc["tariff"]["storage_settings"]["reserved_soc"] = 20
    written = tariff_write_body(doc, reserve_soc_percent=55.0)["tariff"]["storage_settings"]
    assert written["reserved_soc"] == 55 and isinstance(written["reserved_soc"], int)
    written = tariff_write_body(doc, reserve_soc_percent=55.5)["tariff"]["storage_settings"]
    assert written["reserved_soc"] == 55.5


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"reserve_soc_percent": -1},
        {"reserve_soc_percent": 100.5},
        {"reserve_soc_percent": math.nan},
        {"reserve_soc_percent": math.inf},
        {"reserve_soc_percent": True},
        {"reserve_soc_percent": "50"},
        {"mode": "turbo"},
        {"mode": StorageMode.UNKNOWN},
        {"mode": ""},
        {"charge_from_grid": 1},
        {"charge_from_grid": "true"},
    ],
)
def test_write_body_validates(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        tariff_write_body(TARIFF_DOC, **kwargs)


def test_write_body_without_storage_settings() -> None:
    docs: list[dict[str, Any]] = [{"tariff": {"currency": {"code": "USD"}}}, {"tariff": []}, {}]
    for doc in docs:
        with pytest.raises(EnvoyFeatureUnavailable):
            tariff_write_body(doc, mode=StorageMode.BACKUP)


# --- real captures ------------------------------------------------------------------

TARIFF_CASES = real_cases("admin_lib_tariff")
NO_STORAGE = {"4.10.35", "5.0.62"}


@needs_real
@pytest.mark.parametrize("folder", TARIFF_CASES)
def test_real_tariff(folder: str) -> None:
    body = real_body(folder, "admin_lib_tariff")
    assert body is not None
    tariff = parse_tariff(body)
    assert tariff.currency in ("USD", "EUR", "AUD")
    assert tariff.raw == orjson.loads(body)
    if folder in NO_STORAGE:
        assert tariff.storage_mode is None and tariff.reserve_soc_percent is None
        assert tariff.very_low_soc_percent is None and tariff.charge_from_grid is None
        assert tariff.opt_schedules is None and not tariff.has_storage_settings
        return
    assert tariff.storage_mode in (StorageMode.BACKUP, StorageMode.SELF_CONSUMPTION)
    assert tariff.reserve_soc_percent is not None and 0 <= tariff.reserve_soc_percent <= 100
    assert tariff.very_low_soc_percent in (5.0, 10.0)
    assert isinstance(tariff.charge_from_grid, bool)
    has_opt = folder.startswith(("8.2.4", "8.3"))
    assert (tariff.opt_schedules is not None) is has_opt


@needs_real
def test_real_tariff_known_values() -> None:
    assert "7.3.517" in TARIFF_CASES and "8.3.5169_with_generator" in TARIFF_CASES
    backup = parse_tariff(real_body("7.3.517", "admin_lib_tariff") or b"")
    assert backup.storage_mode is StorageMode.BACKUP
    assert backup.reserve_soc_percent == 100.0 and backup.charge_from_grid is True
    generator = parse_tariff(real_body("8.3.5169_with_generator", "admin_lib_tariff") or b"")
    assert generator.storage_mode is StorageMode.SELF_CONSUMPTION
    assert generator.reserve_soc_percent == 0 and generator.opt_schedules is False
    acb = parse_tariff(real_body("8.2.4382_ACB", "admin_lib_tariff") or b"")
    assert acb.opt_schedules is True
    for folder in NO_STORAGE:
        assert folder in TARIFF_CASES


CHANGES: list[tuple[str, dict[str, Any]]] = [
    ("mode", {"mode": StorageMode.BACKUP}),
    ("mode", {"mode": StorageMode.ECONOMY}),
    ("reserved_soc", {"reserve_soc_percent": 37}),
    ("charge_from_grid", {"charge_from_grid": True}),
]


@needs_real
@pytest.mark.parametrize("folder", sorted(set(TARIFF_CASES) - NO_STORAGE))
@pytest.mark.parametrize(("key", "kwargs"), CHANGES)
def test_real_write_body_keeps_every_other_key(
    folder: str, key: str, kwargs: dict[str, Any]
) -> None:
    raw = parse_tariff(real_body(folder, "admin_lib_tariff") or b"").raw
    before = orjson.dumps(raw)
    body = tariff_write_body(raw, **kwargs)
    assert list(body) == ["tariff"]
    assert _without(body["tariff"], key) == _without(raw["tariff"], key)
    assert list(body["tariff"]["storage_settings"]) == list(raw["tariff"]["storage_settings"])
    assert orjson.dumps(raw) == before
    reread = parse_tariff(orjson.dumps(body))
    if "mode" in kwargs:
        assert reread.storage_mode is kwargs["mode"]
    if "reserve_soc_percent" in kwargs:
        assert reread.reserve_soc_percent == 37.0
    if "charge_from_grid" in kwargs:
        assert reread.charge_from_grid is True


@needs_real
@pytest.mark.parametrize("folder", sorted(NO_STORAGE))
def test_real_write_body_refused_without_storage(folder: str) -> None:
    raw = parse_tariff(real_body(folder, "admin_lib_tariff") or b"").raw
    with pytest.raises(EnvoyFeatureUnavailable):
        tariff_write_body(raw, reserve_soc_percent=20)


@needs_real
@pytest.mark.parametrize("folder", real_cases("ivp_ss_pel_settings"))
def test_real_pel_settings(folder: str) -> None:
    pel = parse_pel_settings(real_body(folder, "ivp_ss_pel_settings") or b"")
    assert isinstance(pel.enabled, bool)
    if pel.limit_type is None:  # the short form: {"PEL": false}
        assert pel == PowerExportLimit(enabled=False)
    else:
        assert pel.limit_type == "Aggregate" and pel.hard is not None and pel.soft is not None
        assert pel.limit is not None and pel.limit >= 0 and pel.deadband is not None


@needs_real
def test_real_pel_settings_known_values() -> None:
    pel = parse_pel_settings(real_body("8.2.4382_ACB", "ivp_ss_pel_settings") or b"")
    assert pel == PowerExportLimit(
        enabled=True,
        hard=False,
        soft=True,
        limit_type="Aggregate",
        percent=True,
        apparent=False,
        limit=100.0,
        comm_time_loss_ms=10000.0,
        resp_time_soft_ms=30000.0,
        resp_time_hard_ms=None,
        deadband=1.0,
    )
    full = parse_pel_settings(real_body("7.3.517", "ivp_ss_pel_settings") or b"")
    assert full.enabled is False and full.resp_time_hard_ms == 0.0 and full.apparent is False


@needs_real
@pytest.mark.parametrize("folder", real_cases("ivp_sc_pvlimit"))
def test_real_pv_limit(folder: str) -> None:
    assert parse_pv_limit(real_body(folder, "ivp_sc_pvlimit") or b"") == PvLimit(
        enabled=False, pv_limit_percent=100.0
    )


@needs_real
@pytest.mark.parametrize("folder", ["4.10.35", "5.0.62"])
@pytest.mark.parametrize("name", ["ivp_ss_pel_settings", "ivp_sc_pvlimit"])
def test_real_404_bodies_flag_the_gateway_error(folder: str, name: str) -> None:
    parse = parse_pel_settings if name == "ivp_ss_pel_settings" else parse_pv_limit
    with pytest.raises(EnvoyParseError) as info:
        parse((REAL / folder / name).read_bytes())
    assert info.value.gateway_error == "404 - Not Found"


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b'{"PEL": "no"}',
        b'{"PEL": false, "PEL_Limit": "100"}',
        b'{"PEL": false, "Export_Limit_Type": 1}',
        b'{"PEL": false, "Hard_PEL": 2}',
        b"[false]",
    ],
)
def test_pel_refuses_bad_documents(body: bytes) -> None:
    with pytest.raises(EnvoyParseError):
        parse_pel_settings(body)


@pytest.mark.parametrize(
    "body",
    [b"{}", b'{"enable": false}', b'{"pv_limit_pct": 100}', b'{"enable": 0, "pv_limit_pct": "x"}'],
)
def test_pv_limit_refuses_bad_documents(body: bytes) -> None:
    with pytest.raises(EnvoyParseError):
        parse_pv_limit(body)


def test_pv_limit_enabled() -> None:
    assert parse_pv_limit(b'{"enable": true, "pv_limit_pct": 60}') == PvLimit(True, 60.0)


# --- properties ---------------------------------------------------------------------

PARSERS = [parse_tariff, parse_pel_settings, parse_pv_limit]

PEL_DOC = {
    "PEL": True,
    "Hard_PEL": False,
    "Soft_PEL": True,
    "Export_Limit_Type": "Aggregate",
    "percent": True,
    "apparent": False,
    "PEL_Limit": 100.0,
    "Comm_Time_Loss": 10000.0,
    "Resp_Time_SoftPEL": 30000.0,
    "Resp_Time_HardPEL": 0.0,
    "PEL_db": 1.0,
}
DOCS = [(parse_tariff, TARIFF_DOC), (parse_pel_settings, PEL_DOC)]
DOCS.append((parse_pv_limit, {"enable": False, "pv_limit_pct": 100}))


@given(st.data(), st.sampled_from(DOCS))
@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutations_raise_only_parse_error(data: st.DataObject, case: Any) -> None:
    parse, doc = case
    parses_or_refuses(parse, data.draw(mutated_json(doc)))


@given(
    st.data(),
    st.none() | st.sampled_from(["backup", "self-consumption", "economy"]),
    st.none() | st.integers(0, 100) | st.floats(0, 100),
    st.none() | st.booleans(),
)
@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_write_body_on_mutated_documents(
    data: st.DataObject, mode: str | None, reserve: float | None, grid: bool | None
) -> None:
    """Whatever the document read, the body builder changes only what it was asked to."""
    tariff = parses_or_refuses(parse_tariff, data.draw(mutated_json(TARIFF_DOC)))
    if tariff is None:
        return
    try:
        body = tariff_write_body(
            tariff.raw, mode=mode, reserve_soc_percent=reserve, charge_from_grid=grid
        )
    except (ValueError, EnvoyFeatureUnavailable):
        assert (mode, reserve, grid) == (None, None, None) or not tariff.has_storage_settings
        return
    old = dict(tariff.raw["tariff"]["storage_settings"])
    new = body["tariff"]["storage_settings"]
    for key in ("mode", "reserved_soc", "charge_from_grid"):
        old.pop(key, None)
        new.pop(key, None)
    assert orjson.dumps(new) == orjson.dumps(old)
    rest = {k: v for k, v in body["tariff"].items() if k != "storage_settings"}
    expected = {k: v for k, v in tariff.raw["tariff"].items() if k != "storage_settings"}
    assert orjson.dumps(rest) == orjson.dumps(expected)

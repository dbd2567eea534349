"""Storage mode, reserve and charge from grid, against the simulated gateway."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from enphase_local.capabilities import Capability
from enphase_local.control import Outcome
from enphase_local.errors import EnvoyFeatureUnavailable, EnvoyHTTPError
from enphase_local.firmware import Firmware
from enphase_local.models.tariff import StorageMode
from enphase_local.sources.tariff import parse_tariff
from tests.control.test_target import SimTarget


def _tariff_doc(target: SimTarget) -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(target.get("tariff"))
    return doc


async def test_storage_mode_confirmed() -> None:
    target = SimTarget("battery-backup")
    result = await target.control().set_storage_mode("economy")
    assert result.outcome is Outcome.CONFIRMED
    assert (result.before, result.after, result.requested) == (
        "self-consumption",
        "economy",
        "economy",
    )
    assert len(target.writes) == 1
    sent = target.writes[0]
    assert (sent.method, sent.path) == ("PUT", "/admin/lib/tariff")
    assert sent.json["tariff"]["storage_settings"]["mode"] == "economy"
    assert parse_tariff(target.get("tariff")).storage_mode is StorageMode.ECONOMY
    assert result.request.method == "PUT" and result.sent_at is not None


async def test_reserve_and_charge_from_grid_confirmed() -> None:
    target = SimTarget("battery-backup")
    control = target.control()
    reserve = await control.set_reserve_soc(35)
    assert reserve.outcome is Outcome.CONFIRMED
    assert (reserve.before, reserve.after) == (20.0, 35.0)
    grid = await control.set_charge_from_grid(True)
    assert grid.outcome is Outcome.CONFIRMED
    assert (grid.before, grid.after) == (False, True)
    settings = _tariff_doc(target)["tariff"]["storage_settings"]
    assert settings["reserved_soc"] == 35.0 and settings["charge_from_grid"] is True
    assert settings["mode"] == "self-consumption"  # the other settings untouched
    assert len(target.writes) == 2


async def test_unmodelled_tariff_keys_survive_byte_for_byte() -> None:
    target = SimTarget("battery-backup")
    before = _tariff_doc(target)
    await target.control().set_reserve_soc(40)
    after = _tariff_doc(target)
    sent = target.writes[0].json["tariff"]
    for doc in (before["tariff"], after["tariff"], sent):
        assert list(doc) == list(before["tariff"])  # same keys, same order
    for key in before["tariff"]:
        if key != "storage_settings":
            assert orjson.dumps(sent[key]) == orjson.dumps(before["tariff"][key]), key
            assert orjson.dumps(after["tariff"][key]) == orjson.dumps(before["tariff"][key]), key
    old_ss, new_ss = before["tariff"]["storage_settings"], after["tariff"]["storage_settings"]
    assert {k: v for k, v in new_ss.items() if k != "reserved_soc"} == {
        k: v for k, v in old_ss.items() if k != "reserved_soc"
    }
    assert orjson.dumps(after["schedule"]) == orjson.dumps(before["schedule"])


async def test_tariff_ignored_firmware_reports_ignored_and_says_use_the_app() -> None:
    target = SimTarget("tariff-ignored")  # D8.2.4264: accepts and ignores
    result = await target.control().set_storage_mode("backup")
    assert result.outcome is Outcome.IGNORED
    assert result.before == result.after == "self-consumption"
    assert "8.2.4225" in result.message and "Enphase app" in result.message
    assert "cloud" in result.message
    assert len(target.writes) == 1  # sent once, never retried
    assert result.to_dict()["outcome"] == "ignored"


async def test_cloud_overwrite_detected_by_verify_later() -> None:
    target = SimTarget("cloud-overwrite")  # the cloud puts the mode back after 90 s
    control = target.control()
    result = await control.set_storage_mode("backup")
    assert result.outcome is Outcome.CONFIRMED
    assert "verify_later" in result.message  # firmware 8.3: the cloud may overwrite it
    early = await control.verify_later(result)
    assert early.outcome is Outcome.CONFIRMED
    target.clock.advance(120)
    later = await control.verify_later(result)
    assert later.outcome is Outcome.REVERTED
    assert later.after == "self-consumption" and later.requested == "backup"
    assert "cloud" in later.message and later.elapsed_s >= 120
    assert len(target.writes) == 1


class _OlderFirmware(SimTarget):
    """The cloud-overwrite site as a gateway on firmware 7.6 reports it (before 8.2.4225)."""

    @property
    def firmware(self) -> Firmware:
        return Firmware.parse("D7.6.175")


async def test_a_revert_blames_the_cloud_only_on_firmware_where_it_does_that() -> None:
    target = _OlderFirmware("cloud-overwrite")
    control = target.control()
    result = await control.set_storage_mode("backup")
    assert result.outcome is Outcome.CONFIRMED
    assert "verify_later" not in result.message  # no overwrite warning before 8.2.4225
    target.clock.advance(120)  # the value changes anyway (here: the simulator's overwrite)
    later = await control.verify_later(result)
    assert later.outcome is Outcome.REVERTED and later.after == "self-consumption"
    assert "cloud" not in later.message.lower()
    assert "something other than this write" in later.message


async def test_verify_later_can_wait_through_the_injected_sleep() -> None:
    target = SimTarget("cloud-overwrite")
    control = target.control()
    result = await control.set_storage_mode("economy")
    later = await control.verify_later(result, wait_s=150)
    assert later.outcome is Outcome.REVERTED
    assert target.clock.now() >= result.sent_at + 150  # type: ignore[operator]


async def test_opt_schedules_cleared_only_when_asked() -> None:
    target = SimTarget("acb")  # opt_schedules true
    control = target.control()
    await control.set_storage_mode("economy")
    assert target.writes[0].json["tariff"]["storage_settings"]["opt_schedules"] is True
    await control.set_storage_mode("backup", clear_opt_schedules=True)
    assert target.writes[1].json["tariff"]["storage_settings"]["opt_schedules"] is False


async def test_dry_run_sends_nothing_and_shows_the_whole_document() -> None:
    target = SimTarget("battery-backup")
    result = await target.control().set_storage_mode("economy", dry_run=True)
    assert result.outcome is Outcome.DRY_RUN
    assert target.writes == []
    assert result.request.path == "/admin/lib/tariff"
    assert result.request.body is not None
    assert result.request.body["tariff"]["storage_settings"]["mode"] == "economy"
    assert "seasons" in result.request.body["tariff"]
    assert parse_tariff(target.get("tariff")).storage_mode is StorageMode.SELF_CONSUMPTION
    plain = orjson.loads(orjson.dumps(result.to_dict()))
    assert plain["request"]["method"] == "PUT" and plain["outcome"] == "dry-run"
    assert "check" not in plain
    with pytest.raises(ValueError, match="dry run"):
        await target.control().verify_later(result)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.set_storage_mode("turbo"), ValueError),
        (lambda c: c.set_storage_mode(StorageMode.UNKNOWN), ValueError),
        (lambda c: c.set_reserve_soc(101), ValueError),
        (lambda c: c.set_reserve_soc(-1), ValueError),
        (lambda c: c.set_reserve_soc(float("nan")), ValueError),
        (lambda c: c.set_reserve_soc(True), ValueError),
        (lambda c: c.set_charge_from_grid("yes"), ValueError),
    ],
)
async def test_invalid_values_send_nothing(call: Any, error: type[Exception]) -> None:
    target = SimTarget("battery-backup")
    with pytest.raises(error):
        await call(target.control())
    assert target.writes == []
    assert target.reads == []  # refused before even reading


async def test_missing_capability_sends_nothing() -> None:
    target = SimTarget("battery-backup", capabilities=frozenset({Capability.ENPOWER}))
    with pytest.raises(EnvoyFeatureUnavailable, match="tariff"):
        await target.control().set_reserve_soc(30)
    assert target.writes == []


async def test_no_storage_settings_is_unavailable() -> None:
    target = SimTarget("legacy-5x", capabilities=frozenset({Capability.TARIFF}))
    with pytest.raises(EnvoyFeatureUnavailable, match="storage settings"):
        await target.control().set_storage_mode("backup")
    assert target.writes == []


async def test_refused_write_raises_http_error_and_reads_nothing_back() -> None:
    target = SimTarget("battery-backup", fail_writes=500)
    with pytest.raises(EnvoyHTTPError) as info:
        await target.control().set_storage_mode("economy")
    assert info.value.status == 500 and info.value.path == "/admin/lib/tariff"
    assert "injected" in str(info.value)
    assert len(target.writes) == 1  # never retried
    assert target.reads == ["tariff"]  # the read before, none after

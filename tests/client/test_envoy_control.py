"""Writes through `envoy.control` over real sockets, confirmed from the simulator's state."""

from __future__ import annotations

import pytest

from enphase_local.control import Outcome
from enphase_local.simulator import SimClock
from tests.simkit import envoy_for, gateway

WRITE_PATHS = ("/admin/lib/tariff", "/ivp/ensemble/relay", "/ivp/ensemble/dry_contacts")


def sim_sleep(clock: SimClock):  # type: ignore[no-untyped-def]
    """Polling waits move the simulated clock instead of real time."""

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    return sleep


def writes(gw: object) -> list[str]:
    return [
        e.endpoint
        for e in gw.log.entries  # type: ignore[attr-defined]
        if e.method in ("PUT", "POST", "DELETE")
    ]


async def test_reserve_write_is_confirmed_and_unmodelled_keys_survive() -> None:
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, sleep=sim_sleep(clock)) as envoy:
            before = (await envoy.read("tariff")).raw
            result = await envoy.control.set_reserve_soc(42)
            after = (await envoy.read("tariff")).raw
    assert result.outcome is Outcome.CONFIRMED and result.after == 42
    assert gw.backend.state()["reserved_soc"] == 42  # type: ignore[attr-defined]
    assert writes(gw) == ["/admin/lib/tariff"]  # sent once
    changed = {k for k in before["tariff"] if before["tariff"][k] != after["tariff"][k]}
    assert changed <= {"storage_settings", "date"}
    keep = {k: v for k, v in before["tariff"]["storage_settings"].items() if k != "reserved_soc"}
    assert {k: after["tariff"]["storage_settings"][k] for k in keep} == keep


def tariff_body(gw: object) -> bytes:
    """The tariff document as the simulated gateway serves it now (not through the client)."""
    reply = gw.backend.handle("GET", "/admin/lib/tariff", {}, b"")  # type: ignore[attr-defined]
    assert reply is not None and reply.status == 200
    return bytes(reply.body)


async def test_tariff_ignoring_firmware_reports_ignored() -> None:
    async with gateway("tariff-ignored") as (gw, clock):
        async with envoy_for(gw, clock, sleep=sim_sleep(clock)) as envoy:
            before = tariff_body(gw)
            result = await envoy.control.set_storage_mode("backup")
            after = tariff_body(gw)
    assert result.outcome is Outcome.IGNORED and "app" in result.message.lower()
    assert writes(gw) == ["/admin/lib/tariff"]  # sent exactly once: no retry of a write
    assert before == after  # the firmware accepted the PUT and changed nothing
    assert result.before == result.after


async def test_relay_is_pending_then_confirmed() -> None:
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, sleep=sim_sleep(clock)) as envoy:
            quick = await envoy.control.go_off_grid(timeout_s=1)
            assert quick.outcome is Outcome.PENDING
            patient = await envoy.control.go_on_grid(timeout_s=60)
    assert patient.outcome is Outcome.CONFIRMED
    assert writes(gw) == ["/ivp/ensemble/relay", "/ivp/ensemble/relay"]


async def test_invalid_requests_send_nothing() -> None:
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, sleep=sim_sleep(clock)) as envoy:
            with pytest.raises(ValueError):
                await envoy.control.set_reserve_soc(101)
            with pytest.raises(ValueError):
                await envoy.control.set_dry_contact("NC9", "open")
            dry = await envoy.control.set_storage_mode("economy", dry_run=True)
    assert dry.outcome is Outcome.DRY_RUN and dry.request is not None
    assert writes(gw) == []


async def test_dry_contact_open_is_confirmed() -> None:
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock, sleep=sim_sleep(clock)) as envoy:
            result = await envoy.control.set_dry_contact("NC1", "open", timeout_s=120)
    assert result.outcome is Outcome.CONFIRMED

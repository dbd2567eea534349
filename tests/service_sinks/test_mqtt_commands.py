"""Commands from MQTT through the confirmed-write path, against the simulator."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from enphase_local.client import Envoy
from enphase_local.features import FEATURES, Instance, Kind, Readings, by_id, instances
from enphase_local.models.snapshot import Snapshot
from enphase_local.service.hass_entities import place
from enphase_local.service.mqtt import MqttSink
from enphase_local.service.mqtt_commands import CommandRefused, parse_command
from enphase_local.service.mqtt_payloads import encode, options
from tests.simkit import envoy_for, gateway

from .helpers import Recorder, recorder, sim_sleep, start_for_one
from .test_mqtt_discovery import names


def writes(gw: object) -> list[str]:
    return [
        e.endpoint
        for e in gw.log.entries  # type: ignore[attr-defined]
        if e.method in ("PUT", "POST", "DELETE")
    ]


ALL = ["storage_mode", "reserve_soc", "charge_from_grid", "dry_contact_*", "generator_mode"]
"""Every control but the grid relay, which a config enables only by its own name."""


async def command(rec: Recorder, base: str, serial: str, control: str, payload: str) -> Any:
    """Send one command and wait for its result (each command has exactly one)."""
    topic = f"{base}/{serial}/result/{control}"
    seen = len(rec.payloads(topic))
    await rec.client.publish(f"{base}/{serial}/set/{control}", payload.encode(), qos=1)
    # each new message wakes the wait: generous, since a loaded machine is only slower
    final = await rec.wait_for(topic, bool, within=60, after=seen)
    return orjson.loads(final)


@contextlib.asynccontextmanager
async def site(
    mqtt_url: str, base: str, preset: str
) -> AsyncIterator[tuple[Any, Envoy, Snapshot, Recorder]]:
    """A simulated `preset` gateway polled once, and a subscriber on everything under `base`.

    Polling waits move the simulated clock, so confirmation and verify delays pass at once.
    """
    async with gateway(preset) as (gw, clock):
        async with envoy_for(gw, clock, sleep=sim_sleep(clock)) as envoy:
            snap = await envoy.update()
            async with recorder(mqtt_url, f"{base}/#") as rec:
                yield gw, envoy, snap, rec


async def test_confirmed_refused_and_retained_commands(mqtt_url: str) -> None:
    base, prefix = names()
    async with site(mqtt_url, base, "battery-backup") as (gw, envoy, snap, rec):
        serial = snap.gateway.serial
        # a retained command left on the broker must not act when the sink subscribes,
        # and the sink clears it so that it cannot act anywhere later
        set_topic = f"{base}/{serial}/set/reserve_soc"
        await rec.client.publish(set_topic, b"10", retain=True, qos=1)
        await rec.wait_for(set_topic, lambda p: p == b"10")
        sink = MqttSink(
            url=mqtt_url, base=base, discovery_prefix=prefix, collector="c1", commands=ALL
        )
        hub = await start_for_one(sink, envoy, snap)
        await rec.wait_for(set_topic, lambda p: p == b"")  # cleared by the sink

        bad = await command(rec, base, serial, "reserve_soc", "150")
        assert bad["outcome"] == "refused" and "between 0 and 100" in bad["message"]
        assert writes(gw) == []  # neither the retained 10 nor the invalid 150 was sent
        barrier = f"{base}/barrier"
        async with recorder(mqtt_url, set_topic, barrier) as late:  # nothing retained is left
            await late.client.publish(barrier, b"x", qos=1)
            await late.wait_for(barrier)
            assert late.payloads(set_topic) == []

        ok = await command(rec, base, serial, "reserve_soc", "42")
        assert ok["outcome"] == "confirmed" and ok["after"] == 42.0 and ok["before"] == 20.0
        assert gw.backend.state()["reserved_soc"] == 42  # type: ignore[attr-defined]
        control = await rec.wait_json(
            f"{base}/{serial}/control", lambda d: d.get("reserve_soc") == 42.0
        )
        assert control["storage_mode"] == "self-consumption"
        assert writes(gw) == ["/admin/lib/tariff"]

        relay = await command(rec, base, serial, "dry_contact_NC1", "OFF")
        assert relay["outcome"] == "confirmed" and relay["after"] == "open"
        await rec.wait_json(f"{base}/{serial}/control", lambda d: d.get("dry_contact_NC1") == "OFF")
        for control_name, payload, why in (
            ("storage_mode", "turbo", "must be one of"),
            ("dry_contact_NX9", "ON", "unknown dry contact"),
            ("generator_mode", "on", "generator"),
            ("self_destruct", "1", "unknown control"),
        ):
            refused = await command(rec, base, serial, control_name, payload)
            assert refused["outcome"] == "refused", refused
            assert why in refused["message"], refused
        assert len(writes(gw)) == 2  # nothing more reached the gateway
        await sink.stop()
    # every outcome joins the history as a write event, refusals included
    outcomes = [(e.kind, e.message) for e in hub.events]
    assert ("write", "reserve_soc: confirmed") in outcomes
    assert ("write", "dry_contact_NC1: confirmed") in outcomes
    assert ("write", "storage_mode: refused") in outcomes
    assert all(e.serial == serial for e in hub.events)


async def test_ignored_on_firmware_that_ignores_storage_writes(mqtt_url: str) -> None:
    base, prefix = names()
    async with site(mqtt_url, base, "tariff-ignored") as (gw, envoy, snap, rec):
        serial = snap.gateway.serial
        sink = MqttSink(
            url=mqtt_url, base=base, discovery_prefix=prefix, collector="c2", commands=ALL
        )
        await start_for_one(sink, envoy, snap)
        doc = await command(rec, base, serial, "storage_mode", "backup")
        await sink.stop()
    assert doc["outcome"] == "ignored" and "app" in doc["message"].lower()
    assert doc["after"] == doc["before"] == "self-consumption"
    assert writes(gw) == ["/admin/lib/tariff"]


async def test_cloud_overwrite_is_reported_reverted(mqtt_url: str) -> None:
    base, prefix = names()
    async with site(mqtt_url, base, "cloud-overwrite") as (gw, envoy, snap, rec):
        clock = gw.backend.clock  # type: ignore[attr-defined]
        serial = snap.gateway.serial
        sink = MqttSink(
            url=mqtt_url,
            base=base,
            discovery_prefix=prefix,
            collector="c3",
            verify_after_s=120.0,  # on the simulated clock
            sleep=sim_sleep(clock),
            commands=ALL,
        )
        await start_for_one(sink, envoy, snap)
        topic = f"{base}/{serial}/result/storage_mode"
        await rec.client.publish(f"{base}/{serial}/set/storage_mode", b"backup")
        reverted = await rec.wait_json(topic, lambda d: d["outcome"] == "reverted")
        outcomes = [orjson.loads(p)["outcome"] for p in rec.payloads(topic)]
        await sink.stop()
    assert outcomes == ["confirmed", "reverted"]  # one result per command, then the re-check
    assert reverted["after"] == "self-consumption" and "app" in reverted["message"].lower()


async def test_parse_command_by_the_kind_of_control_refuses_before_anything_is_built() -> None:
    controls: dict[str, tuple[Any, Readings]] = {}
    for preset in ("generator", "battery-backup"):  # between them, every kind of control
        async with gateway(preset) as (gw, clock):
            async with envoy_for(gw, clock) as envoy:
                snap = await envoy.update()
        readings = Readings(snap)
        for inst in instances(FEATURES, readings):
            placed = place(snap.gateway.serial, inst)
            if placed.feature.writable:
                controls[placed.component] = (placed, readings)
    assert {"generator_mode", "charge_from_generator", "generator_exercise_start"} <= set(controls)

    def parse(control: str, payload: bytes) -> Any:
        placed, readings = controls[control]
        return parse_command(placed, payload, readings).value

    assert parse("reserve_soc", b" 35 ") == 35.0  # a number, in the feature's range
    assert parse("charge_from_grid", b"on") is True  # a switch
    assert parse("charge_from_generator", b"OFF") is False
    assert parse("generator_mode", b"Auto") == "auto"  # a select, from the feature's options
    assert parse("generator_exercise_start", b"06:30") == 390  # a time: minutes after midnight
    # Home Assistant's MQTT select reads "none" as no option: that option is "(none)" there
    contact = place("s", Instance(by_id("dry_contact_grid_action"), "NC1"))
    readings = next(iter(controls.values()))[1]
    assert "(none)" in options(contact.feature.options) and "none" in contact.feature.options
    assert encode(Kind.SELECT, "none") == "(none)" and encode(Kind.SELECT, "apply") == "apply"
    assert parse_command(contact, b"(none)", readings).value == "none"
    assert parse_command(contact, b"none", readings).value == "none"
    for control, payload, why in (
        ("reserve_soc", b"nan", "between 0 and 100"),
        ("reserve_soc", b"-1", "between 0 and 100"),
        ("charge_from_grid", b"maybe", "ON or OFF"),
        ("storage_mode", b"\xff\xfe", "UTF-8"),
        ("storage_mode", b"turbo", "must be one of"),
        ("generator_exercise_start", b"25:00", "HH:MM"),
    ):
        with pytest.raises(CommandRefused, match=why):
            parse(control, payload)

"""The MQTT sink against a real broker: retained discovery configs, state payloads, removal."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import uuid
from typing import Any

import orjson

from enphase_local.models.live_frame import LiveFrame
from enphase_local.service.mqtt import MqttSink
from tests.simkit import envoy_for, gateway

from .hass_schema import check
from .helpers import Recorder, TinyHub, recorder, start_for_one


def names() -> tuple[str, str]:
    """A base topic and discovery prefix of this test alone (the broker may be shared)."""
    tag = uuid.uuid4().hex[:8]
    return f"t{tag}", f"ha{tag}"


async def settle(rec: Recorder, predicate: Any, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate(rec):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the expected MQTT messages did not arrive")
        await asyncio.sleep(0.02)


def configs_of(rec: Recorder, prefix: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for topic, payload, _ in rec.messages:
        if topic.startswith(f"{prefix}/"):
            if payload:
                out[topic] = orjson.loads(payload)
            else:
                out.pop(topic, None)
    return out


async def test_retained_discovery_follows_home_assistant_schema(mqtt_url: str) -> None:
    base, prefix = names()
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
            serial = snap.gateway.serial
            sink = MqttSink(url=mqtt_url, base=base, discovery_prefix=prefix, collector="t1")
            async with recorder(mqtt_url, f"{base}/#") as live:
                await start_for_one(sink, envoy, snap)
                await live.wait_for(f"{base}/{serial}/state")
                expected = len(sink._discovery[serial])
                # a subscriber arriving later gets every config, retained
                async with recorder(mqtt_url, f"{prefix}/#") as late:
                    await settle(late, lambda r: len(configs_of(r, prefix)) == expected)
                    assert all(retain for _, _, retain in late.messages)
                    configs = configs_of(late, prefix)
            await sink.stop()

    problems = [p for topic, config in configs.items() for p in check(topic, config)]
    assert problems == []
    assert len({c["unique_id"] for c in configs.values()}) == len(configs)

    by_id = {c["unique_id"].removeprefix(f"enphase_{serial}_"): c for c in configs.values()}
    device = by_id["solar_w"]["device"]
    assert device["serial_number"] == serial == "122232000127"
    assert device["sw_version"] == "D8.3.5167" and "800-00654-r08" in device["model"]
    assert device["configuration_url"] == f"https://{gw.https_host}/"
    # the Energy dashboard's six counters, lifetime, in Wh, total_increasing
    for key in ("production_wh", "consumption_wh", "grid_import_wh", "grid_export_wh"):
        assert by_id[key]["device_class"] == "energy"
        assert by_id[key]["state_class"] == "total_increasing"
        assert by_id[key]["unit_of_measurement"] == "Wh"
    assert {"battery_charge_wh", "battery_discharge_wh"} <= by_id.keys()
    assert by_id["soc_percent"]["state_class"] == "measurement"
    assert by_id["grid_w"]["device_class"] == "power"
    # controls of this site (no generator), each with its result sensor
    assert by_id["storage_mode"]["options"] == ["backup", "self-consumption", "economy"]
    assert by_id["reserve_soc"]["command_topic"] == f"{base}/{serial}/set/reserve_soc"
    contacts = sorted(k for k in by_id if re.fullmatch(r"dry_contact_\w+?\d", k))
    assert contacts == ["dry_contact_NC1", "dry_contact_NC2", "dry_contact_NO1", "dry_contact_NO2"]
    assert "generator_mode" not in by_id and "grid_relay" in by_id
    assert by_id["storage_mode_result"]["device_class"] == "enum"
    # three battery sub-devices, 35 inverters: their entities disabled by default
    batteries = {
        c["device"]["identifiers"][0]
        for k, c in by_id.items()
        if k.startswith("battery_") and "via_device" in c["device"]
    }
    assert len(batteries) == 3
    inverters = [c for k, c in by_id.items() if k.startswith("inverter_") and k.endswith("_power")]
    assert len(inverters) == 35 and not any(c["enabled_by_default"] for c in inverters)
    assert all(c["device"]["via_device"] == f"enphase_{serial}" for c in inverters)
    assert all(
        {a["topic"] for a in c["availability"]}
        == {f"{base}/bridge/t1/availability", f"{base}/{serial}/availability"}
        for c in configs.values()
    )

    # every template reads a key that the payload on its state topic has
    for config in configs.values():
        topic = config["state_topic"]
        if "/result/" in topic:
            continue
        doc = live.last(topic)
        key = re.fullmatch(r"\{\{ value_json\.(\w+) \}\}", config["value_template"])
        assert doc is not None and key is not None and key[1] in doc, config["unique_id"]
        assert doc[key[1]] is not None, config["unique_id"]

    # payload values, checked against the snapshot's own models
    state = live.last(f"{base}/{serial}/state")
    energy = live.last(f"{base}/{serial}/energy")
    assert state["schema"] == 1 and state["source"] == "snapshot"
    assert state["solar_w"] == round(snap.production.watts, 1)  # type: ignore[union-attr]
    assert state["grid_w"] == round(snap.net_consumption.watts, 1)  # type: ignore[union-attr]
    assert energy["production_wh"] == round(snap.production.wh_lifetime, 1)  # type: ignore[union-attr,arg-type]
    net = snap.meters["net-consumption"].reading
    assert net is not None and energy["grid_import_wh"] == round(net.wh_delivered, 1)
    assert energy["grid_export_wh"] == round(net.wh_received, 1)
    assert live.last(f"{base}/{serial}/control")["reserve_soc"] == 20.0
    assert live.payloads(f"{base}/{serial}/availability") == [b"online"]
    first_inv = next(iter(snap.inverters))
    assert (
        live.last(f"{base}/{serial}/inverter/{first_inv}")["watts"]
        == snap.inverters[first_inv].watts
    )


async def test_live_frames_throttled_deduplicated_and_merged_with_energy(mqtt_url: str) -> None:
    base, prefix = names()
    now = [1000.0]
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
            serial = snap.gateway.serial
            sink = MqttSink(url=mqtt_url, base=base, discovery_prefix=prefix, collector="t2")
            sink._throttle.clock = lambda: now[0]
            sink._clock = lambda: now[0]
            async with recorder(mqtt_url, f"{base}/{serial}/state") as rec:
                await start_for_one(sink, envoy, snap)
                frame = LiveFrame(
                    taken_at=snap.taken_at,
                    source="livedata",
                    solar_watts=5000.0,
                    house_watts=1000.0,
                    grid_watts=-4000.0,
                    battery_watts=0.0,
                )
                for i in range(5):  # five frames within one second: one message
                    now[0] += 0.1
                    await sink.on_live(
                        serial, dataclasses.replace(frame, taken_at=frame.taken_at + i)
                    )
                now[0] += 1.0
                await sink.on_live(serial, dataclasses.replace(frame, taken_at=frame.taken_at + 9))
                now[0] += 1.0  # the same flows again: nothing new to say
                await sink.on_live(serial, dataclasses.replace(frame, solar_watts=5100.0))
                await rec.wait_json(f"{base}/{serial}/state", lambda d: d["solar_w"] == 5100.0)
            await sink.stop()
    docs = [orjson.loads(p) for p in rec.payloads(f"{base}/{serial}/state")]
    assert [d["source"] for d in docs] == ["snapshot", "livedata", "livedata"]
    assert [d["solar_w"] for d in docs[1:]] == [5000.0, 5100.0]
    assert docs[1]["grid_w"] == -4000.0 and docs[1]["stale"] is False
    assert docs[1]["production_wh"] == round(snap.production.wh_lifetime, 1)  # type: ignore[union-attr,arg-type]


async def test_entities_of_a_device_that_went_away_are_removed(mqtt_url: str) -> None:
    base, prefix = names()
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
            serial = snap.gateway.serial
            gone_inv = next(iter(snap.inverters))
            fewer = dataclasses.replace(
                snap, inverters={k: v for k, v in snap.inverters.items() if k != gone_inv}
            )
            sink = MqttSink(url=mqtt_url, base=base, discovery_prefix=prefix, collector="t3")
            await sink.start(TinyHub({serial: envoy}))
            await sink.wait_connected()
            gone_topic = f"{prefix}/sensor/enphase_{serial}/inverter_{gone_inv}_power/config"
            async with recorder(mqtt_url, f"{prefix}/#") as rec:
                await sink.on_snapshot(serial, snap)
                await rec.wait_for(gone_topic, bool)
                await sink.on_snapshot(serial, fewer)
                await rec.wait_for(gone_topic, lambda p: p == b"")
            async with recorder(mqtt_url, f"{prefix}/#") as late:
                expected = len(sink._discovery[serial])
                await settle(late, lambda r: len(configs_of(r, prefix)) == expected)
                assert gone_topic not in {t for t, _, _ in late.messages}
                # the whole gateway leaves: nothing retained remains
                await sink.forget(serial)
            async with recorder(mqtt_url, f"{prefix}/#", f"{base}/{serial}/#") as after:
                marker = f"{base}/{serial}/test-barrier"
                await after.barrier(marker)  # every retained message has arrived by now
                assert [t for t, p, _ in after.messages if p and t != marker] == []
            await sink.stop()

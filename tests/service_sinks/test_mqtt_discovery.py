"""The MQTT sink against a real broker: device discovery from the feature table, documents,
removal. Values are checked against the snapshot's own models (the engine's numbers)."""

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

from .hass_schema import check_device
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
        if topic.startswith(f"{prefix}/") and "barrier" not in topic:
            if payload:
                out[topic] = orjson.loads(payload)
            else:
                out.pop(topic, None)
    return out


def components(configs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every component of every device config, by unique id, with its device."""
    out: dict[str, dict[str, Any]] = {}
    for config in configs.values():
        for comp in config["cmps"].values():
            out[comp["unique_id"]] = {**comp, "dev": config["dev"]}
    return out


def template_key(config: dict[str, Any]) -> str:
    found = re.search(r"value_json\.(\w+)", config["value_template"])
    assert found is not None, config
    return found[1]


async def test_device_discovery_follows_home_assistant_schema(mqtt_url: str) -> None:
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
                placements = sink.placements(serial)
                expires = envoy.token_expires_at
                # a subscriber arriving later gets every config, retained, and every document
                async with recorder(mqtt_url, f"{prefix}/#", f"{base}/{serial}/#") as late:
                    await late.barrier(f"{base}/{serial}/test-barrier")
                    assert all(retain for t, _, retain in late.messages if "barrier" not in t)
                    configs = configs_of(late, prefix)
            await sink.stop()
    assert len(configs) == expected == 1 + 3 + 35 + 3 + 1  # gateway, CTs, inverters, batteries
    assert all(t.startswith(f"{prefix}/device/") for t in configs)
    assert [p for topic, config in configs.items() for p in check_device(topic, config)] == []
    every = components(configs)
    assert len(every) == sum(len(c["cmps"]) for c in configs.values())  # unique ids unique
    gateway_config = configs[f"{prefix}/device/enphase_{serial}/config"]
    assert gateway_config["o"]["name"] == "enphase-local" and gateway_config["o"]["support_url"]
    device = gateway_config["dev"]
    assert device["serial_number"] == serial == "122232000127"
    assert device["sw_version"] == "D8.3.5167" and "800-00654-r08" in device["model"]
    assert device["configuration_url"] == f"https://{gw.https_host}/"
    assert {a["topic"] for a in gateway_config["availability"]} == {
        f"{base}/bridge/t1/availability",
        f"{base}/{serial}/availability",
    }
    assert gateway_config["availability_mode"] == "all"

    # the entities the sink had before the feature table keep their unique ids
    by_id = {uid.removeprefix(f"enphase_{serial}_"): c for uid, c in every.items()}
    for old in ("solar_w", "house_w", "grid_w", "battery_w", "soc_percent", "storage_mode"):
        assert old in by_id, old
    assert "grid_relay" in by_id and "dry_contact_NC1" in by_id and "generator_mode" not in by_id
    # the six energy counters, lifetime, in Wh, total_increasing: the Energy dashboard's
    for key in ("grid_import_wh", "grid_export_wh", "battery_charge_wh", "battery_discharge_wh"):
        assert by_id[key]["device_class"] == "energy", key
        assert by_id[key]["state_class"] == "total_increasing", key
        assert by_id[key]["unit_of_measurement"] == "Wh", key
    assert {"energy_solar_lifetime", "house_wh", "production_wh"} <= by_id.keys()
    assert by_id["storage_mode"]["options"] == ["backup", "self-consumption", "economy"]
    assert by_id["reserve_soc"]["command_topic"] == f"{base}/{serial}/set/reserve_soc"
    assert by_id["storage_mode_result"]["device_class"] == "enum"
    # entity categories as the table says
    assert by_id["ct_voltage_net_consumption"]["entity_category"] == "diagnostic"
    for key, placed in placements.items():
        category = placed.feature.category
        if key not in by_id:  # offered only when `commands` enables it (hass_discovery.offered)
            assert placed.feature.writable and not placed.feature.enabled_by_default, key
            continue
        assert by_id[key].get("entity_category") == (category and category.value), key
    # items are devices of their own, via the gateway; 35 inverters: disabled by default
    vias = {c["dev"]["identifiers"][0]: c["dev"].get("via_device") for c in every.values()}
    assert {v for k, v in vias.items() if k != f"enphase_{serial}"} == {f"enphase_{serial}"}
    inverters = [c for k, c in by_id.items() if k.startswith("inverter_") and k.endswith("_power")]
    assert len(inverters) == 35 and not any(c.get("enabled_by_default", True) for c in inverters)
    for comp in every.values():
        assert comp["default_entity_id"] == f"{comp['p']}.{comp['object_id']}"

    # every template reads a key of the document on its state topic ...
    docs = {
        t: orjson.loads(p)
        for t, p, _ in late.messages
        if p and t.startswith(f"{base}/") and "barrier" not in t and not t.endswith("availability")
    }
    docs[f"{base}/{serial}/state"] = live.last(f"{base}/{serial}/state")
    for comp in every.values():
        if "state_topic" in comp and "/result/" not in comp["state_topic"]:
            assert template_key(comp) in docs[comp["state_topic"]], comp["unique_id"]
    # ... and the numbers are the engine's
    flow, energy = snap.power_flow, snap.energy
    assert flow is not None and energy is not None
    state = docs[f"{base}/{serial}/state"]
    assert state["schema"] == 1 and state["source"] == flow.source
    assert (state["solar_w"], state["house_w"]) == (flow.solar_watts, flow.house_watts)
    assert (state["grid_w"], state["battery_w"]) == (flow.grid_watts, flow.battery_watts)
    readings = docs[f"{base}/{serial}/energy"]
    assert readings["grid_import_wh"] == energy.lifetime_wh.grid_import
    assert readings["battery_charge_wh"] == energy.lifetime_wh.battery_charge
    assert readings["house_wh"] == energy.lifetime_wh.house
    # a counter says whether the engine derived it (shown as the entity's attribute)
    derived = "battery_charge" in energy.derived
    assert readings["battery_charge_wh_attributes"] == {"derived": derived}
    assert "battery_charge_wh_attributes" in by_id["battery_charge_wh"]["json_attributes_template"]
    assert readings["soc_percent"] == snap.battery.soc_percent  # type: ignore[union-attr]
    assert docs[f"{base}/{serial}/control"]["reserve_soc"] == 20.0
    # the session's feature: the token's days left at the time of the read
    assert expires is not None and by_id["token_days_left"]["entity_category"] == "diagnostic"
    assert readings["token_days_left"] == round((expires - snap.taken_at) / 86400, 1) > 0
    # device documents are retained: known right after a Home Assistant restart
    for inv, view in snap.inverters.items():
        assert docs[f"{base}/{serial}/inverter/{inv}"]["watts"] == view.watts
    for bat, unit in snap.battery.units.items():  # type: ignore[union-attr]
        assert docs[f"{base}/{serial}/battery/{bat}"]["soc_percent"] == unit.soc_percent


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
    assert [d["source"] for d in docs] == ["meters_readings", "livedata", "livedata"]
    assert [d["solar_w"] for d in docs[1:]] == [5000.0, 5100.0]
    assert docs[1]["grid_w"] == -4000.0 and docs[1]["stale"] is False
    assert docs[1]["production_wh"] == snap.production.wh_lifetime  # type: ignore[union-attr]


async def test_devices_that_went_away_are_removed(mqtt_url: str) -> None:
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
            gone_topic = f"{prefix}/device/enphase_{serial}_{gone_inv}/config"
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

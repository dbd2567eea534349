"""Device discovery on a real broker: the migration from per-entity configs, core entity ids,
and house power that is the engine's (not a second derivation), on simulated sites at night."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from enphase_local.service.hass_migrate import MIGRATE
from enphase_local.service.live_fallback import frame_from_snapshot
from enphase_local.service.mqtt import MqttSink
from enphase_local.simulator import PRESETS
from tests.simkit import envoy_for, gateway

from .helpers import mqtt_collect_config, recorder, start_for_one
from .test_collect_process import collect, live_gateway, process_env
from .test_mqtt_discovery import components, configs_of, names


def night(preset: str) -> float:
    """02:00 at the preset's site: no sun, the battery (if any) carries the house."""
    return datetime(2026, 6, 15, 2, tzinfo=ZoneInfo(PRESETS[preset].timezone)).timestamp()


async def test_per_entity_configs_are_migrated_in_home_assistants_order(mqtt_url: str) -> None:
    base, prefix = names()
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
            serial = snap.gateway.serial
            inverter = next(iter(snap.inverters))
            old = {  # what the collector published before device discovery
                f"{prefix}/sensor/enphase_{serial}/solar_w/config": "solar_w",
                f"{prefix}/select/enphase_{serial}/storage_mode/config": "storage_mode",
                f"{prefix}/sensor/enphase_{serial}/inverter_{inverter}_power/config": (
                    f"inverter_{inverter}_power"
                ),
            }
            other = f"{prefix}/sensor/enphase_999999999999/solar_w/config"  # not ours to move
            async with recorder(mqtt_url, f"{prefix}/#") as seed:
                for topic, key in {**old, other: "solar_w"}.items():
                    config = {"name": key, "unique_id": f"enphase_{serial}_{key}"}
                    await seed.client.publish(topic, orjson.dumps(config), qos=1, retain=True)
                await seed.barrier(f"{prefix}/seed-barrier")
            sink = MqttSink(url=mqtt_url, base=base, discovery_prefix=prefix, collector="mig")
            async with recorder(mqtt_url, f"{prefix}/#") as rec:
                await rec.barrier(f"{prefix}/start-barrier")  # the old configs have arrived
                await start_for_one(sink, envoy, snap)
                for topic in old:
                    await rec.wait_for(topic, lambda p: p == b"")
                expected = len(sink._discovery[serial])
            await sink.stop()
            async with recorder(mqtt_url, f"{prefix}/#") as late:
                await late.barrier(f"{prefix}/late-barrier")
    order = [(t, p) for t, p, _ in rec.messages if "barrier" not in t]
    device_topics = [i for i, (t, p) in enumerate(order) if "/device/" in t and p]
    assert len({order[i][0] for i in device_topics}) == expected
    for topic in old:
        sent = [(i, p) for i, (t, p) in enumerate(order) if t == topic]
        # retained old config, then migrate_discovery, then (after every device config) empty
        assert [p for _, p in sent][1:] == [MIGRATE, b""], topic
        assert sent[1][0] < min(device_topics) and max(device_topics) < sent[2][0], topic
    assert all(p != MIGRATE and p != b"" for t, p in order if t == other)
    # the broker keeps no old config, and the devices name the same unique ids
    remaining = configs_of(late, prefix)
    assert not (old.keys() & remaining.keys()) and other in remaining
    every = components({t: c for t, c in remaining.items() if "/device/" in t})
    assert {f"enphase_{serial}_{key}" for key in old.values()} <= every.keys()
    # a second start finds nothing to move: nothing is migrated again
    sink = MqttSink(url=mqtt_url, base=base, discovery_prefix=prefix, collector="mig2")
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            async with recorder(mqtt_url, f"{prefix}/#") as again:
                await start_for_one(sink, envoy, await envoy.update())
                await again.barrier(f"{prefix}/again-barrier")
            await sink.stop()
    assert not [t for t, p, retain in again.messages if p == MIGRATE]


async def test_core_entity_ids_from_the_config_file(mqtt_url: str) -> None:
    base, prefix = names()
    table = {"url": mqtt_url, "base": base, "discovery_prefix": prefix, "collector": "core"}
    with pytest.raises(ValueError, match="entity_ids must be one of native, core") as bad:
        MqttSink.from_config({**table, "entity_ids": "envoy"})
    assert "\n" not in str(bad.value)
    sink = MqttSink.from_config({**table, "entity_ids": "core"})
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
            serial = snap.gateway.serial
            async with recorder(mqtt_url, f"{prefix}/#") as rec:
                await start_for_one(sink, envoy, snap)
                await rec.barrier(f"{prefix}/barrier")
            await sink.stop()
    every = components({t: c for t, c in configs_of(rec, prefix).items() if "/device/" in t})
    ids = {c["default_entity_id"] for c in every.values()}
    assert snap.enpower is not None
    enpower = snap.enpower.serial
    inverter = next(iter(snap.inverters))
    documented = {
        f"sensor.envoy_{serial}_lifetime_energy_production",
        f"sensor.envoy_{serial}_lifetime_net_energy_consumption",
        f"sensor.envoy_{serial}_lifetime_net_energy_production",
        f"sensor.envoy_{serial}_lifetime_battery_energy_charged",
        f"sensor.envoy_{serial}_lifetime_battery_energy_discharged",
        f"sensor.envoy_{serial}_battery",
        f"number.enpower_{enpower}_reserve_battery_level",
        f"switch.enpower_{enpower}_charge_from_grid",
        f"sensor.inverter_{inverter}",
    }
    assert documented <= ids, documented - ids
    assert len(ids) == len(every)  # no two entities ask for one id
    for comp in every.values():  # older Home Assistant reads object_id
        assert comp["default_entity_id"].split(".", 1)[1] == comp["object_id"]
    # without a core counterpart an entity keeps the native id
    assert f"sensor.enphase_{serial}_house_w" in ids


@pytest.mark.parametrize("preset", ["battery-backup", "acb"])
async def test_house_power_is_the_engines_at_night(mqtt_url: str, preset: str) -> None:
    base, prefix = names()
    async with gateway(preset, start=night(preset)) as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
            serial = snap.gateway.serial
            sink = MqttSink(url=mqtt_url, base=base, discovery_prefix=prefix, collector="night")
            async with recorder(mqtt_url, f"{base}/{serial}/state") as rec:
                await start_for_one(sink, envoy, snap)
                first: dict[str, Any] = await rec.wait_json(f"{base}/{serial}/state")
                # the collector's frame for a gateway without live data: the same flows
                await sink.on_live(serial, frame_from_snapshot(snap, stale=True))
                second = await rec.wait_json(f"{base}/{serial}/state", lambda d: d["stale"])
            await sink.stop()
    flow = snap.power_flow
    assert flow is not None and flow.house_watts is not None
    assert (snap.production.watts if snap.production else 0.0) < 50  # night indeed
    assert flow.house_watts > 100  # the house draws, from the battery or the grid
    for doc in (first, second):
        assert doc["house_w"] == flow.house_watts
        assert doc["battery_w"] == flow.battery_watts
        assert doc["grid_w"] == flow.grid_watts


async def test_the_collect_process_takes_entity_ids_from_its_config(
    tmp_path: Path, mqtt_url: str
) -> None:
    """`enphase collect --config` with ``entity_ids = "core"`` in ``[sinks.mqtt]``."""
    base, prefix = names()
    async with live_gateway("battery-backup") as gw:
        sink = f'url = "{mqtt_url}"\nbase = "{base}"\ndiscovery_prefix = "{prefix}"\n'
        config = mqtt_collect_config(tmp_path, gw, sink + 'entity_ids = "core"\n')
        topic = f"{prefix}/device/enphase_{gw.serial}/config"
        async with recorder(mqtt_url, topic) as rec:
            async with collect(["--config", str(config)], process_env(tmp_path), tmp_path):
                raw = await rec.wait_for(topic, bool, 60)
    ids = {c["default_entity_id"] for c in orjson.loads(raw)["cmps"].values()}
    assert f"sensor.envoy_{gw.serial}_lifetime_energy_production" in ids
    assert any(
        i.startswith("number.enpower_") and i.endswith("_reserve_battery_level") for i in ids
    )

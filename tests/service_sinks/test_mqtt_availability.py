"""A gateway's MQTT availability follows the collector's states, not each snapshot.

It was republished ``online`` with every snapshot, and `Envoy.update()` keeps
returning snapshots of old data for a gateway that went away: Home Assistant
kept its entities available with frozen values.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from enphase_local.service.mqtt import MqttSink
from enphase_local.service.sinks import Event
from tests.simkit import envoy_for, gateway

from .helpers import recorder, start_for_one


@pytest.mark.parametrize("state", ["unreachable", "auth_failed", "certificate_changed"])
async def test_a_gateway_without_data_stays_offline_until_it_is_connected_again(
    mqtt_url: str, state: str
) -> None:
    base = f"t{uuid.uuid4().hex[:8]}"
    async with gateway("metered-split") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
            serial = snap.gateway.serial
            topic = f"{base}/{serial}/availability"
            async with recorder(mqtt_url, f"{base}/+/availability") as rec:
                sink = MqttSink(url=mqtt_url, base=base, discovery_prefix=f"{base}ha")
                await start_for_one(sink, envoy, snap)
                try:
                    await rec.wait_for(topic, lambda p: p == b"online")
                    await sink.on_event(Event(clock.now(), serial, state, "no data"))
                    await rec.wait_for(topic, lambda p: p == b"offline")
                    await sink.on_snapshot(serial, snap)  # old data, read again
                    await sink.on_event(Event(clock.now(), serial, "warning", "still old"))
                    assert sink._retained[topic] == b"offline"
                    await sink.on_event(Event(clock.now(), serial, "recovered", "answering"))
                    await rec.wait_for(topic, lambda p: p == b"online")
                    for _ in range(200):  # the broker delivers the third message in its time
                        if len(rec.payloads(topic)) >= 3:
                            break
                        await asyncio.sleep(0.05)
                    assert rec.payloads(topic)[-3:] == [b"online", b"offline", b"online"]
                finally:
                    await sink.stop()

"""The MQTT sink's connection: last will on a killed collector, reconnection after a restart."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from enphase_local.models.live_frame import LiveFrame
from enphase_local.service.mqtt import MqttSink
from enphase_local.service.mqtt_config import MqttSettings
from tests.simkit import envoy_for, gateway

from .helpers import TinyHub, recorder, start_for_one
from .services import Broker
from .test_mqtt_discovery import configs_of, names, settle

ROOT = Path(__file__).resolve().parents[2]


async def test_last_will_marks_a_killed_collector_offline(mqtt_url: str) -> None:
    base, prefix = names()
    bridge = f"{base}/bridge/killed/availability"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.service_sinks.sink_process",
        mqtt_url,
        base,
        prefix,
        "killed",
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().split()
        assert line[:1] == ["ready"], line
        serial = line[1]
        async with recorder(mqtt_url, bridge, f"{base}/{serial}/availability") as rec:
            await rec.wait_for(bridge, lambda p: p == b"online")
            proc.send_signal(signal.SIGKILL)  # no clean disconnect: the broker sends the will
            await rec.wait_for(bridge, lambda p: p == b"offline")
            assert rec.payloads(f"{base}/{serial}/availability") == [b"online"]
        async with recorder(mqtt_url, bridge) as late:  # and it stays, retained
            assert await late.wait_for(bridge) == b"offline"
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_reconnects_after_a_broker_restart_and_republishes(own_broker: Broker) -> None:
    base, prefix = names()
    url = own_broker.url
    async with gateway("metered-split") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
            serial = snap.gateway.serial
            sink = MqttSink(
                url=url,
                base=base,
                discovery_prefix=prefix,
                collector="restart",
                reconnect_base_s=0.1,
                reconnect_cap_s=0.4,
                state_interval_s=0,
            )
            await start_for_one(sink, envoy, snap)
            expected = len(sink._discovery[serial])
            own_broker.stop()  # no persistence: every retained message is gone with it
            for _ in range(200):
                if not sink.connected:
                    break
                await asyncio.sleep(0.02)
            assert not sink.connected
            dropped = sink.dropped
            frame = LiveFrame(taken_at=snap.taken_at + 5, source="livedata", solar_watts=1234.0)
            await sink.on_live(serial, frame)  # the outage window: lost, and counted
            assert sink.dropped == dropped + 1
            own_broker.start()
            await sink.wait_connected(15)
            async with recorder(url, f"{prefix}/#", f"{base}/#") as rec:
                await settle(rec, lambda r: len(configs_of(r, prefix)) == expected)
                assert await rec.wait_for(f"{base}/bridge/restart/availability") == b"online"
                assert await rec.wait_for(f"{base}/{serial}/availability") == b"online"
                energy = await rec.wait_json(f"{base}/{serial}/energy")
                assert energy["production_wh"] == snap.production.wh_lifetime  # type: ignore[union-attr]
                after = LiveFrame(taken_at=snap.taken_at + 6, source="livedata", solar_watts=999.0)
                await sink.on_live(serial, after)
                state = await rec.wait_json(
                    f"{base}/{serial}/state", lambda d: d["solar_w"] == 999.0
                )
                assert state["source"] == "livedata"
            assert sink.connections == 2
            await sink.stop()


def test_settings_from_a_toml_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MQTT_PW", "s3cret")
    s = MqttSettings.from_config(
        {"url": "mqtts://user@broker.lan", "password_env": "MQTT_PW", "collector": "pi"}
    )
    assert (s.host, s.port, s.tls) == ("broker.lan", 8883, True)
    assert s.credentials() == ("user", "s3cret")
    assert "s3cret" not in repr(s) and s.redacted_url == "mqtts://broker.lan"
    assert s.bridge_availability == "enphase/bridge/pi/availability"
    assert MqttSink.from_config({"url": "mqtt://h:1999"}).settings.port == 1999
    with pytest.raises(ValueError, match="mqtt:// or mqtts://"):
        MqttSettings(url="http://x:pw@h")
    with pytest.raises(ValueError, match="unknown MQTT setting"):
        MqttSettings.from_config({"urll": "mqtt://h"})
    with pytest.raises(ValueError, match="not set in the environment"):
        MqttSettings.from_config({"password_env": "NOPE_NOT_SET_16"})
    with pytest.raises(ValueError, match="topic prefix"):
        MqttSettings(base="a/#")
    with pytest.raises(ValueError) as err:
        MqttSettings(url="ftp://u:hunter2@h")
    assert "hunter2" not in str(err.value)


class Retries(logging.Handler):
    """Sets `reached` once the MQTT link has said "retrying" `count` times: an event to
    wait on instead of a sleep that hopes the failed attempts happened meanwhile."""

    def __init__(self, count: int) -> None:
        super().__init__(logging.DEBUG)
        self.count = count
        self.reached = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "retrying" in record.getMessage():
            self.count -= 1
            if self.count <= 0:
                self.reached.set()


async def test_waits_for_a_broker_that_is_not_up_yet(own_broker: Broker) -> None:
    base, prefix = names()
    own_broker.stop()
    sink = MqttSink(
        url=own_broker.url,
        base=base,
        discovery_prefix=prefix,
        collector="late",
        reconnect_base_s=0.1,
        reconnect_cap_s=0.3,
    )
    retries = Retries(2)
    logger = logging.getLogger("enphase_local.service.mqtt")
    level, logger.level = logger.level, logging.DEBUG  # later retries log at DEBUG
    logger.addHandler(retries)
    try:
        await sink.start(TinyHub())
        await asyncio.wait_for(retries.reached.wait(), 15)  # tried, failed, retried twice
    finally:
        logger.removeHandler(retries)
        logger.setLevel(level)
    assert not sink.connected and sink.connections == 0
    own_broker.start()
    await sink.wait_connected(15)
    async with recorder(own_broker.url, f"{base}/bridge/late/availability") as rec:
        assert await rec.wait_for(f"{base}/bridge/late/availability") == b"online"
    await sink.stop()
    async with recorder(own_broker.url, f"{base}/bridge/late/availability") as rec:
        # a clean stop says offline itself (no will is sent for a clean DISCONNECT)
        assert await rec.wait_for(f"{base}/bridge/late/availability") == b"offline"

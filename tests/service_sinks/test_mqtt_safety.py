"""Commands safe by default: off unless enabled, spaced, newest wins, retained ones ignored.

Against a real Mosquitto and the simulator; time that matters (the spacing,
the re-check after `verify_after_s`) goes through the sink's injected clock
and sleep, so nothing here races the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from enphase_local.service.mqtt import MqttSink
from enphase_local.service.mqtt_config import MqttSettings
from tests.simkit import envoy_for, gateway

from .helpers import Recorder, TinyHub, recorder, start_for_one
from .services import Broker, mosquitto_binary, wait_port
from .test_mqtt_commands import ALL, command, site, writes
from .test_mqtt_discovery import names, settle


def results(rec: Recorder, base: str, serial: str, control: str) -> list[dict[str, Any]]:
    topic = f"{base}/{serial}/result/{control}"
    return [orjson.loads(p) for p in rec.payloads(topic) if p]


async def started(
    url: str,
    names_: tuple[str, str],
    site_: tuple[Any, Any, Any, Any],
    collector: str,
    **options: Any,
) -> MqttSink:
    """An MQTT sink on `url` for the gateway of `site_`, connected, with its first snapshot."""
    (base, prefix), (_gw, envoy, snap, _rec) = names_, site_
    sink = MqttSink(url=url, base=base, discovery_prefix=prefix, collector=collector, **options)
    await start_for_one(sink, envoy, snap)
    return sink


class HeldTime:
    """A clock that stands still and a sleep that records its wait and holds until released."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.release = asyncio.Event()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await self.release.wait()
        self.now += seconds


async def test_commands_are_off_unless_the_config_names_the_control(mqtt_url: str) -> None:
    base, prefix = names()
    async with site(mqtt_url, base, "battery-backup") as (gw, envoy, snap, rec):
        serial = snap.gateway.serial
        off = MqttSink(url=mqtt_url, base=base, discovery_prefix=prefix, collector="off")
        await start_for_one(off, envoy, snap)
        for control, payload in (("reserve_soc", "55"), ("grid_relay", "OFF")):
            done = await command(rec, base, serial, control, payload)
            assert done["outcome"] == "refused" and "off in this collector" in done["message"]
        assert writes(gw) == []
        await off.stop()

        some = MqttSink(
            url=mqtt_url,
            base=base,
            discovery_prefix=prefix,
            collector="some",
            commands=["reserve_soc", "dry_contact_*"],
        )
        await start_for_one(some, envoy, snap)
        mode = await command(rec, base, serial, "storage_mode", "backup")
        assert mode["outcome"] == "refused" and "off in this collector" in mode["message"]
        relay = await command(rec, base, serial, "grid_relay", "OFF")
        assert relay["outcome"] == "refused" and relay["requested"] is None
        contact = await command(rec, base, serial, "dry_contact_NC2", "OFF")
        assert contact["outcome"] == "confirmed"
        assert writes(gw) == ["/ivp/ensemble/dry_contacts"]
        await some.stop()


async def test_made_up_gateways_and_controls_leave_nothing_retained(mqtt_url: str) -> None:
    base, prefix = names()
    async with site(mqtt_url, base, "battery-backup") as here:
        gw, _envoy, snap, rec = here
        serial = snap.gateway.serial
        sink = await started(mqtt_url, (base, prefix), here, "junk", commands=ALL)
        kept = len(sink._retained)
        made_up = [(f"9{n:011d}", "reserve_soc") for n in range(20)]
        made_up += [(serial, f"dry_contact_X{n}") for n in range(20)] + [(serial, "rm_rf")]
        for gateway_serial, control in made_up:
            done = await command(rec, base, gateway_serial, control, "ON")
            assert done["outcome"] == "refused"  # answered, once, to whoever listens now
        assert len(sink._retained) == kept  # nothing kept to republish
        assert not sink._queue._slots  # and no queue slot for made-up contacts
        topics = [f"{base}/{g}/result/{c}" for g, c in made_up]
        barrier = f"{base}/barrier"
        async with recorder(mqtt_url, f"{base}/+/result/#", barrier) as late:
            await late.client.publish(barrier, b"x", qos=1)
            await late.wait_for(barrier)
            assert [t for t, _p, _r in late.messages if t in topics] == []  # none retained
        mine = await command(rec, base, serial, "reserve_soc", "150")  # a real control: kept
        assert mine["outcome"] == "refused"
        assert f"{base}/{serial}/result/reserve_soc" in sink._retained
        await sink.stop()
    assert writes(gw) == []


def test_the_command_list_is_checked_and_the_relay_needs_its_own_name() -> None:
    assert MqttSettings().commands == ()
    s = MqttSettings.from_config({"commands": ["storage_mode", "dry_contact_*"]})
    assert s.command_enabled("storage_mode", "storage_mode")
    assert s.command_enabled("dry_contact_NO1", "dry_contact")
    # a pattern reaches only its own feature's items, never another control's
    assert not s.command_enabled("dry_contact_mode_no1", "dry_contact_mode")
    assert not s.command_enabled("grid_relay", "grid_enabled")
    assert not s.command_enabled("reserve_soc", "reserve_soc")
    assert MqttSettings(commands=("grid_relay",)).command_enabled("grid_relay", "grid_enabled")
    assert MqttSettings(commands=("grid_enabled",)).command_enabled("grid_relay", "grid_enabled")
    one = MqttSettings(commands=("dry_contact_NC1",))
    assert one.command_enabled("dry_contact_NC1", "dry_contact")
    assert not one.command_enabled("dry_contact_NO1", "dry_contact")
    for bad in (["*"], ["grid_*"], ["grid_enabled_*"], "storage_mode", ["self_destruct"], [1]):
        with pytest.raises(ValueError, match="commands"):
            MqttSettings.from_config({"commands": bad})
    with pytest.raises(ValueError, match="command_spacing_s"):
        MqttSettings(command_spacing_s=-1)


async def test_a_burst_becomes_two_spaced_writes_and_the_rest_superseded(mqtt_url: str) -> None:
    base, prefix = names()
    held = HeldTime()
    async with site(mqtt_url, base, "battery-backup") as here:
        gw, _envoy, snap, rec = here
        serial = snap.gateway.serial
        timing = {"clock": held.clock, "sleep": held.sleep, "verify_after_s": None}
        sink = await started(mqtt_url, (base, prefix), here, "burst", commands=ALL, **timing)
        topic = f"{base}/{serial}/set/reserve_soc"
        for value in range(10, 50):  # 40 commands as fast as the client sends them
            await rec.client.publish(topic, str(value).encode(), qos=1)
        # all but the newest have their result; the newest waits out the spacing
        await settle(rec, lambda r: len(results(r, base, serial, "reserve_soc")) == 39)
        assert held.slept == [10.0]  # the default spacing, from the end of the first write
        held.release.set()
        await settle(rec, lambda r: len(results(r, base, serial, "reserve_soc")) == 40)
        done = results(rec, base, serial, "reserve_soc")
        await sink.stop()
    outcomes = [d["outcome"] for d in done]
    assert outcomes.count("confirmed") == 2 and outcomes.count("superseded") == 38
    assert done[-1]["outcome"] == "confirmed" and done[-1]["requested"] == 49.0
    assert sorted(d["requested"] for d in done) == [float(v) for v in range(10, 50)]
    assert writes(gw) == ["/admin/lib/tariff"] * 2
    assert gw.backend.state()["reserved_soc"] == 49  # type: ignore[attr-defined]


async def test_a_retained_command_published_while_connected_is_ignored(mqtt_url: str) -> None:
    base, prefix = names()
    async with site(mqtt_url, base, "battery-backup") as here:
        gw, _envoy, snap, rec = here
        serial = snap.gateway.serial
        sink = await started(mqtt_url, (base, prefix), here, "ret", commands=ALL)
        assert sink._link.mqtt5  # Mosquitto 2 speaks MQTT 5: retain as published
        topic = f"{base}/{serial}/set/reserve_soc"
        await rec.client.publish(topic, b"5", qos=1, retain=True)
        await rec.wait_for(topic, lambda p: p == b"")  # the sink cleared it
        ok = await command(rec, base, serial, "reserve_soc", "35")  # and still takes commands
        assert ok["outcome"] == "confirmed"
        assert [d["requested"] for d in results(rec, base, serial, "reserve_soc")] == [35.0]
        assert writes(gw) == ["/admin/lib/tariff"]
        await sink.stop()


async def test_no_reverted_when_a_newer_command_changed_the_value(mqtt_url: str) -> None:
    base, prefix = names()
    held = HeldTime()
    async with site(mqtt_url, base, "battery-backup") as here:
        _gw, _envoy, snap, rec = here
        serial = snap.gateway.serial
        timing = {"command_spacing_s": 0, "verify_after_s": 120.0, "sleep": held.sleep}
        sink = await started(mqtt_url, (base, prefix), here, "rev", commands=ALL, **timing)
        first = await command(rec, base, serial, "reserve_soc", "30")
        second = await command(rec, base, serial, "reserve_soc", "40")
        assert (first["outcome"], second["outcome"]) == ("confirmed", "confirmed")
        await settle(rec, lambda _: held.slept == [120.0, 120.0])  # both re-checks wait
        held.release.set()
        for _ in range(500):  # the re-checks run to their end
            if not sink._queue._tasks:
                break
            await asyncio.sleep(0.01)
        assert not sink._queue._tasks
        outcomes = [d["outcome"] for d in results(rec, base, serial, "reserve_soc")]
        await sink.stop()
    assert outcomes == ["confirmed", "confirmed"]  # 30 reads 40 now: our own newer command


async def test_the_grid_relay_result_speaks_open_and_closed(mqtt_url: str) -> None:
    base, prefix = names()
    async with site(mqtt_url, base, "battery-backup") as (gw, envoy, snap, rec):
        serial = snap.gateway.serial
        sink = MqttSink(
            url=mqtt_url,
            base=base,
            discovery_prefix=prefix,
            collector="relay",
            commands=["grid_relay"],
        )
        await start_for_one(sink, envoy, snap)
        off = await command(rec, base, serial, "grid_relay", "OFF")
        await rec.wait_json(f"{base}/{serial}/control", lambda d: d.get("grid_relay") == "OFF")
        await sink.stop()
    assert off["outcome"] == "confirmed", off
    assert (off["requested"], off["before"], off["after"]) == ("open", "closed", "open")
    assert writes(gw) == ["/ivp/ensemble/relay"]


class LoggedBroker(Broker):
    """A Mosquitto whose every packet is logged, one log per start, to check the order."""

    def __init__(self, binary: str) -> None:
        super().__init__(binary)
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "log_dest stdout\nlog_type all\n"
        )
        self.logs: list[Path] = []

    def start(self) -> None:
        log = self.dir / f"broker-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.proc = subprocess.Popen([self.binary, "-c", str(self.config)], stdout=out)
        wait_port(self.port)


def _mosquitto() -> str:
    return mosquitto_binary("the broker-restart tests need their own broker")


async def _until(check: Callable[[], bool], what: str, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def across_a_restart(
    broker: LoggedBroker, collector: str, **options: Any
) -> AsyncIterator[tuple[Any, str, str, MqttSink]]:
    """A battery site's sink on `broker`, connected; then the broker stopped and started.

    Yields the simulated gateway, the base topic, the gateway's serial and the sink.
    """
    base, prefix = names()
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
            sink = MqttSink(
                url=broker.url,
                base=base,
                discovery_prefix=prefix,
                collector=collector,
                commands=ALL,
                **options,
            )
            await start_for_one(sink, envoy, snap)
            broker.stop()
            await _until(lambda: not sink.connected, "the sink did not notice the restart")
            broker.start()
            try:
                yield gw, base, snap.gateway.serial, sink
                assert sink.connected
            finally:
                await sink.stop()


async def test_after_a_broker_restart_online_comes_after_the_subscription() -> None:
    broker = LoggedBroker(_mosquitto())
    broker.start()
    try:
        fast = {"reconnect_base_s": 0.1, "reconnect_cap_s": 0.4}
        async with across_a_restart(broker, "order", **fast) as (_gw, base, serial, _sink):
            bridge = f"{base}/bridge/order/availability"
            async with recorder(broker.url, bridge, f"{base}/#") as ha:
                # Home Assistant sends a command the moment the collector is online
                await ha.wait_for(bridge, lambda p: p == b"online", within=15)
                await ha.client.publish(f"{base}/{serial}/set/reserve_soc", b"25", qos=1)
                done = await ha.wait_json(f"{base}/{serial}/result/reserve_soc")
        assert done["outcome"] == "confirmed" and done["requested"] == 25.0
        client = "enphase-local-order"
        online: int | None = None
        for _ in range(100):  # the broker's log reaches its file a moment after the delivery
            log = broker.logs[-1].read_text().splitlines()
            online = next(
                (
                    i
                    for i, line in enumerate(log)
                    if f"Received PUBLISH from {client}" in line and f"'{bridge}'" in line
                ),
                None,
            )
            if online is not None:
                break
            await asyncio.sleep(0.1)
        assert online is not None, "the broker never logged the collector's online"
        subacks = [i for i, line in enumerate(log) if f"Sending SUBACK to {client}" in line]
        assert len(subacks) == 2, subacks  # the commands and Home Assistant's status
        assert max(subacks) < online, "online was published before the subscriptions held"
    finally:
        broker.close()


async def test_a_command_sent_before_the_collector_reconnects_is_not_lost() -> None:
    """A broker with persistence restarts; Home Assistant commands before we are back."""
    broker = LoggedBroker(_mosquitto())
    store = broker.dir / "store"
    store.mkdir()
    store.chmod(0o777)  # the broker may drop to its own user
    broker.config.write_text(
        f"listener {broker.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {store}/\nlog_dest stdout\nlog_type all\n"
    )
    broker.start()
    try:
        slow = {"reconnect_base_s": 10.0, "reconnect_cap_s": 10.0}  # back after 5 s at least
        async with across_a_restart(broker, "late", **slow) as (gw, base, serial, sink):
            async with recorder(broker.url, f"{base}/#") as ha:
                await ha.client.publish(f"{base}/{serial}/set/reserve_soc", b"45", qos=1)
                assert not sink.connected  # sent while the collector was still away
                done = await ha.wait_json(f"{base}/{serial}/result/reserve_soc", within=30)
        assert done["outcome"] == "confirmed" and done["requested"] == 45.0
        assert writes(gw) == ["/admin/lib/tariff"]
    finally:
        broker.close()


def _ids_in_flight(sink: MqttSink) -> set[int]:
    """The packet ids gmqtt holds for messages the broker has not acknowledged yet."""
    used: set[int] = sink._link._client._package_handler.id_generator._used_ids
    return used


async def test_messages_lost_in_flight_do_not_block_the_next_connection() -> None:
    """MQTT 5 caps packet ids (Mosquitto: 20 in flight); ones lost with a broker must be freed."""
    broker = LoggedBroker(_mosquitto())
    broker.start()
    base, prefix = names()
    try:
        sink = MqttSink(
            url=broker.url,
            base=base,
            discovery_prefix=prefix,
            collector="ids",
            reconnect_base_s=0.1,
            reconnect_cap_s=0.4,
        )
        await sink.start(TinyHub())
        await sink.wait_connected()
        # `connected` is set once ``online`` is sent, not acknowledged: on a busy machine its
        # PUBACK is still on the way here, and stopping the broker now would keep its id taken
        # (one of the 19 below would then wait for a free id in vain). Nothing else publishes.
        await _until(lambda: not _ids_in_flight(sink), "the broker did not acknowledge online")
        assert broker.proc is not None
        broker.proc.send_signal(signal.SIGSTOP)  # no acknowledgement comes back from now on
        for n in range(19):  # every id the broker's receive maximum allows
            assert await sink._link.publish(f"{base}/x/{n}", b"1", retain=True)
        assert len(_ids_in_flight(sink)) == 19  # all taken: without freeing, nothing more goes
        broker.proc.send_signal(signal.SIGKILL)
        broker.proc.wait()
        broker.proc = None
        await _until(lambda: not sink.connected, "the sink did not notice the lost broker")
        broker.start()
        await sink.wait_connected(15)  # subscribed and online despite the 19 lost messages
        async with recorder(broker.url, f"{base}/bridge/ids/availability") as rec:
            assert await rec.wait_for(f"{base}/bridge/ids/availability") == b"online"
        await sink.stop()
    finally:
        broker.close()

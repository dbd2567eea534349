"""The MQTT sink: state, energy and devices on topics, Home Assistant discovery, commands.

Topics (docs/mqtt.md has the payloads):

    <base>/bridge/<collector>/availability   online / offline (the last will)
    <base>/<serial>/availability             online / offline (gateway reachable)
    <base>/<serial>/state                    power, SoC and energy, <= 1 per second
    <base>/<serial>/energy                   lifetime counters, at each read (retained)
    <base>/<serial>/control                  current value of every control (retained)
    <base>/<serial>/inverter/<serial>        one microinverter, when it reports
    <base>/<serial>/battery/<serial>         one battery, when it changes
    <base>/<serial>/set/<control>            commands (in)
    <base>/<serial>/result/<control>         each command's outcome (retained)

One connection per collector, so one last will: the collector's bridge topic.
Every Home Assistant entity lists it and its gateway's availability topic
(``availability_mode: all``), the arrangement zigbee2mqtt uses.

The connection itself (gmqtt, chosen by measurement: see `mqtt_link`) is
`MqttLink`; this module decides what is said on it.

While the broker is away, messages are dropped (counted in `dropped`), not
queued: on reconnect the sink republishes discovery, availability, controls
and the latest state, so only the outage window is lost.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from ..control import Outcome, WriteResult
from ..models.live_frame import LiveFrame
from ..models.snapshot import Snapshot
from .hass_discovery import HassNaming, discovery_configs
from .mqtt_commands import (
    STORAGE_CONTROLS,
    CommandRefused,
    parse_command,
    result_doc,
    run_command,
)
from .mqtt_config import MqttSettings
from .mqtt_link import MqttLink
from .mqtt_payloads import (
    ENERGY_KEYS,
    PAYLOAD_SCHEMA,
    Throttle,
    battery_payloads,
    control_payload,
    energy_payload,
    frame_power,
    inverter_payloads,
    snapshot_power,
)
from .sinks import Event, Hub

__all__ = ["MqttSink"]

_LOG = logging.getLogger("enphase_local.service.mqtt")
_LIVE_FRESH_S = 10.0  # a live frame this recent wins over the snapshot's power


class MqttSink:
    """Publishes gateways to an MQTT broker, with Home Assistant discovery (see module doc)."""

    name = "mqtt"

    def __init__(
        self,
        settings: MqttSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        **options: Any,
    ) -> None:
        self.settings = settings if settings is not None else MqttSettings(**options)
        s = self.settings
        self.naming = HassNaming(
            base=s.base,
            prefix=s.discovery_prefix,
            bridge_availability=s.bridge_availability,
            inverter_entities_limit=s.inverter_entities_limit,
        )
        self._clock = clock
        self._throttle = Throttle(s.state_interval_s, clock)
        self._hub: Hub | None = None
        self._link = MqttLink(s, on_connect=self._on_connect, on_message=self._dispatch, rng=rng)
        self._ticker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        # what a reconnect republishes, and what the next message is compared with
        self._discovery: dict[str, dict[str, dict[str, Any]]] = {}
        self._retained: dict[str, bytes] = {}
        self._available: dict[str, str] = {}
        self._energy: dict[str, dict[str, Any]] = {}
        self._power: dict[str, tuple[float, str, bool, dict[str, Any]]] = {}
        self._live_at: dict[str, float] = {}
        self._devices: dict[tuple[str, str], Any] = {}
        self.published = 0
        self.dropped = 0

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> MqttSink:
        """Build the sink from the collector's ``[sinks.mqtt]`` TOML table."""
        return cls(MqttSettings.from_config(table))

    # -- the Sink protocol --------------------------------------------------

    async def start(self, hub: Hub) -> None:
        self._hub = hub
        self._link.start()
        if self.settings.state_interval_s > 0:
            self._ticker = asyncio.create_task(self._tick(), name="mqtt-sink-throttle")

    async def on_snapshot(self, serial: str, snapshot: Snapshot) -> None:
        try:
            await self._snapshot(serial, snapshot)
        except Exception:  # one bad snapshot must not stop the collector
            _LOG.exception("MQTT: could not publish the snapshot of %s", serial)

    async def on_live(self, serial: str, frame: LiveFrame) -> None:
        try:
            self._live_at[serial] = self._clock()
            self._power[serial] = (frame.taken_at, frame.source, frame.stale, frame_power(frame))
            await self._offer_state(serial)
        except Exception:
            _LOG.exception("MQTT: could not publish a live frame of %s", serial)

    async def on_event(self, event: Event) -> None:
        if event.kind in ("unreachable", "auth_failed", "certificate_changed"):
            await self._availability(event.serial, "offline")  # no data: HA shows unavailable
        elif event.kind in ("connected", "recovered"):
            await self._availability(event.serial, "online")

    async def stop(self) -> None:
        for task in (self._ticker, *self._tasks):
            if task is not None:
                task.cancel()
        self._ticker = None
        await self._link.stop(farewell=(self.settings.bridge_availability, b"offline"))

    # -- for tests and the collector -----------------------------------------

    async def wait_connected(self, timeout_s: float = 10.0) -> None:
        """Wait until the broker connection is up (raises TimeoutError)."""
        await asyncio.wait_for(self._link.connected.wait(), timeout_s)

    @property
    def connected(self) -> bool:
        return self._link.up and self._link.connected.is_set()

    @property
    def connections(self) -> int:
        """How many times the broker connection was established (1 + reconnections)."""
        return self._link.connections

    async def forget(self, serial: str) -> None:
        """A gateway left this collector: remove its entities and retained topics."""
        for topic in self._discovery.pop(serial, {}):
            await self._publish(topic, b"", retain=True)
        for topic in [t for t in self._retained if t.startswith(f"{self.settings.base}/{serial}/")]:
            del self._retained[topic]
            await self._publish(topic, b"", retain=True)
        self._available.pop(serial, None)
        self._live_at.pop(serial, None)
        for key in [k for k in self._devices if k[0] == serial]:
            del self._devices[key]
        self._energy.pop(serial, None)
        self._power.pop(serial, None)
        self._throttle.forget(serial)

    # -- publishing ------------------------------------------------------------

    async def _publish(self, topic: str, payload: bytes, *, retain: bool = False) -> bool:
        if not self._link.connected.is_set() or not await self._link.publish(
            topic, payload, retain=retain
        ):
            self.dropped += 1
            return False
        self.published += 1
        return True

    async def _retain(
        self, topic: str, doc: Mapping[str, Any] | str, *, force: bool = False
    ) -> None:
        """Publish a retained message unless it is the one already there."""
        payload = doc.encode() if isinstance(doc, str) else orjson.dumps(doc)
        if not force and self._retained.get(topic) == payload:
            return
        self._retained[topic] = payload
        await self._publish(topic, payload, retain=True)

    async def _availability(self, serial: str, state: str) -> None:
        self._available[serial] = state
        await self._retain(self.naming.topic(serial, "availability"), state)

    async def _snapshot(self, serial: str, snapshot: Snapshot) -> None:
        if serial not in self._available:  # later changes come as the collector's events
            await self._availability(serial, "online")
        await self._discover(serial, snapshot)
        energy = energy_payload(serial, snapshot)
        self._energy[serial] = energy
        await self._retain(self.naming.topic(serial, "energy"), energy)
        await self._retain(self.naming.topic(serial, "control"), control_payload(snapshot))
        live_at = self._live_at.get(serial)
        if live_at is None or self._clock() - live_at > _LIVE_FRESH_S:
            self._power[serial] = (snapshot.taken_at, "snapshot", False, snapshot_power(snapshot))
        await self._offer_state(serial)
        for inv, doc in inverter_payloads(snapshot).items():
            key = f"inverter/{inv}"
            if self._devices.get((serial, key)) != doc["last_report"]:
                self._devices[(serial, key)] = doc["last_report"]
                await self._publish(self.naming.topic(serial, key), orjson.dumps(doc))
        for bat, doc in battery_payloads(snapshot).items():
            await self._retain(self.naming.topic(serial, f"battery/{bat}"), doc)

    async def _discover(self, serial: str, snapshot: Snapshot) -> None:
        configs = discovery_configs(self.naming, serial, snapshot, has_live=serial in self._live_at)
        old = self._discovery.get(serial, {})
        self._discovery[serial] = configs
        for topic in old.keys() - configs.keys():  # the device went away: remove its entities
            self._retained.pop(topic, None)
            await self._publish(topic, b"", retain=True)
        for topic, config in configs.items():
            await self._retain(topic, config)

    def _state_doc(self, serial: str) -> dict[str, Any] | None:
        power = self._power.get(serial)
        if power is None:
            return None
        taken_at, source, stale, values = power
        energy = self._energy.get(serial, {})
        doc: dict[str, Any] = {
            "schema": PAYLOAD_SCHEMA,
            "serial": serial,
            "taken_at": taken_at,
            "source": source,
            "stale": stale,
        }
        doc.update(values)
        doc.update({key: energy.get(key) for key in ENERGY_KEYS})
        return doc

    async def _offer_state(self, serial: str) -> None:
        doc = self._state_doc(serial)
        if doc is None:
            return
        ready = self._throttle.offer(serial, doc)
        if ready is not None:
            await self._publish(self.naming.topic(serial, "state"), orjson.dumps(ready))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.settings.state_interval_s / 2)
            for serial, doc in self._throttle.due():
                await self._publish(self.naming.topic(serial, "state"), orjson.dumps(doc))

    # -- connection ------------------------------------------------------------

    async def _on_connect(self) -> None:
        """Subscribe, and republish what a restarted broker lost (the link says online)."""
        self._link.subscribe(f"{self.settings.base}/+/set/#")
        self._link.subscribe(f"{self.settings.discovery_prefix}/status")
        for topic, payload in list(self._retained.items()):
            await self._link.publish(topic, payload, retain=True)
        for serial in list(self._power):
            doc = self._state_doc(serial)
            if doc is not None:
                await self._link.publish(self.naming.topic(serial, "state"), orjson.dumps(doc))

    def _dispatch(self, topic: str, payload: bytes, retained: bool) -> None:
        if topic == f"{self.settings.discovery_prefix}/status":
            if payload == b"online":  # Home Assistant restarted: give it the configs again
                self._spawn(self._republish_discovery())
            return
        parts = topic.removeprefix(f"{self.settings.base}/").split("/")
        if len(parts) != 3 or parts[1] != "set" or not payload:
            return  # not a command, or someone clearing a retained one
        if retained:  # a retained command would act again at every reconnect
            _LOG.warning(
                "MQTT: ignoring a retained command on %s; publish commands unretained", topic
            )
            return
        self._spawn(self._command(parts[0], parts[2], payload))

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _republish_discovery(self) -> None:
        for configs in list(self._discovery.values()):
            for topic in configs:
                if topic in self._retained:
                    await self._publish(topic, self._retained[topic], retain=True)

    # -- commands --------------------------------------------------------------

    async def _command(self, serial: str, control: str, payload: bytes) -> None:
        result_topic = self.naming.topic(serial, f"result/{control}")
        try:
            command = parse_command(control, payload)
            if self._hub is None or serial not in self._hub.serials():
                raise CommandRefused(f"gateway {serial[:20]!r} is not read by this collector")
            envoy = self._hub.envoy(serial)
        except (CommandRefused, KeyError) as err:
            message = str(err.args[0]) if err.args else str(err)
            _LOG.warning("MQTT command refused: %s", message)
            refused = result_doc(control, "refused", message)
            await self._retain(result_topic, refused, force=True)
            if self._hub is not None and serial in self._hub.serials():
                await self._record_outcome(serial, control, refused)
            return
        await self._retain(
            result_topic,
            result_doc(control, "pending", "sent", requested=command.value),
            force=True,
        )
        async with self._locks.setdefault(serial, asyncio.Lock()):
            doc, result = await run_command(envoy.control, command)
        await self._retain(result_topic, doc, force=True)
        await self._record_outcome(serial, control, doc)
        if result is None:
            return
        await self._show_value(serial, control, result)
        if (
            result.outcome is Outcome.CONFIRMED
            and control in STORAGE_CONTROLS
            and self.settings.verify_after_s
        ):
            later = await envoy.control.verify_later(result, wait_s=self.settings.verify_after_s)
            if later.outcome is Outcome.REVERTED:
                doc = result_doc(control, later.outcome.value, later.message, result=later)
                await self._retain(result_topic, doc, force=True)
                await self._record_outcome(serial, control, doc)
                await self._show_value(serial, control, later)

    async def _record_outcome(self, serial: str, control: str, doc: Mapping[str, Any]) -> None:
        """The outcome joins the history (every sink's events) as a ``write`` event."""
        if self._hub is None:
            return
        outcome = str(doc.get("outcome", "unknown"))
        detail = {k: v for k, v in doc.items() if isinstance(v, str | int | float | bool)}
        event = Event(
            at=time.time(),
            serial=serial,
            kind="write",
            message=f"{control}: {outcome}",
            detail={"control": control, **detail},
        )
        await self._hub.record(event)

    async def _show_value(self, serial: str, control: str, result: WriteResult) -> None:
        """The control's entity shows the value read back, without waiting for the next read."""
        if result.after is None:
            return
        topic = self.naming.topic(serial, "control")
        current = orjson.loads(self._retained.get(topic, b"{}"))
        value = result.after
        if control in ("grid_relay",) or control.startswith("dry_contact_"):
            value = "ON" if value == "closed" else "OFF"
        elif control == "charge_from_grid":
            value = "ON" if value else "OFF"
        current[control] = value
        await self._retain(topic, current)

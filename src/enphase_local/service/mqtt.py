"""The MQTT sink: state, energy and devices on topics, Home Assistant discovery, commands.

Topics (docs/mqtt.md has the payloads):

    <base>/bridge/<collector>/availability   online / offline (the last will)
    <base>/<serial>/availability             online / offline (gateway reachable)
    <base>/<serial>/state                    live power and every reading, <= 1 per second
    <base>/<serial>/energy                   the gateway's readings, at each read (retained)
    <base>/<serial>/control                  current value of every control (retained)
    <base>/<serial>/inverter/<serial>        one microinverter (retained)
    <base>/<serial>/battery/<serial>         one battery (retained)
    <base>/<serial>/enpower/<serial>         the system controller (retained)
    <base>/<serial>/meter/<name>             one CT meter (retained)
    <base>/<serial>/set/<control>            commands (in)
    <base>/<serial>/result/<control>         each command's outcome (retained)
    <prefix>/device/<device>/config          Home Assistant discovery, one per device

All from the feature table: `hass_entities` places each instance, `mqtt_payloads`
writes the documents, `hass_discovery` the device configs, `mqtt_commands` parses
commands; `hass_migrate` moves Home Assistant off the old per-entity configs;
`mqtt_gateway` reads each instance once per snapshot and keeps the configs
until they change.

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
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from ..control import WriteResult
from ..features import Readings
from ..models.live_frame import LiveFrame
from ..models.snapshot import Snapshot
from .hass_discovery import HassNaming
from .hass_entities import Placement
from .hass_migrate import LegacyTopics, migration_messages
from .mqtt_commands import (
    CommandRefused,
    entity_value,
    find_control,
    parse_command,
    result_doc,
    write_event,
)
from .mqtt_config import MqttSettings
from .mqtt_gateway import GatewayView
from .mqtt_link import MqttLink
from .mqtt_payloads import Throttle
from .mqtt_queue import CommandQueue
from .sinks import Event, Hub

__all__ = ["MqttSink"]

_LOG = logging.getLogger("enphase_local.service.mqtt")
_LIVE_FRESH_S = 10.0  # a live frame this recent is the live value; older: the snapshot's flow


class MqttSink:
    """Publishes gateways to an MQTT broker, with Home Assistant discovery (see module doc)."""

    name = "mqtt"

    def __init__(
        self,
        settings: MqttSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
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
            entity_ids=s.entity_ids,
        )
        self._clock = clock
        self._throttle = Throttle(s.state_interval_s, clock)
        self._hub: Hub | None = None
        self._link = MqttLink(s, on_connect=self._on_connect, on_message=self._dispatch, rng=rng)
        self._ticker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._queue = CommandQueue(
            self._report,
            spacing_s=s.command_spacing_s,
            verify_after_s=s.verify_after_s,
            clock=clock,
            sleep=sleep,
        )
        self._legacy = LegacyTopics(self.naming)
        # what a reconnect republishes, and what the next message is compared with
        self._discovery: dict[str, dict[str, dict[str, Any]]] = {}
        self._retained: dict[str, bytes] = {}
        self._available: dict[str, str] = {}
        self._readings: dict[str, Readings] = {}
        self._views: dict[str, GatewayView] = {}
        self._state: dict[str, dict[str, Any]] = {}
        self._live_at: dict[str, float] = {}
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
            if (view := self._views.get(serial)) is not None:
                view.stale()  # the configs are offered again at the next snapshot

    async def on_live(self, serial: str, frame: LiveFrame) -> None:
        try:
            self._live_at[serial] = self._clock()
            readings, view = self._readings.get(serial), self._views.get(serial)
            if readings is None or view is None:  # no flows to place before the first snapshot
                return
            readings = Readings(readings.snapshot, frame, readings.token_expires_at, readings.now)
            self._readings[serial] = readings
            self._state[serial] = view.live_state(readings, self._state.get(serial, {}))
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
        await self._queue.stop()
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

    def placements(self, serial: str) -> dict[str, Placement]:
        """The entities of one gateway as published now, by component key."""
        view = self._views.get(serial)
        return dict(view.by_component) if view is not None else {}

    async def forget(self, serial: str) -> None:
        """A gateway left this collector: remove its devices and retained topics."""
        for topic in self._discovery.pop(serial, {}):
            self._retained.pop(topic, None)
            await self._publish(topic, b"", retain=True)
        for topic in [t for t in self._retained if t.startswith(f"{self.settings.base}/{serial}/")]:
            del self._retained[topic]
            await self._publish(topic, b"", retain=True)
        for store in (self._available, self._live_at, self._readings, self._views, self._state):
            store.pop(serial, None)
        self._throttle.forget(serial)

    # -- publishing ------------------------------------------------------------

    async def _publish(self, topic: str, payload: bytes, *, retain: bool = False) -> bool:
        if not self._link.up or not await self._link.publish(topic, payload, retain=retain):
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

    def _readings_of(self, serial: str, snapshot: Snapshot) -> Readings:
        """The snapshot, with the newest live frame while it is fresh (else its own flow)."""
        live_at = self._live_at.get(serial)
        old = self._readings.get(serial)
        fresh = live_at is not None and self._clock() - live_at <= _LIVE_FRESH_S
        frame = old.frame if old is not None and fresh else None
        try:  # the token's days left, as of the read (a [[site]]'s sums have no envoy)
            expires = self._hub.envoy(serial).token_expires_at if self._hub else None
        except (KeyError, AttributeError):
            expires = None
        return Readings(snapshot, frame, token_expires_at=expires, now=snapshot.taken_at)

    async def _snapshot(self, serial: str, snapshot: Snapshot) -> None:
        if serial not in self._available:  # later changes come as the collector's events
            await self._availability(serial, "online")
        readings = self._readings_of(serial, snapshot)
        view = self._views.get(serial)
        if view is None:
            view = self._views[serial] = GatewayView(
                self.naming, serial, self.settings.command_enabled
            )
        docs, changed = view.read(readings)
        self._readings[serial] = readings
        await self._discover(serial, view.configs, changed)
        self._state[serial] = docs.pop("state")
        for leaf, doc in docs.items():
            await self._retain(self.naming.topic(serial, leaf), doc)
        await self._offer_state(serial)

    async def _discover(self, serial: str, configs: dict[str, Any], changed: bool) -> None:
        old = self._discovery.get(serial, {})
        self._discovery[serial] = configs
        legacy = await self._legacy.find(self._link, serial) if self._link.up else []
        if not changed and not legacy:  # the same configs, already retained
            return
        for topic in old.keys() - configs.keys():  # the device went away: remove it
            self._retained.pop(topic, None)
            await self._publish(topic, b"", retain=True)
        migrate, clear = migration_messages(legacy)
        for topic, payload in migrate:  # Home Assistant lets go of the old configs ...
            await self._publish(topic, payload, retain=True)
        for topic, config in configs.items():  # ... takes the devices, same unique ids ...
            await self._retain(topic, config, force=bool(legacy))  # (sent before? again)
        for topic, payload in clear:  # ... and the old topics are emptied
            await self._publish(topic, payload, retain=True)
        if legacy:
            _LOG.info("MQTT: moved %d discovery configs of %s to devices", len(legacy), serial)

    async def _offer_state(self, serial: str) -> None:
        doc = self._state.get(serial)
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
        """Subscribe (SUBACK awaited), republish what a restarted broker lost; then online.

        Commands are subscribed to even when the config enables none: each
        then gets its ``refused`` result (a Home Assistant switch flipped in
        vain says why), and a retained one is still cleared.
        """
        await self._link.subscribe(f"{self.settings.base}/+/set/#", retain_as_published=True)
        if not self._link.mqtt5 and self._link.connections == 1:  # said once, not per reconnect
            _LOG.warning(
                "MQTT: the broker speaks only MQTT 3.1.1: a command published retained while "
                "the collector is connected cannot be recognised as retained"
            )
        await self._link.subscribe(f"{self.settings.discovery_prefix}/status")
        for topic, payload in list(self._retained.items()):
            await self._link.publish(topic, payload, retain=True)
        for serial, doc in list(self._state.items()):
            await self._link.publish(self.naming.topic(serial, "state"), orjson.dumps(doc))

    def _dispatch(self, topic: str, payload: bytes, retained: bool) -> None:
        if topic == f"{self.settings.discovery_prefix}/status":
            if payload == b"online":  # Home Assistant restarted: give it the configs again
                self._spawn(self._republish_discovery())
            return
        if self._legacy.seen(topic, payload):
            return
        parts = topic.removeprefix(f"{self.settings.base}/").split("/")
        if len(parts) != 3 or parts[1] != "set" or not payload:
            return  # not a command, or someone clearing a retained one
        if retained:  # a retained command would act again at every reconnect
            _LOG.warning(
                "MQTT: ignored a retained command on %s and cleared it; publish commands "
                "unretained",
                topic,
            )
            self._spawn(self._link.publish(topic, b"", retain=True))
            return
        if not self._link.early_commands_ok:
            message = (
                "delivered from an MQTT 3.1.1 session kept while the collector was away: its age "
                "is unknown, so it was not carried out; send it again"
            )
            _LOG.warning("MQTT command on %s refused: %s", topic, message)
            refused = result_doc(parts[2], "refused", message)
            self._spawn(self._report(parts[0], parts[2], refused, None))
            return
        self._command(parts[0], parts[2], payload)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _republish_discovery(self) -> None:
        for configs in list(self._discovery.values()):
            for topic in configs:
                if topic in self._retained:
                    await self._publish(topic, self._retained[topic], retain=True)

    # -- commands --------------------------------------------------------------

    def _command(self, serial: str, control: str, payload: bytes) -> None:
        """Check one command and queue it; a refusal is its result at once (nothing is sent)."""
        try:
            if self._hub is None or serial not in self._hub.serials():
                raise CommandRefused(f"gateway {serial[:20]!r} is not read by this collector")
            target = find_control(self.placements(serial), control)
            command = parse_command(target, payload, self._readings[serial])
            if not self.settings.command_enabled(control, target.feature.id):
                raise CommandRefused(
                    f"MQTT commands for {control} are off in this collector: list it in "
                    "commands = [...] of [sinks.mqtt] to allow them"
                )
            envoy = self._hub.envoy(serial)
        except (CommandRefused, KeyError) as err:
            message = str(err.args[0]) if err.args else str(err)
            _LOG.warning("MQTT command refused: %s", message[:300])
            refused = result_doc(control, "refused", message)
            self._spawn(self._report(serial, control, refused, None))
            return
        self._queue.submit(serial, envoy.control, command)

    def _has_control(self, serial: str, control: str) -> bool:
        """Whether `control` is one of this gateway's controls."""
        if self._hub is None or serial not in self._hub.serials():
            return False
        found = self.placements(serial).get(control)
        return found is not None and found.feature.writable

    async def _report(
        self, serial: str, control: str, doc: dict[str, Any], result: WriteResult | None
    ) -> None:
        """One result: on the result topic, kept in the history, shown on the entity.

        Retained (and kept for republishing) only for a control the gateway
        has: a result for any other topic a client makes up is sent once,
        unretained, so made-up serials and controls cannot fill the broker's
        retained store or this collector's memory.
        """
        topic = self.naming.topic(serial, f"result/{control}")
        known = self._has_control(serial, control)
        if known:
            await self._retain(topic, doc, force=True)
        else:
            await self._publish(topic, orjson.dumps(doc))
        if self._hub is not None and serial in self._hub.serials():
            await self._hub.record(write_event(serial, control, doc))
        if known and result is not None and result.after is not None:
            # the control's entity shows the value read back, without waiting for the next read
            target = self._views[serial].by_component[control]
            topic = self.naming.topic(serial, target.leaf)
            current = orjson.loads(self._retained.get(topic, b"{}"))
            current[target.key] = entity_value(target.feature.kind, result.after)
            await self._retain(topic, current)

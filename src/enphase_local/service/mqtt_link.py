"""The MQTT sink's one broker connection: last will, reconnection with backoff, publishing.

Why gmqtt rather than aiomqtt: measured on the same Mosquitto with the sink's
own payload (bench/mqtt_clients.py, bench/RESULTS.md), gmqtt spends about a
tenth of aiomqtt's CPU per message (aiomqtt runs paho-mqtt's pure-Python
client under the event loop). A collector of 300 gateways publishes up to 300
state messages a second: with aiomqtt that alone costs more CPU than reading
the gateways does.

The link speaks MQTT 5 and falls back to 3.1.1 when the broker refuses 5
(gmqtt does that on CONNACK 1). Why 5: with the "retain as published"
subscription option the broker tells a retained command apart even when it is
published while we are subscribed; 3.1.1 clears the flag on such deliveries,
so there only commands delivered on subscribing can be recognised as retained.

The first connection is retried here with jittered exponential backoff;
after that gmqtt reconnects by itself, with the delay this link sets from the
same backoff at each loss. On every (re)connection `on_connect` runs first
(the sink subscribes, *waits for the broker's SUBACK*, and republishes what a
restarted broker lost); only then is the collector's availability published
``online`` and `connected` set. Why that order: a Home Assistant that sends a
command as soon as it sees ``online`` must find the subscription in place, or
the command is lost without a result. For the same reason the broker keeps
the session `session_expiry_s` (60 s) past a lost connection: commands sent
meanwhile (also across a restart of a broker with persistence) wait for us.
On MQTT 3.1.1 a session has no expiry, so what it held is of unknown age: the
sink refuses commands delivered before `connected` there (`early_commands_ok`).
The last will marks the collector offline when its connection dies without a
DISCONNECT (a killed process, a lost network).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import UNLIMITED_RECONNECTS, MQTTv50

from ..net.backoff import backoff_delay
from .mqtt_config import MqttSettings

__all__ = ["MqttLink"]

_LOG = logging.getLogger("enphase_local.service.mqtt")
_CONNECT_TIMEOUT_S = 15.0
_OVERFLOW_WAIT_S = 0.01
_OVERFLOW_TRIES = 1000  # up to 10 s for an acknowledgement to free a packet id
_SUBACK_TIMEOUT_S = 10.0


class MqttLink:
    """Connects, keeps connected, publishes; the sink decides what to say."""

    def __init__(
        self,
        settings: MqttSettings,
        *,
        on_connect: Callable[[], Awaitable[None]],
        on_message: Callable[[str, bytes, bool], None],
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.connected = asyncio.Event()
        self.connections = 0
        self._on_connect = on_connect
        self._on_message = on_message
        self._rng = rng or random.Random()
        self._client: Any = None
        self._attempt = 0
        self._starter: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._subacks: dict[int, asyncio.Future[tuple[int, ...]]] = {}

    def start(self) -> None:
        self._starter = asyncio.create_task(self._first_connection(), name="mqtt-connect")

    def _delay(self) -> float:
        s = self.settings
        delay = s.reconnect_base_s / 2 + backoff_delay(
            self._attempt, base=s.reconnect_base_s, cap=s.reconnect_cap_s, rng=self._rng
        )
        self._attempt += 1
        return delay

    def _new_client(self) -> Any:
        s = self.settings
        will = gmqtt.Message(s.bridge_availability, b"offline", qos=1, retain=True)
        # the broker keeps our session (subscriptions, QoS 1 commands) session_expiry_s past
        # a lost connection: a command sent while we reconnect waits for us instead of
        # being lost. Not a clean start even the first time: Mosquitto restores after its
        # own restart only the sessions of clients that did not ask for a clean start.
        client = gmqtt.Client(
            f"enphase-local-{s.collector}",
            clean_session=False,
            will_message=will,
            session_expiry_interval=s.session_expiry_s,
        )
        user, password = s.credentials()
        if user is not None:
            client.set_auth_credentials(user, password)
        client.set_config(
            {"reconnect_retries": UNLIMITED_RECONNECTS, "reconnect_delay": s.reconnect_base_s}
        )
        client.on_connect = self._connected_cb
        client.on_disconnect = self._disconnected_cb
        client.on_message = self._message_cb
        client.on_subscribe = self._subscribed_cb
        return client

    async def _first_connection(self) -> None:
        s = self.settings
        while True:
            client = self._new_client()
            try:
                await asyncio.wait_for(
                    client.connect(
                        s.host,
                        s.port,
                        ssl=s.tls_context() or False,
                        keepalive=s.keepalive_s,
                        version=MQTTv50,
                    ),
                    _CONNECT_TIMEOUT_S,
                )
            except (OSError, TimeoutError, gmqtt.mqtt.handler.MQTTConnectError) as err:
                level = logging.WARNING if self._attempt == 0 else logging.DEBUG
                why = str(err) or type(err).__name__
                _LOG.log(level, "MQTT broker %s: %s; retrying", s.redacted_url, why)
                with contextlib.suppress(Exception):
                    await client.disconnect()
                await asyncio.sleep(self._delay())
                continue
            self._client = client
            return

    # -- gmqtt callbacks (plain functions, called from its protocol) --------------------

    def _connected_cb(self, client: Any, flags: Any, rc: Any, properties: Any) -> None:
        _forget_packet_ids(client)
        self._client = client
        self._attempt = 0
        self.connections += 1
        self._spawn(self._after_connect(client))

    async def _after_connect(self, client: Any) -> None:
        """Subscribe and republish, then say online; retried (with backoff) while connected."""
        while True:
            try:
                await self._on_connect()  # subscribes and waits for the SUBACK: then online
                if await self.publish(self.settings.bridge_availability, b"online", retain=True):
                    break
                raise ConnectionError("could not publish online")
            except Exception as err:
                _LOG.warning("MQTT: setting up the connection failed: %s; retrying", err)
                _LOG.debug("MQTT: setting up the connection failed", exc_info=True)
            await asyncio.sleep(self._delay())
            if not client.is_connected or client is not self._client:
                return  # lost meanwhile: the next connection sets itself up
        self.connected.set()
        _LOG.info("MQTT: connected to %s", self.settings.redacted_url)

    def _disconnected_cb(self, client: Any, packet: Any, exc: Any = None) -> None:
        if self.connected.is_set():
            _LOG.warning("MQTT: lost the broker %s; reconnecting", self.settings.redacted_url)
        self.connected.clear()
        for waiter in self._subacks.values():
            if not waiter.done():
                waiter.set_exception(ConnectionError("lost the broker before its SUBACK"))
        self._subacks.clear()
        client.reconnect_delay = self._delay()

    def _subscribed_cb(self, client: Any, mid: int, granted: Any, properties: Any) -> None:
        waiter = self._subacks.pop(mid, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(tuple(int(q) for q in granted))

    def _message_cb(self, client: Any, topic: str, payload: bytes, qos: int, props: Any) -> int:
        retain = bool(props.get("retain")) if isinstance(props, dict) else False
        self._on_message(topic, payload if isinstance(payload, bytes) else b"", retain)
        return 0

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- for the sink ---------------------------------------------------------------------

    @property
    def up(self) -> bool:
        client = self._client
        return client is not None and bool(client.is_connected)

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> bool:
        """Queue one message on the connection; False when there is none (the message is lost)."""
        client = self._client
        for _ in range(_OVERFLOW_TRIES):  # MQTT 5: at most the broker's receive maximum in flight
            if client is None or not client.is_connected:
                return False
            try:
                client.publish(topic, payload, qos=1 if retain else 0, retain=retain)
            except OverflowError:  # every packet id in flight: let acknowledgements come
                await asyncio.sleep(_OVERFLOW_WAIT_S)
                continue
            return True
        return False

    @property
    def mqtt5(self) -> bool:
        """True when the broker accepted MQTT 5 on this connection (else 3.1.1)."""
        state = getattr(self._client, "_connection_state", None)
        return bool(getattr(state, "protocol_version", 0) == MQTTv50)

    @property
    def early_commands_ok(self) -> bool:
        """Whether a command delivered before `connected` (from the stored session) may act.

        On MQTT 5 the session lived at most ``session_expiry_s``; on 3.1.1 it
        may be days old, and an old relay command must not act now.
        """
        return self.connected.is_set() or self.mqtt5

    async def subscribe(self, topic: str, *, retain_as_published: bool = False) -> bool:
        """Subscribe (QoS 1) and wait for the broker's SUBACK; False when it refused.

        `retain_as_published` (MQTT 5 only; 3.1.1 reserves those bits) keeps
        the publisher's retain flag on live deliveries.
        """
        client = self._client
        if client is None or not client.is_connected:
            raise ConnectionError("no broker connection to subscribe on")
        v5 = self.mqtt5
        sub = gmqtt.Subscription(
            topic, qos=1, no_local=v5, retain_as_published=retain_as_published and v5
        )
        client.subscriptions = [s for s in client.subscriptions if s.topic != topic]
        waiter: asyncio.Future[tuple[int, ...]] = asyncio.get_running_loop().create_future()
        for _ in range(int(_SUBACK_TIMEOUT_S / _OVERFLOW_WAIT_S)):
            try:
                mid = client.subscribe(sub)
                break
            except OverflowError:  # every packet id in flight: let acknowledgements come
                client.subscriptions = [s for s in client.subscriptions if s.topic != topic]
                await asyncio.sleep(_OVERFLOW_WAIT_S)
        else:
            raise ConnectionError(f"no packet id free to subscribe to {topic}")
        self._subacks[mid] = waiter
        try:
            granted = await asyncio.wait_for(waiter, _SUBACK_TIMEOUT_S)
        finally:
            self._subacks.pop(mid, None)
        if any(q >= 0x80 for q in granted):
            _LOG.warning("MQTT: the broker refused the subscription to %s (check its ACL)", topic)
            return False
        return True

    async def stop(self, farewell: tuple[str, bytes] | None = None) -> None:
        """Say `farewell` (retained) and disconnect cleanly: the broker then sends no will."""
        if self._starter is not None:
            self._starter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starter
        for task in list(self._tasks):
            task.cancel()
        client, self._client = self._client, None
        self.connected.clear()
        if client is None:
            return
        if farewell is not None and client.is_connected:
            client.publish(farewell[0], farewell[1], qos=1, retain=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.disconnect(), 5)


def _forget_packet_ids(client: Any) -> None:
    """Free the packet ids no acknowledgement will come for, at each connection.

    gmqtt frees an id on its PUBACK/SUBACK only, and on reconnecting resends
    just the messages it stored (none when the broker kept no session for us).
    Every other id still taken belongs to a packet lost with the old
    connection, and MQTT 5's receive maximum (20 on Mosquitto) caps the ids: a
    few lost per restart, and soon no publish or subscribe gets an id at all.
    """
    handler = getattr(client, "_package_handler", None)
    used = getattr(getattr(handler, "id_generator", None), "_used_ids", None)
    storage = getattr(client, "_persistent_storage", None)
    if isinstance(used, set) and storage is not None:
        used.intersection_update(mid for mid, _package in storage.get_all())

"""Helpers for the sink tests: an MQTT recorder, a tiny Hub, a simulated-clock sleep."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiomqtt
import orjson

from enphase_local.client import Envoy
from enphase_local.models.snapshot import Snapshot
from enphase_local.service.mqtt import MqttSink
from enphase_local.service.sinks import Event
from enphase_local.simulator.clock import SimClock


class TinyHub:
    """The `Hub` of a test: the envoys it was given, by serial."""

    def __init__(self, envoys: dict[str, Envoy] | None = None) -> None:
        self.envoys = envoys or {}
        self.events: list[Event] = []

    def serials(self) -> tuple[str, ...]:
        return tuple(self.envoys)

    def envoy(self, serial: str) -> Envoy:
        return self.envoys[serial]

    async def record(self, event: Event) -> None:
        self.events.append(event)


async def start_for_one(sink: MqttSink, envoy: Envoy, snap: Snapshot) -> TinyHub:
    """Start `sink` for one gateway, wait for its broker, hand it the gateway's first snapshot.

    Returns the hub, which keeps the events the sink recorded (write outcomes).
    """
    serial = snap.gateway.serial
    hub = TinyHub({serial: envoy})
    await sink.start(hub)
    await sink.wait_connected()
    await sink.on_snapshot(serial, snap)
    return hub


def sim_sleep(clock: SimClock) -> Callable[[float], Any]:
    """Polling waits move the simulated clock instead of real time."""

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    return sleep


class Recorder:
    """Every message on the subscribed topics, in order, with the retain flag."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.messages: list[tuple[str, bytes, bool]] = []
        self._changed = asyncio.Condition()

    async def _pump(self) -> None:
        async for message in self.client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else b""
            async with self._changed:
                self.messages.append((str(message.topic), payload, bool(message.retain)))
                self._changed.notify_all()

    def payloads(self, topic: str) -> list[bytes]:
        return [p for t, p, _ in self.messages if t == topic]

    def last(self, topic: str) -> Any:
        found = self.payloads(topic)
        return orjson.loads(found[-1]) if found and found[-1] else None

    async def wait_for(
        self,
        topic: str,
        predicate: Callable[[bytes], bool] = lambda _: True,
        within: float = 10.0,
        *,
        after: int = 0,
    ) -> bytes:
        """The newest payload on `topic` (past its first `after`) that `predicate` accepts,
        waited for message by message, at most `within` seconds."""

        async def find() -> bytes:
            async with self._changed:
                while True:
                    for p in reversed(self.payloads(topic)[after:]):
                        if predicate(p):
                            return p
                    await self._changed.wait()

        return await asyncio.wait_for(find(), within)

    async def barrier(self, topic: str) -> None:
        """Publish a marker on `topic` (one we subscribed to) and wait for it to come back.

        The broker sends a subscriber's messages in order, retained ones first: once the
        marker arrives, everything retained that was there to send has arrived, with no
        sleep guessing how long that takes. The marker is not retained: nothing is left.
        """
        await self.client.publish(topic, b"barrier", qos=1)
        await self.wait_for(topic, lambda p: p == b"barrier")

    async def wait_json(
        self, topic: str, predicate: Callable[[Any], bool] = lambda _: True, within: float = 10.0
    ) -> Any:
        raw = await self.wait_for(topic, lambda p: bool(p) and predicate(orjson.loads(p)), within)
        return orjson.loads(raw)


@contextlib.asynccontextmanager
async def recorder(url: str, *topics: str, **options: Any) -> AsyncIterator[Recorder]:
    """A subscriber on `topics` (retained messages included) for the duration of a test.

    `options` go to `aiomqtt.Client` (``username``, ``password``, ``tls_context``).
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 1883
    async with aiomqtt.Client(host, port, **options) as client:
        rec = Recorder(client)
        for topic in topics:
            await client.subscribe(topic, qos=1)
        task = asyncio.create_task(rec._pump())
        try:
            yield rec
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await task


def mqtt_collect_config(tmp_path: Path, gw: Any, mqtt: str) -> Path:
    """An ``enphase collect`` config file (0600) reading `gw` every second, with the
    ``[sinks.mqtt]`` table `mqtt` (its lines, ``url`` first)."""
    config = tmp_path / "collect.toml"
    config.write_text(
        f'[collect]\ninterval = 1\nport = 0\ndb = "{tmp_path / "h.db"}"\n\n'
        f'[[gateway]]\nname = "house"\nhost = "{gw.https_host}"\n'
        f'token = "{gw.owner_token()}"\ntoken_store = "{tmp_path / "tokens.json"}"\n\n'
        f"[sinks.mqtt]\n{mqtt}"
    )
    config.chmod(0o600)
    return config

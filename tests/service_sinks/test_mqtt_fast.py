"""The sink's once-per-snapshot path (`mqtt_gateway`) says exactly what the pure functions say.

`GatewayView` reads each instance once, keeps placements and discovery configs
between snapshots: these tests compare its output, byte for byte, with
`published` / `device_configs` / `documents` (the reference, each instance read
on its own) on every simulator preset and every real capture, over several
snapshots and live frames; and check that the kept configs are rebuilt when
what they say changes (firmware, inventory) and that an unchanged snapshot
puts nothing new on the broker.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import orjson
import pytest

from enphase_local.features import Readings
from enphase_local.models.snapshot import Snapshot
from enphase_local.service.hass_discovery import HassNaming, device_configs, published
from enphase_local.service.mqtt import MqttSink
from enphase_local.service.mqtt_gateway import GatewayView
from enphase_local.service.mqtt_payloads import Throttle, documents
from enphase_local.simulator.site.presets import PRESETS
from tests.simkit import envoy_for, gateway
from tests.support import REAL, real_folders

from .helpers import recorder, start_for_one

NAMINGS = (HassNaming(), HassNaming(entity_ids="core", inverter_entities_limit=2))


async def _snapshots(preset: str | None = None, folder: str | None = None) -> list[Snapshot]:
    """Three reads a simulated minute apart, the second a full one (every section)."""
    place = REAL / folder if folder else None
    out = []
    async with gateway(preset, folder=place) as (gw, clock), envoy_for(gw, clock) as envoy:
        for i in range(3):
            out.append(await envoy.update(full=i == 1))
            clock.advance(60.0)
    return out


def _bytes(value: Any) -> bytes:
    return orjson.dumps(value)


def _reference_live(serial: str, readings: Readings, last: dict[str, Any]) -> dict[str, Any]:
    """The state after a live frame as the sink made it before `GatewayView`."""
    live = [p for p in published(serial, readings) if p.leaf == "state"]
    state = documents(serial, readings, live)["state"]
    for key, value in last.items():
        state.setdefault(key, value)
    return state


def _compare(snaps: list[Snapshot]) -> None:
    serial = snaps[0].gateway.serial
    for naming in NAMINGS:
        view = GatewayView(naming, serial)
        for snap in [*snaps, snaps[-1]]:
            readings = Readings(snap, None, now=snap.taken_at)
            docs, _ = view.read(readings)
            placed = published(serial, readings)
            assert _bytes(docs) == _bytes(documents(serial, readings, placed))
            assert _bytes(view.configs) == _bytes(device_configs(naming, serial, readings, placed))
            assert view.by_component == {p.component: p for p in placed}
            flow = snap.power_flow
            if flow is None:
                continue
            last, ours = docs["state"], docs["state"]
            for i in range(2):  # two frames: the first after the snapshot, one after a frame
                frame = dataclasses.replace(
                    flow, taken_at=snap.taken_at + i + 1, solar_watts=7.0 + i
                )
                live = Readings(snap, frame, now=snap.taken_at)
                ours = view.live_state(live, ours)
                last = _reference_live(serial, live, last)
                assert _bytes(ours) == _bytes(last)


@pytest.mark.parametrize("preset", list(PRESETS))
async def test_the_view_is_the_pure_functions_on_every_preset(preset: str) -> None:
    _compare(await _snapshots(preset))


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/fixtures/real is absent")
async def test_the_view_is_the_pure_functions_on_every_real_capture() -> None:
    for folder in real_folders():
        _compare(await _snapshots(folder=folder))


async def test_configs_are_rebuilt_when_firmware_or_inventory_change() -> None:
    snap = (await _snapshots("battery-backup"))[1]
    serial = snap.gateway.serial
    naming = HassNaming()
    view = GatewayView(naming, serial)
    assert view.read(Readings(snap))[1]
    kept = view.configs
    later = dataclasses.replace(snap, taken_at=snap.taken_at + 60)
    assert not view.read(Readings(later))[1]
    assert view.configs is kept  # not built again
    upgraded = dataclasses.replace(
        later, gateway=dataclasses.replace(snap.gateway, firmware="9.9.9")
    )
    assert view.read(Readings(upgraded))[1]
    dev = view.configs[naming.device_topic(f"enphase_{serial}")]["dev"]
    assert dev["sw_version"] == "9.9.9"
    gone = next(iter(snap.inverters))
    fewer = dataclasses.replace(
        upgraded, inverters={k: v for k, v in snap.inverters.items() if k != gone}
    )
    assert view.read(Readings(fewer))[1]
    assert naming.device_topic(f"enphase_{serial}_{gone}") not in view.configs
    placed = published(serial, Readings(fewer))
    assert _bytes(view.configs) == _bytes(device_configs(naming, serial, Readings(fewer), placed))


async def test_an_unchanged_snapshot_publishes_nothing_new(mqtt_url: str) -> None:
    tag = uuid.uuid4().hex[:8]
    base, prefix = f"t{tag}", f"ha{tag}"
    async with gateway("battery-backup") as (gw, clock), envoy_for(gw, clock) as envoy:
        snap = await envoy.update()
        serial = snap.gateway.serial
        sink = MqttSink(url=mqtt_url, base=base, discovery_prefix=prefix, collector="t1")
        async with recorder(mqtt_url, f"{base}/#", f"{prefix}/#") as rec:
            await start_for_one(sink, envoy, snap)
            await rec.wait_for(f"{base}/{serial}/state")
            sent, configs = sink.published, sink._discovery[serial]
            await sink.on_snapshot(serial, snap)
            assert sink.published == sent and sink.dropped == 0
            assert sink._discovery[serial] is configs  # not built again
            # a marker on the sink's own connection, after anything the snapshot sent
            await sink._link.publish(f"{base}/{serial}/marker", b"end", retain=False)
            await rec.wait_for(f"{base}/{serial}/marker")
            seen = len(rec.messages)
            await sink.on_snapshot(serial, snap)
            await sink._link.publish(f"{base}/{serial}/marker", b"end2", retain=False)
            await rec.wait_for(f"{base}/{serial}/marker", lambda p: p == b"end2")
            assert [t for t, _, _ in rec.messages[seen:]] == [f"{base}/{serial}/marker"]
        await sink.stop()


async def test_configs_are_offered_again_after_a_snapshot_failed_to_publish() -> None:
    """A snapshot whose discovery failed half way must not leave the configs unsent:
    the next snapshot, though nothing in it changed, offers them again."""
    snap = (await _snapshots("battery-backup"))[0]
    serial = snap.gateway.serial
    sink = MqttSink(state_interval_s=0)  # no broker: what would be sent stays in `_retained`
    real = sink._retain
    calls = 0

    async def fails_once(topic: str, doc: Any, *, force: bool = False) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:  # availability, then the first config, then: the broker link broke
            raise ConnectionError("injected")
        await real(topic, doc, force=force)

    sink._retain = fails_once  # type: ignore[method-assign]
    await sink.on_snapshot(serial, snap)
    assert calls == 3
    await sink.on_snapshot(serial, snap)
    configs = sink._discovery[serial]
    assert configs and all(topic in sink._retained for topic in configs)


def test_the_throttle_compares_without_the_time_and_leaves_documents_as_they_were() -> None:
    now = [0.0]
    throttle = Throttle(1.0, lambda: now[0])
    first = {"schema": 1, "taken_at": 1.0, "solar_w": 5}
    assert throttle.offer("g", first) is first
    now[0] = 5.0
    again = {"schema": 1, "taken_at": 2.0, "solar_w": 5}
    assert throttle.offer("g", again) is None  # only the time differs: not sent
    assert list(again.items()) == [("schema", 1), ("taken_at", 2.0), ("solar_w", 5)]
    assert first["taken_at"] == 1.0
    changed = {"schema": 1, "taken_at": 3.0, "solar_w": 6}
    assert throttle.offer("g", changed) == {"schema": 1, "taken_at": 3.0, "solar_w": 6}
    untimed = {"schema": 1, "solar_w": 6}  # no time on one side: compared without it
    assert throttle.offer("g", untimed) is None
    now[0] = 10.0
    assert throttle.offer("g", {"schema": 1, "solar_w": 6, "extra": 1}) is not None

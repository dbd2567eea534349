"""A collector stand-in for the last-will test: one simulated gateway, the MQTT sink, forever.

    python -m tests.service_sinks.sink_process URL BASE PREFIX COLLECTOR

Prints ``ready`` once the first snapshot is published, then waits to be killed.
"""

from __future__ import annotations

import asyncio
import sys

from enphase_local.service.mqtt import MqttSink
from tests.simkit import envoy_for, gateway

from .helpers import TinyHub


async def main(url: str, base: str, prefix: str, collector: str) -> None:
    async with gateway("metered-split") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
            sink = MqttSink(url=url, base=base, discovery_prefix=prefix, collector=collector)
            await sink.start(TinyHub({snap.gateway.serial: envoy}))
            await sink.wait_connected()
            await sink.on_snapshot(snap.gateway.serial, snap)
            print("ready", snap.gateway.serial, flush=True)
            await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))

"""A site's sums in the MQTT sink (a Home Assistant device of its own) and the InfluxDB sink."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import orjson

from enphase_local.models.snapshot import Snapshot
from enphase_local.service.influx import InfluxSink
from enphase_local.service.mqtt import MqttSink
from enphase_local.service.postgres import PostgresSink
from enphase_local.service.site_sum import sum_snapshots
from tests.simkit import envoy_for, gateway

from .hass_schema import check
from .helpers import TinyHub, recorder
from .influx_server import InfluxServer


async def two_gateways() -> dict[str, Snapshot]:
    snaps: dict[str, Snapshot] = {}
    for preset, seed in (("battery-backup", 1), ("metered-split", 2)):
        async with gateway(preset, seed=seed) as (gw, clock):
            async with envoy_for(gw, clock) as envoy:
                snap = await envoy.update()
                snaps[snap.gateway.serial] = snap
    return snaps


async def test_the_site_is_a_home_assistant_device_with_summed_values(mqtt_url: str) -> None:
    snaps = await two_gateways()
    site = sum_snapshots("house", snaps)
    tag = uuid.uuid4().hex[:8]
    base, prefix = f"t{tag}", f"ha{tag}"
    sink = MqttSink(url=mqtt_url, base=base, discovery_prefix=prefix, collector="site")
    async with recorder(mqtt_url, f"{base}/#", f"{prefix}/#") as rec:
        await sink.start(TinyHub())
        await sink.wait_connected()
        await sink.on_snapshot("site-house", site)
        energy = await rec.wait_json(f"{base}/site-house/energy")
        await rec.wait_for(f"{base}/site-house/availability", lambda p: p == b"online")
        await asyncio.sleep(0)  # let the retained configs arrive
        await sink.stop()
    configs = {
        t: orjson.loads(p)
        for t, p, _r in rec.messages
        if t.startswith(f"{prefix}/") and p and "site-house" in t
    }
    assert configs, "no discovery config for the site"
    assert [p for t, c in configs.items() for p in check(t, c)] == []
    device = next(iter(configs.values()))["device"]
    assert device["identifiers"] == ["enphase_site-house"]
    # a sum, said so; no address of its own (not a URL made of its members' serials)
    assert device["model"] == f"Sum of 2 gateways ({', '.join(sorted(snaps))})"
    assert "configuration_url" not in device and "sw_version" not in device
    # only the sums: the members' batteries, inverters and controls stay on their own devices
    assert all(c["device"] == device for c in configs.values())
    objects = {t.split("/")[-2] for t in configs}
    assert {"production_wh", "solar_w", "battery_charge_wh", "soc_percent"} <= objects
    assert not [
        o
        for o in objects
        if o.startswith(("battery_", "inverter_", "reserve_soc"))
        and o not in ("battery_w", "battery_charge_wh", "battery_discharge_wh")
    ]
    assert site.production is not None
    wanted = sum(s.production.wh_lifetime or 0 for s in snaps.values() if s.production)
    assert abs(energy["production_wh"] - wanted) < 0.1  # the payload's rounding


async def test_the_site_and_its_gateways_are_tagged_in_influx(influx_server: InfluxServer) -> None:
    snaps = await two_gateways()
    sink = InfluxSink(url=influx_server.url, database="sites")
    sink.use_sites({**dict.fromkeys(snaps, "house"), "site-house": "house"})
    await sink.start(TinyHub())
    for serial, snap in snaps.items():
        await sink.on_snapshot(serial, snap)
    await sink.on_snapshot("site-house", sum_snapshots("house", snaps))
    assert await sink.flush()
    await sink.stop()
    rows = influx_server.query(
        "sites",
        "SELECT solar_lifetime_wh FROM enphase_energy "
        "WHERE site = 'house' AND phase = 'total' GROUP BY serial",
    )
    by_serial = {r["serial"]: r["solar_lifetime_wh"] for r in rows}
    assert set(by_serial) == {*snaps, "site-house"}
    parts = sum(v for k, v in by_serial.items() if k != "site-house")
    assert abs(by_serial["site-house"] - parts) < 1e-6


async def test_the_site_is_a_gateway_of_the_postgres_history(pg_dsn: str) -> None:
    snaps = await two_gateways()
    site = sum_snapshots("house", snaps)
    sink = PostgresSink(dsn=pg_dsn, collector="sites")
    await sink.start(TinyHub())
    for serial, snap in snaps.items():
        await sink.on_snapshot(serial, snap)
    await sink.on_snapshot("site-house", site)
    await sink.flush()
    await sink.stop()
    conn = await asyncpg.connect(pg_dsn)
    try:
        rows = await conn.fetch(
            "SELECT serial, wh_lifetime FROM energy_counters "
            "WHERE flow = 'production' AND phase = ''"
        )
        hosts = await conn.fetch("SELECT serial, host FROM gateways ORDER BY serial")
    finally:
        await conn.close()
    by_serial = {r["serial"]: r["wh_lifetime"] for r in rows}
    assert set(by_serial) == {*snaps, "site-house"}
    parts = sum(v for k, v in by_serial.items() if k != "site-house")
    assert abs(by_serial["site-house"] - parts) < 1e-6
    assert {r["serial"]: r["host"] for r in hosts}["site-house"] == "+".join(sorted(snaps))

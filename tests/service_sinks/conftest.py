"""Fixtures: a real MQTT broker and a real PostgreSQL server (see services.py)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from .influx_server import InfluxServer, find_influxd
from .services import Broker, PgCluster, find_pg_bin, unavailable


def _start_mosquitto(missing: str) -> Broker:
    """A Mosquitto of our own, started; `missing` is the skip (or CI failure) reason."""
    binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
    if binary is None:
        unavailable(missing)
    assert binary is not None
    broker = Broker(binary)
    broker.start()
    return broker


@pytest.fixture(scope="session")
def mqtt_url() -> Iterator[str]:
    """A broker URL: ENPHASE_TEST_MQTT_URL, or a Mosquitto of our own for the session."""
    named = os.environ.get("ENPHASE_TEST_MQTT_URL")
    if named:
        yield named
        return
    broker = _start_mosquitto("no MQTT broker: install mosquitto or set ENPHASE_TEST_MQTT_URL")
    yield broker.url
    broker.close()


@pytest.fixture
def own_broker() -> Iterator[Broker]:
    """A Mosquitto this test may stop and restart (never the machine's own broker)."""
    broker = _start_mosquitto(
        "mosquitto is not installed: the broker-restart test needs its own broker"
    )
    yield broker
    broker.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL DSN: ENPHASE_TEST_POSTGRES_DSN, or a cluster of our own for the session."""
    named = os.environ.get("ENPHASE_TEST_POSTGRES_DSN")
    if named:
        yield named
        return
    bin_dir = find_pg_bin()
    if bin_dir is None:
        unavailable("no PostgreSQL: install postgresql or set ENPHASE_TEST_POSTGRES_DSN")
    assert bin_dir is not None
    cluster = PgCluster(bin_dir)
    try:
        cluster.start()
    except (RuntimeError, OSError) as err:
        cluster.close()
        unavailable(f"could not start a PostgreSQL cluster: {err}")
    yield cluster.dsn
    cluster.close()


@pytest.fixture
async def pg_dsn(pg_server: str) -> AsyncIterator[str]:
    """A fresh, empty database of this test alone on the session's server."""
    import asyncpg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    parts = urlsplit(pg_server)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
def influx_server() -> Iterator[InfluxServer]:
    """A real InfluxDB 1.x of this test alone (``influxd`` on free ports), started."""
    binary = find_influxd()
    if binary is None:
        unavailable("no InfluxDB: install the influxdb package (influxd)")
    assert binary is not None
    server = InfluxServer(binary)
    try:
        server.start()
    except (RuntimeError, OSError) as err:
        server.close()
        unavailable(f"could not start influxd: {err}")
    yield server
    server.close()

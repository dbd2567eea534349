"""The PostgreSQL sink against a real server: rows, idempotence, migrations, ownership, outages."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import logging

import asyncpg
import pytest

from enphase_local.models.live_frame import LiveFrame
from enphase_local.service.postgres import PostgresSettings, PostgresSink
from enphase_local.service.postgres_schema import SCHEMA_VERSION, TABLES
from enphase_local.service.sinks import Event
from tests.simkit import envoy_for, gateway

from .helpers import TinyHub


async def read_site(preset: str, updates: int, *, step_s: float = 60.0) -> list:  # type: ignore[type-arg]
    """`updates` snapshots of one simulated gateway, `step_s` simulated seconds apart."""
    snaps = []
    async with gateway(preset) as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            for _ in range(updates):
                snaps.append(await envoy.update())
                clock.advance(step_s)
    return snaps


def frames(snapshot, count: int) -> list[LiveFrame]:  # type: ignore[no-untyped-def]
    return [
        LiveFrame(
            taken_at=snapshot.taken_at + i,
            source="livedata",
            solar_watts=4000.0 + i,
            house_watts=800.0,
            grid_watts=-3200.0 - i,
            battery_watts=0.0,
        )
        for i in range(count)
    ]


async def feed(sink: PostgresSink, snaps: list, live: int = 0) -> None:  # type: ignore[type-arg]
    for snap in snaps:
        serial = snap.gateway.serial
        await sink.on_snapshot(serial, snap)
        for frame in frames(snap, live):
            await sink.on_live(serial, frame)
    await sink.flush()


async def counts(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
    finally:
        await conn.close()


async def test_history_rows_are_written_once_even_after_a_restart(pg_dsn: str) -> None:
    snaps = await read_site("battery-backup", 3)
    serial = snaps[0].gateway.serial
    sink = PostgresSink(dsn=pg_dsn, collector="a", live_interval_s=5.0)
    await sink.start(TinyHub())
    await feed(sink, snaps, live=12)  # 12 frames a second apart: rows at 0, 5 and 10 s
    await sink.on_event(Event(at=snaps[0].taken_at, serial=serial, kind="connected", message="up"))
    await sink.stop()
    first = await counts(pg_dsn)
    assert first["gateways"] == 1
    assert first["power_samples"] == 3 * 3
    assert first["inverter_reports"] == 35 * len(
        {s.inverters[next(iter(s.inverters))].last_report for s in snaps}
    )
    assert first["battery_samples"] == 3 * 4  # the bank and three units, per read
    # "connected", and the site's zone the history counts its days in (issue 23)
    assert first["events"] == 2 and first["energy_counters"] > 0

    # a restarted collector (new memory) sends the same samples again: nothing doubles
    again = PostgresSink(dsn=pg_dsn, collector="a", live_interval_s=5.0)
    await again.start(TinyHub())
    await feed(again, snaps, live=12)
    await again.on_event(Event(at=snaps[0].taken_at, serial=serial, kind="connected", message="up"))
    await again.stop()
    assert await counts(pg_dsn) == first

    conn = await asyncpg.connect(pg_dsn)
    try:
        row = await conn.fetchrow(
            "SELECT wh_lifetime, extract(epoch FROM at) AS at FROM energy_counters "
            "WHERE serial = $1 AND flow = 'production' AND phase = '' ORDER BY at LIMIT 1",
            serial,
        )
        assert row["wh_lifetime"] == snaps[0].production.wh_lifetime
        assert float(row["at"]) == snaps[0].taken_at
        dupes = await conn.fetchval(
            "SELECT count(*) FROM (SELECT serial, at, phase FROM power_samples "
            "GROUP BY 1, 2, 3 HAVING count(*) > 1) d"
        )
        assert dupes == 0
        owner = await conn.fetchrow("SELECT collector, firmware FROM gateways")
        assert dict(owner) == {"collector": "a", "firmware": "D8.3.5167"}
    finally:
        await conn.close()


async def test_collectors_starting_together_migrate_once(pg_dsn: str) -> None:
    sinks = [PostgresSink(dsn=pg_dsn, collector=f"c{i}") for i in range(3)]
    await asyncio.gather(*(s.start(TinyHub()) for s in sinks))
    for s in sinks:
        assert s.timescale is False  # no TimescaleDB on this server: plain tables
        await s.stop()
    conn = await asyncpg.connect(pg_dsn)
    try:
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_version")]
        assert versions == list(range(1, SCHEMA_VERSION + 1))  # each migration once
        indexes = {r["indexname"] for r in await conn.fetch("SELECT indexname FROM pg_indexes")}
        assert {"power_samples_by_time", "inverter_reports_by_time"} <= indexes
        await conn.execute("INSERT INTO schema_version VALUES (99)")
    finally:
        await conn.close()
    newer = PostgresSink(dsn=pg_dsn, collector="old")
    with pytest.raises(ConnectionError, match="newer than this"):
        await newer.start(TinyHub())


async def test_each_collector_owns_its_gateways(
    pg_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    mine = await read_site("metered-split", 1)
    theirs = await read_site("battery-backup", 1)
    a = PostgresSink(dsn=pg_dsn, collector="a")
    b = PostgresSink(dsn=pg_dsn, collector="b")
    await a.start(TinyHub())
    await b.start(TinyHub())
    await feed(a, theirs, live=1)
    with caplog.at_level(logging.WARNING, "enphase_local.service.postgres"):
        later = [dataclasses.replace(s, taken_at=s.taken_at + 60) for s in theirs]
        await feed(b, mine + later, live=1)  # b was wrongly given a's gateway too
    await a.stop()
    await b.stop()
    assert "written by another collector" in caplog.text
    conn = await asyncpg.connect(pg_dsn)
    try:
        owners = dict(await conn.fetch("SELECT serial, collector FROM gateways ORDER BY 1"))
        by_serial = dict(
            await conn.fetch("SELECT serial, count(*) FROM power_samples GROUP BY 1 ORDER BY 1")
        )
    finally:
        await conn.close()
    assert owners == {theirs[0].gateway.serial: "a", mine[0].gateway.serial: "b"}
    assert by_serial == {theirs[0].gateway.serial: 1, mine[0].gateway.serial: 1}


async def test_rows_wait_while_the_database_refuses_connections(
    pg_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="enphase_local.service.postgres")
    snaps = await read_site("metered-split", 2)
    sink = PostgresSink(dsn=pg_dsn, collector="a", flush_interval_s=0.05)
    await sink.start(TinyHub())
    await sink.on_snapshot(snaps[0].gateway.serial, snaps[0])
    await sink.flush()
    name = pg_dsn.rsplit("/", 1)[1]
    admin = await asyncpg.connect(pg_dsn.rsplit("/", 1)[0] + "/postgres")
    try:  # the database goes away for the sink: no connection allowed, existing ones cut
        await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await sink.on_snapshot(snaps[1].gateway.serial, snaps[1])
        for _ in range(600):  # up to 30 s: a loaded machine is slow to refuse
            if sink.failures >= 2:
                break
            await asyncio.sleep(0.05)
        assert sink.failures >= 2 and sink.pending > 0  # the writes failed; the rows wait
        await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    finally:
        await admin.close()
    for _ in range(300):  # retried with backoff (the first retry within about a second)
        if sink.pending == 0:
            break
        await asyncio.sleep(0.05)
    await sink.stop()
    assert sink.pending == 0 and sink.dropped == 0
    assert (await counts(pg_dsn))["power_samples"] == 2
    # the outage: one line when it starts, one when it ends, no traceback
    ours = [r for r in caplog.records if r.name.startswith("enphase_local")]
    lines = [r.getMessage() for r in ours]
    assert len([m for m in lines if "cannot write" in m]) == 1, lines
    assert len([m for m in lines if "writing again" in m]) == 1, lines
    assert not any(r.exc_info for r in ours)


def test_settings_from_a_toml_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PG_DSN_16", "postgresql://u:pw@db/enphase")
    s = PostgresSettings.from_config({"dsn_env": "PG_DSN_16", "collector": "pi"})
    assert s.dsn.endswith("/enphase") and "pw" not in repr(s)
    assert PostgresSink.from_config({"dsn": "postgresql://db/x"}).settings.collector
    with pytest.raises(ValueError, match="unknown PostgreSQL setting"):
        PostgresSettings.from_config({"dns": "postgresql://db"})
    with pytest.raises(ValueError, match="postgresql://"):
        PostgresSettings(dsn="mysql://db")


async def test_the_migrated_database_has_the_sqlite_history_columns(pg_dsn: str) -> None:
    """The PostgreSQL DDL is written apart from the SQLite one (migrations stay frozen): the
    tables it really creates must hold every column of the shared table list, in order."""
    sink = PostgresSink(dsn=pg_dsn, collector="schema")
    await sink.start(TinyHub())
    await sink.stop()
    sqlite = importlib.import_module("enphase_local.service.history_schema")
    conn = await asyncpg.connect(pg_dsn)
    try:
        for table, columns in sqlite.TABLES.items():
            if table == "progress":  # SQLite's job watermarks; PostgreSQL's folding is an upsert
                continue
            rows = await conn.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = $1 ORDER BY ordinal_position",
                table,
            )
            real = [r["column_name"] for r in rows]
            assert real, f"PostgreSQL has no table {table}"
            assert [c for c in real if c in columns] == list(columns), table
    finally:
        await conn.close()


async def test_start_refuses_an_unreachable_database_with_advice() -> None:
    sink = PostgresSink(dsn="postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(ConnectionError, match="check the dsn") as info:
        await sink.start(TinyHub())
    assert "Error" not in str(info.value)  # no exception class name, a sentence


async def test_minutes_are_folded_and_samples_trimmed_to_the_live_window(pg_dsn: str) -> None:
    """As the SQLite history: 1-minute min/mean/max for ever, samples for the live window."""
    start = 1_781_546_400.0  # a whole minute
    sink = PostgresSink(dsn=pg_dsn, collector="a", live_interval_s=1.0, keep_live_days=120 / 86_400)
    await sink.start(TinyHub())
    solar = [100.0 * (i + 1) for i in range(30)]  # one sample every 10 s for 5 minutes
    for i, watts in enumerate(solar):
        frame = LiveFrame(
            taken_at=start + 10 * i, source="livedata", solar_watts=watts, house_watts=50.0
        )
        await sink.on_live("SER1", frame)
    await sink.flush()
    await sink.stop()
    conn = await asyncpg.connect(pg_dsn)
    try:
        minutes = await conn.fetch(
            "SELECT extract(epoch FROM minute) AS m, samples, solar_min, solar_mean, solar_max,"
            " house_mean FROM power_minutes WHERE serial = 'SER1' AND phase = '' ORDER BY minute"
        )
        kept = await conn.fetchval("SELECT count(*) FROM power_samples WHERE serial = 'SER1'")
    finally:
        await conn.close()
    # the last minute (4) is not whole yet: minutes 0..3 are folded, six samples each
    assert [float(r["m"]) for r in minutes] == [start + 60 * k for k in range(4)]
    for k, row in enumerate(minutes):
        values = solar[6 * k : 6 * k + 6]
        assert row["samples"] == 6
        assert (row["solar_min"], row["solar_max"]) == (min(values), max(values))
        assert row["solar_mean"] == pytest.approx(sum(values) / 6)
        assert row["house_mean"] == pytest.approx(50.0)
    # newest sample at +290 s, window 120 s: samples before +170 s are gone (folded first)
    assert kept == sum(1 for i in range(30) if 10 * i >= 170)

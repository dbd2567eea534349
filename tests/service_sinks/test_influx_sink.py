"""The InfluxDB sink against a real InfluxDB 1.6 (``influxd`` of the test's own, on free ports).

Points are queried back with InfluxQL and compared with the snapshots the
simulated gateway gave; the server is stopped and restarted while points
keep coming, and nothing within the buffer is lost.
"""

from __future__ import annotations

import logging

import pytest

from enphase_local.models.live_frame import LiveFrame, LivePhase
from enphase_local.service.influx import InfluxSink
from enphase_local.service.sinks import Event

from .helpers import TinyHub
from .influx_server import InfluxServer
from .test_postgres_sink import read_site


def frame(at: float, solar: float) -> LiveFrame:
    return LiveFrame(
        taken_at=at,
        source="livedata",
        solar_watts=solar,
        house_watts=900.0,
        grid_watts=900.0 - solar,
        battery_watts=0.0,
        soc_percent=55.0,
        phases={"L1": LivePhase(solar_watts=solar / 2, house_watts=450.0)},
    )


async def test_snapshots_frames_and_events_come_back_equal(influx_server: InfluxServer) -> None:
    snaps = await read_site("battery-backup", 3)
    serial = snaps[0].gateway.serial
    sink = InfluxSink.from_config({"url": f"{influx_server.url}/?db=solar"})
    await sink.start(TinyHub())
    for snap in snaps:
        await sink.on_snapshot(serial, snap)
    base = snaps[0].taken_at
    for i in range(30):  # one a second: thinned to one every 10 s
        await sink.on_live(serial, frame(base + i, 3000.0 + i))
    await sink.on_event(Event(at=base, serial=serial, kind="connected", message='a "b", c=d'))
    assert await sink.flush()
    await sink.stop()
    assert sink.written > 0 and sink.dropped == 0 and sink.rejected == 0

    energy = influx_server.query("solar", "SELECT * FROM enphase_energy WHERE phase = 'total'")
    assert [r["time"] for r in energy] == [int(s.taken_at) for s in snaps]
    for row, snap in zip(energy, snaps, strict=True):
        assert snap.energy is not None  # the six flows (engine.energy), as written
        for flow in ("solar", "house", "grid_import", "grid_export", "battery_charge"):
            assert row.get(f"{flow}_lifetime_wh") == snap.energy.lifetime_wh.get(flow), flow
            assert row.get(f"{flow}_today_wh") == snap.energy.today_wh.get(flow), flow
        assert snap.production is not None
        assert row["solar_lifetime_wh"] == snap.production.wh_lifetime
        assert row["serial"] == serial and row["site"] == serial
    power = influx_server.query("solar", "SELECT * FROM enphase_power WHERE phase = 'total'")
    assert [(r["time"], r["solar_w"]) for r in power] == [
        (int(base), 3000.0),
        (int(base) + 10, 3010.0),
        (int(base) + 20, 3020.0),
    ]
    assert power[0]["grid_w"] == -2100.0 and power[0]["soc_pct"] == 55.0
    l1 = influx_server.query("solar", "SELECT solar_w FROM enphase_power WHERE phase = 'L1'")
    assert [r["solar_w"] for r in l1] == [1500.0, 1505.0, 1510.0]
    battery = influx_server.query("solar", "SELECT * FROM enphase_battery WHERE unit = 'bank'")
    assert snaps[-1].battery is not None
    assert battery[-1]["soc_pct"] == snaps[-1].battery.soc_percent
    assert len(battery) == len(snaps)
    inverters = influx_server.query("solar", "SELECT * FROM enphase_inverter")
    reports = {(s, v.last_report, v.watts) for snap in snaps for s, v in snap.inverters.items()}
    assert {(r["inverter"], r["time"], r["watts_w"]) for r in inverters} == reports
    events = influx_server.query("solar", "SELECT * FROM enphase_event")
    assert [(e["kind"], e["message"]) for e in events] == [("connected", 'a "b", c=d')]


async def test_the_server_restarts_mid_run_and_nothing_is_lost(
    influx_server: InfluxServer, caplog: pytest.LogCaptureFixture
) -> None:
    sink = InfluxSink(url=influx_server.url, database="restart", live_interval_s=0.0)
    await sink.start(TinyHub())
    base = 1_781_546_400.0
    for i in range(100):
        await sink.on_live("S1", frame(base + i, float(i)))
    assert await sink.flush()
    influx_server.stop()
    caplog.set_level(logging.WARNING, "enphase_local.service.influx")
    for i in range(100, 400):
        await sink.on_live("S1", frame(base + i, float(i)))
    assert not await sink.flush()  # away: kept
    assert not await sink.flush()
    assert sink.pending == 600 and sink.failures == 2
    outage = [r.getMessage() for r in caplog.records]
    assert len(outage) == 1 and "unreachable" in outage[0] and "600 points kept" in outage[0]
    influx_server.start()
    for i in range(400, 450):
        await sink.on_live("S1", frame(base + i, float(i)))
    assert await sink.flush()
    assert "writing again" in caplog.records[-1].getMessage()
    await sink.stop()
    rows = influx_server.query("restart", "SELECT solar_w FROM enphase_power WHERE phase='total'")
    assert [r["solar_w"] for r in rows] == [float(i) for i in range(450)]
    assert sink.dropped == 0


async def test_a_full_buffer_drops_the_oldest_and_counts_them(influx_server: InfluxServer) -> None:
    sink = InfluxSink(
        url=influx_server.url,
        database="full",
        live_interval_s=0.0,
        max_buffer_lines=50,
        batch_lines=50,
    )
    await sink.start(TinyHub())
    influx_server.stop()
    base = 1_781_546_400.0
    for i in range(80):
        await sink.on_live("S1", LiveFrame(taken_at=base + i, source="livedata", solar_watts=i))
    assert sink.pending == 50 and sink.dropped == 30
    influx_server.start()
    assert await sink.flush()
    await sink.stop()
    rows = influx_server.query("full", "SELECT solar_w FROM enphase_power")
    assert [r["solar_w"] for r in rows] == [float(i) for i in range(30, 80)]


async def test_a_batch_the_server_refuses_is_dropped_with_one_line(
    influx_server: InfluxServer, caplog: pytest.LogCaptureFixture
) -> None:
    sink = InfluxSink(url=influx_server.url, database="bad", live_interval_s=0.0)
    await sink.start(TinyHub())
    await sink.on_event(Event(at=1_781_546_400.0, serial="S1", kind="warning", message="text"))
    assert await sink.flush()
    # the same field as a number now: InfluxDB refuses the type conflict (400)
    # with a good point in the same batch: 1.x writes it and says how many it dropped
    sink._add(
        [
            "enphase_event,kind=warning,serial=S1,site=S1 message=1.0 1781546401",
            'enphase_event,kind=warning,serial=S1,site=S1 message="fine" 1781546402',
        ]
    )
    caplog.set_level(logging.ERROR, "enphase_local.service.influx")
    assert await sink.flush()
    assert sink.rejected == 1 and sink.pending == 0
    (record,) = caplog.records
    assert "HTTP 400" in record.getMessage() and "\n" not in record.getMessage()
    await sink.stop()
    rows = influx_server.query("bad", "SELECT message FROM enphase_event")
    assert [r["message"] for r in rows] == ["text", "fine"]

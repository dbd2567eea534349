"""docs/evcc.md's recipe, checked: evcc's jq paths on the collector's MQTT state give the meters.

The YAML block of docs/evcc.md is read (a small reader for its plain
``key: value`` shape: no YAML library is needed for it), the MQTT sink
publishes a simulated gateway's snapshot and a live frame to a real
Mosquitto broker, and each meter's ``jq`` is run with the real ``jq``
program on the last message of the topic it names, ``scale`` applied, as
evcc's mqtt plugin does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson

from enphase_local.models.live_frame import LiveFrame
from enphase_local.service.mqtt import MqttSink
from tests.simkit import envoy_for, gateway

from .helpers import mqtt_collect_config, recorder, start_for_one
from .services import unavailable
from .test_collect_process import collect, live_gateway, process_env

DOC = Path(__file__).resolve().parents[2] / "docs" / "evcc.md"
DOC_SERIAL = "122232000127"


def evcc_meters() -> dict[str, dict[str, dict[str, str]]]:
    """meter name -> reading (power, energy, soc) -> its plugin settings, from the doc."""
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- evcc.yaml -->")[1].split("<!-- /evcc.yaml -->")[0]
    meters: dict[str, dict[str, dict[str, str]]] = {}
    meter: dict[str, dict[str, str]] | None = None
    reading: dict[str, str] | None = None
    in_meters = False
    for line in block.splitlines():
        if re.match(r"^\S", line):
            in_meters = line.startswith("meters:")
            continue
        if not in_meters or not line.strip() or line.strip().startswith("```"):
            continue
        if m := re.match(r"^  - name: (\S+)$", line):
            meter = meters.setdefault(m.group(1), {})
        elif m := re.match(r"^    (\w+):$", line):
            assert meter is not None
            reading = meter.setdefault(m.group(1), {})
        elif m := re.match(r"^      (\w+): (.+)$", line):
            assert reading is not None
            reading[m.group(1)] = m.group(2)
    return meters


def evaluate(jq: str, settings: dict[str, str], payload: bytes) -> float:
    """What evcc reads: ``jq`` on the payload, times ``scale``."""
    done = subprocess.run(
        [jq, "-c", settings["jq"]], input=payload, capture_output=True, check=True, timeout=10
    )
    value = orjson.loads(done.stdout)
    assert isinstance(value, int | float), f"{settings['jq']} gave {value!r}"
    return float(value) * float(settings.get("scale", "1"))


async def test_the_documented_evcc_meters_read_the_collector(mqtt_url: str) -> None:
    jq = shutil.which("jq")
    if jq is None:
        unavailable("no jq program: install jq (.ci/services.sh does)")
    assert jq is not None
    meters = evcc_meters()
    assert set(meters) == {"enphase_grid", "enphase_pv", "enphase_battery"}
    assert set(meters["enphase_battery"]) == {"power", "soc"}
    async with gateway("battery-backup") as (gw, clock):
        async with envoy_for(gw, clock) as envoy:
            snap = await envoy.update()
            serial = snap.gateway.serial
            sink = MqttSink(url=mqtt_url, base="enphase", collector="evcc-test")
            frame = LiveFrame(
                taken_at=snap.taken_at + 1,
                source="livedata",
                solar_watts=4012.5,
                house_watts=812.0,
                grid_watts=-3150.5,
                battery_watts=-50.0,
                soc_percent=55.0,
            )
            async with recorder(mqtt_url, f"enphase/{serial}/#") as rec:
                await start_for_one(sink, envoy, snap)
                await sink.on_live(serial, frame)
                state = f"enphase/{serial}/state"
                await rec.wait_json(state, lambda d: d.get("source") == "livedata")
                await sink.stop()
    payloads: dict[str, bytes] = {}
    for topic, payload, _retain in rec.messages:
        payloads[topic] = payload  # the last message of each topic, as evcc keeps it
    got: dict[tuple[str, str], float] = {}
    for name, readings in meters.items():
        for what, settings in readings.items():
            assert settings["source"] == "mqtt" and settings["timeout"] == "2m"
            topic = settings["topic"].replace(DOC_SERIAL, serial)
            got[(name, what)] = evaluate(jq, settings, payloads[topic])
    assert snap.production is not None
    energy: dict[str, Any] = orjson.loads(payloads[f"enphase/{serial}/energy"])
    assert got == {
        ("enphase_grid", "power"): -3150.5,
        ("enphase_grid", "energy"): energy["grid_import_wh"] / 1000,
        ("enphase_pv", "power"): 4012.5,
        ("enphase_pv", "energy"): energy["production_wh"] / 1000,
        ("enphase_battery", "power"): -50.0,
        # the battery level entity's value: the snapshot's SoC (the feature table's), not the
        # frame's copy of it
        ("enphase_battery", "soc"): snap.battery.soc_percent,  # type: ignore[union-attr]
    }
    assert got[("enphase_grid", "energy")] > 0
    assert snap.production.wh_lifetime is not None
    assert abs(energy["production_wh"] - snap.production.wh_lifetime) < 0.01  # rounded, not other


async def test_the_recipe_reads_the_real_collect_process(tmp_path: Path, mqtt_url: str) -> None:
    """`enphase collect --config` with the doc's step 1 ([sinks.mqtt], base ``enphase``)."""
    jq = shutil.which("jq")
    if jq is None:
        unavailable("no jq program: install jq (.ci/services.sh does)")
    assert jq is not None
    async with live_gateway("battery-backup") as gw:
        config = mqtt_collect_config(tmp_path, gw, f'url = "{mqtt_url}"\n')
        state = f"enphase/{gw.serial}/state"
        async with recorder(mqtt_url, state) as rec:
            run = collect(["--config", str(config)], process_env(tmp_path), tmp_path)
            async with run as (_proc, _url, _lines):
                await rec.wait_json(state, lambda d: d.get("grid_import_wh") is not None, 60)
    payload = rec.payloads(state)[-1]
    for name, readings in evcc_meters().items():
        for what, settings in readings.items():
            assert settings["topic"].replace(DOC_SERIAL, gw.serial) == state
            value = evaluate(jq, settings, payload)  # a number, never null
            if what == "soc":
                assert 0 <= value <= 100, (name, value)
            if what == "energy":
                assert value > 0, (name, value)

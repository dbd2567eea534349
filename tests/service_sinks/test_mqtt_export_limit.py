"""Zero export over MQTT, end to end: real `enphase simulate`, `enphase token`, `enphase collect`.

The recipe of docs/export-limit.md ("With MQTT") run as a user would: the
simulator's ``export-limit`` preset as its own process, the installer token
from its Entrez portal through `enphase token --installer` into a token file,
the collector with the doc's ``[sinks.mqtt]`` table against a Mosquitto of
this test, and the doc's own ``mosquitto_pub`` lines as the commands. The
gateway's side is read from the simulator itself: its DPEL setting over its
API and its request log over its control endpoint.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shlex
import shutil
import sys
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from enphase_local.control.export_limit import SWITCH_WARNING
from enphase_local.service.mqtt import MqttSink
from enphase_local.simulator import SimClock, SimulatedGateway, SiteBackend
from enphase_local.simulator.site.config import SiteConfig
from enphase_local.simulator.site.presets import PRESETS
from tests.sim.test_simulate_cmd import Running, start
from tests.simkit import envoy_for

from .helpers import recorder, start_for_one
from .services import Broker, own_broker
from .test_collect_process import collect, process_env

DOC = Path(__file__).parents[2] / "docs" / "export-limit.md"
SERIAL = "122313005528"  # the export-limit preset's gateway, the serial the doc uses
SUNNY = 1_781_517_600.0  # 12:00 in Amsterdam, 15 June: the simulated site exports before any limit
WHY = "the MQTT export-limit recipe runs against a real broker"
AUTOMATION = "mqtt-automation"
MQTT_IDS = r"`((?:number|switch|sensor)\.enphase_(?!gateway_)\w+)`"  # not the native integration's
CONTROLS = {"export_limit_watts": "number", "export_limiting": "switch", "production": "switch"}


def doc_block(name: str) -> str:
    """The fenced block between ``<!-- name -->`` and ``<!-- /name -->`` in the doc."""
    text = DOC.read_text()
    found = re.search(rf"<!-- {name} -->\n```\w*\n(.*?)```\n<!-- /{name} -->", text, re.S)
    assert found, f"docs/export-limit.md has no {name} block"
    return found.group(1)


def doc_sink(url: str) -> str:
    """The doc's ``[sinks.mqtt]`` table, pointed at `url`, as TOML lines."""
    table = tomllib.loads(doc_block("mqtt-collect"))["sinks"]["mqtt"]
    table["url"] = url
    return "".join(f"{k} = {orjson.dumps(v).decode()}\n" for k, v in table.items())


def doc_commands(port: int) -> list[list[str]]:
    """The doc's ``mosquitto_pub`` lines, sent to the test's broker."""
    lines = [ln for ln in doc_block("mqtt-pub").splitlines() if ln.startswith("mosquitto_pub")]
    return [
        [*shlex.split(ln.replace("-h broker.lan", f"-h 127.0.0.1 -p {port}")), "-q", "1"]
        for ln in lines
    ]


@asynccontextmanager
async def simulator() -> AsyncIterator[tuple[Running, str]]:
    """`enphase simulate --preset export-limit` at a sunny moment, and its control URL."""
    sim = await start("--preset", "export-limit", "--latency", "none")
    try:
        control = re.search(r"control: (http://\S+/__sim__/)", sim.text)
        assert control, sim.text
        await sim_call(control.group(1), "clock", {"set": SUNNY})
        yield sim, control.group(1)
    finally:
        await sim.stop()


async def sim_call(control: str, leaf: str, body: dict[str, Any] | None = None) -> Any:
    async with aiohttp.ClientSession() as session:
        if body is None:
            async with session.get(control + leaf) as resp:
                return await resp.json()
        async with session.post(control + leaf, json=body) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.read()


def writes(log: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["method"], e["path"]) for e in log["entries"] if e["method"] != "GET"]


async def dpel(https: str, token: str) -> dict[str, Any]:
    """The simulated gateway's DPEL setting, read from its own API."""
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{https}/ivp/ss/dpel", headers=headers, ssl=False) as resp:
            assert resp.status == 200, await resp.text()
            return dict(await resp.json(content_type=None))


async def installer_token(sim: Running, tmp_path: Path) -> tuple[Path, str]:
    """`enphase token --installer ... --print --no-store > file` as the doc says, from Entrez."""
    entrez = re.search(r"entrez (http://\S+)", sim.text)
    assert entrez, sim.text
    enphase = Path(sys.executable).with_name("enphase")
    program = [str(enphase)] if enphase.is_file() else [sys.executable, "-m", "enphase_local"]
    env = process_env(
        tmp_path, ENPHASE_ENTREZ_URL=entrez.group(1), ENPHASE_PASSWORD="installer-password"
    )
    proc = await asyncio.create_subprocess_exec(
        *program,
        *("token", "--installer", sim.url("https"), "-u", "installer@example.com"),
        *("--print", "--no-store"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    token = out.decode().strip()
    file = tmp_path / "installer.jwt"
    file.write_text(token + "\n")
    file.chmod(0o600)
    return file, token


def collect_config(tmp_path: Path, https: str, token_line: str, sink: str) -> Path:
    config = tmp_path / "collect.toml"
    config.write_text(
        f'[collect]\ninterval = 2\nport = 0\ndb = "{tmp_path / "h.db"}"\n\n'
        f'[[gateway]]\nhost = "{https}"\n{token_line}\n'
        f'token_store = "{tmp_path / "tokens.json"}"\n\n[sinks.mqtt]\n{sink}'
    )
    config.chmod(0o600)
    return config


async def publish(argv: list[str]) -> None:
    proc = await asyncio.create_subprocess_exec(*argv, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()


def switch_off(clear: list[str], control: str) -> list[str]:
    """The doc's OFF line for another control of the same gateway."""
    return [
        f"enphase/{SERIAL}/set/{control}" if a.endswith("/export_limiting") else a for a in clear
    ]


async def device(rec: Any) -> dict[str, Any]:
    """The components of the gateway's discovery config (the latest one)."""
    await rec.wait_for(f"homeassistant/device/enphase_{SERIAL}/config", within=30)
    payloads = rec.payloads(f"homeassistant/device/enphase_{SERIAL}/config")
    return dict(orjson.loads(payloads[-1])["cmps"])


def grids(rec: Any) -> list[float]:
    """Grid power (W, < 0 exports) of every state message so far."""
    return [float(orjson.loads(p)["grid_w"]) for p in rec.payloads(f"enphase/{SERIAL}/state") if p]


def limited_since(rec: Any, index: int) -> list[float]:
    """Grid power of the states from the first one at or under the limit on, after `index`.

    The collector reuses its probe's reads for their first seconds, so a state
    published just after the write may still carry the power from before it.
    """
    after = grids(rec)[index:]
    first = next((i for i, w in enumerate(after) if w >= -1.0), len(after))
    return after[first:]


async def test_zero_export_over_mqtt_with_an_installer_token(tmp_path: Path) -> None:
    if shutil.which("mosquitto_pub") is None:
        pytest.skip("mosquitto_pub is not installed: the doc's command line needs it")
    set_zero, clear = doc_commands(0)[:2]
    assert set_zero[-3:-2] == ["0"] and "OFF" in clear, (set_zero, clear)
    with own_broker(WHY) as broker:
        async with simulator() as (sim, control):
            https = sim.url("https")
            file, token = await installer_token(sim, tmp_path)
            sink = doc_sink(broker.url)
            config = collect_config(tmp_path, https, f'token_file = "{file}"', sink)
            set_zero, clear = doc_commands(broker.port)[:2]
            result = f"enphase/{SERIAL}/result"
            async with recorder(broker.url, "enphase/#", "homeassistant/#") as rec:
                async with collect(["--config", str(config)], process_env(tmp_path), tmp_path) as (
                    proc,
                    _url,
                    lines,
                ):
                    await rec.wait_for(
                        f"enphase/{SERIAL}/availability", lambda p: p == b"online", 30
                    )
                    await rec.wait_json(f"enphase/{SERIAL}/control", within=30)
                    cmps = await device(rec)
                    await rec.wait_for(f"enphase/{SERIAL}/state", within=30)
                    exporting = grids(rec)
                    await sim_call(control, "log/reset", {})
                    await publish(set_zero)
                    zero = await rec.wait_json(f"{result}/export_limit_watts", within=40)
                    set_back = await dpel(https, token)
                    since = len(grids(rec))
                    await rec.wait_for(
                        f"enphase/{SERIAL}/state",
                        lambda _p: len(limited_since(rec, since)) >= 3,
                        40,
                    )
                    limited = grids(rec)[since:]
                    await publish(clear)
                    off = await rec.wait_json(f"{result}/export_limiting", within=40)
                    cleared = await dpel(https, token)
                    await publish(switch_off(clear, "production"))
                    production = await rec.wait_json(f"{result}/production", within=40)
                    sent = writes(await sim_call(control, "log"))
                assert proc.returncode == 0, "".join(lines)
    text = "".join(lines)
    for key, platform in CONTROLS.items():
        comp = cmps[key]
        assert comp["p"] == platform and comp["enabled_by_default"] is False, comp
        assert comp["command_topic"] == f"enphase/{SERIAL}/set/{key}"
    assert exporting and min(exporting) < -500, exporting  # the sun shines: it exports
    assert zero["outcome"] == "confirmed", zero
    assert (zero["requested"], zero["after"]) == (0.0, 0.0), zero  # the number's own type
    assert set_back["dynamic_pel_settings"]["enable"] is True, set_back
    assert set_back["dynamic_pel_settings"]["limit_value_W"] == 0, set_back
    capped = next(i for i, w in enumerate(limited) if w >= -1.0)
    assert len(limited[capped:]) >= 3 and min(limited[capped:]) >= -1.0, limited  # and stays
    assert (off["outcome"], off["requested"], off["after"]) == ("confirmed", False, False), off
    assert cleared["dynamic_pel_settings"]["enable"] is False, cleared
    assert production["outcome"] == "confirmed" and SWITCH_WARNING in production["message"]
    assert sent.count(("POST", "/ivp/ss/dpel")) + sent.count(("PUT", "/ivp/ss/dpel")) == 2, sent
    assert token not in text and "Traceback" not in text


async def test_an_owner_token_is_refused_and_nothing_is_sent(tmp_path: Path) -> None:
    if shutil.which("mosquitto_pub") is None:
        pytest.skip("mosquitto_pub is not installed: the doc's command line needs it")
    with own_broker(WHY) as broker:
        async with simulator() as (sim, control):
            owner = re.search(r"owner token: (\S+)", sim.text)
            assert owner, sim.text
            token_line = f'token = "{owner.group(1)}"'
            config = collect_config(tmp_path, sim.url("https"), token_line, doc_sink(broker.url))
            set_zero = doc_commands(broker.port)[0]
            async with recorder(broker.url, "enphase/#", "homeassistant/#") as rec:
                async with collect(["--config", str(config)], process_env(tmp_path), tmp_path) as (
                    proc,
                    _url,
                    lines,
                ):
                    await rec.wait_json(f"enphase/{SERIAL}/control", within=30)
                    cmps = await device(rec)
                    await sim_call(control, "log/reset", {})
                    await publish(set_zero)
                    refused = await rec.wait_json(
                        f"enphase/{SERIAL}/result/export_limit_watts", within=40
                    )
                    log = await sim_call(control, "log")
                assert proc.returncode == 0, "".join(lines)
    assert {"export_limit_watts", "export_limiting"} <= cmps.keys()  # offered, as the doc says
    assert "production" not in cmps  # its state needs an installer token
    assert refused["outcome"] == "refused", refused
    assert "installer token" in refused["message"] and "\n" not in refused["message"]
    assert writes(log) == [], writes(log)  # nothing reached the gateway
    assert "Traceback" not in "".join(lines)


def _no_cts() -> SiteConfig:
    return dataclasses.replace(PRESETS["export-limit"], metered=False, cts=())


async def _components(broker: Broker, table: dict[str, Any], site: SiteConfig) -> dict[str, Any]:
    """The gateway's discovery components the sink publishes for `site`, by key."""
    clock = SimClock(start=SUNNY, speed=0)
    sink = MqttSink.from_config(table)
    async with SimulatedGateway(SiteBackend(site, clock, 1), clock=clock) as gw:
        async with envoy_for(gw, clock, token=gw.installer_token()) as envoy:
            snap = await envoy.update()
            async with recorder(broker.url, "homeassistant/#") as rec:
                await start_for_one(sink, envoy, snap)
                await rec.barrier("homeassistant/barrier")
            await sink.stop()
    return await device(rec)


async def test_the_docs_entity_ids_and_topics_are_the_sinks() -> None:
    with own_broker(WHY) as broker:
        doc = tomllib.loads(doc_block("mqtt-collect"))["sinks"]["mqtt"]
        table = {**doc, "url": broker.url}
        native = await _components(broker, table, PRESETS["export-limit"])
        core = await _components(broker, {**table, "entity_ids": "core"}, PRESETS["export-limit"])
        off = await _components(
            broker, {k: v for k, v in table.items() if k != "commands"}, PRESETS["export-limit"]
        )
        no_ct = await _components(broker, table, _no_cts())
    ids = {c["default_entity_id"] for c in native.values()}
    topics = {c.get("command_topic") for c in native.values()} - {None}
    automation = set(
        re.findall(r"entity_id: ((?:number|switch)\.\w+)", doc_block("mqtt-automation"))
    )
    assert automation and automation <= ids, automation - ids
    table_ids = set(
        re.findall(r"`((?:number|switch|sensor)\.enphase_(?!gateway_)\w+)`", DOC.read_text())
    )
    assert len(table_ids) == 4 and table_ids <= ids, table_ids - ids  # the MQTT table's
    sent = {a for cmd in doc_commands(0) for a in cmd if "/set/" in a}
    assert len(sent) == 2 and sent <= topics, (sent, topics)
    for key in CONTROLS:  # no core counterpart: the native id, under either setting
        assert core[key]["default_entity_id"] == native[key]["default_entity_id"]
        assert key not in off, off[key]  # not offered unless commands enables it
    assert "export_limit_watts" not in no_ct and "export_limiting" not in no_ct

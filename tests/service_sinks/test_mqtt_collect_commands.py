"""Commands through the real `enphase collect` process, with the config docs/mqtt.md shows.

A Mosquitto of this test with the documented ACL and passwords; the
collector logs in with ``password_file`` and enables two controls. Home
Assistant's user sends commands: an enabled one is confirmed on the
simulated gateway, the grid relay (not listed) is refused, a burst is cut to
spaced writes with the rest ``superseded``, a retained one is ignored and
cleared, and a viewer's command never arrives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiomqtt
import orjson

from .helpers import recorder
from .test_collect_process import collect, live_gateway, process_env
from .test_mqtt_security import acl_broker


def _results(rec: Any, topic: str) -> list[dict[str, Any]]:
    return [orjson.loads(p) for p in rec.payloads(topic) if p]


async def _next_result(rec: Any, topic: str, seen: int, within: float = 30.0) -> dict[str, Any]:
    raw = await rec.wait_for(topic, lambda p: bool(p) and len(_results(rec, topic)) > seen, within)
    return dict(orjson.loads(raw))


async def test_commands_through_the_collect_process_as_documented(tmp_path: Path) -> None:
    users = {"enphase": "c-pw-41", "homeassistant": "ha-pw-42", "viewer": "v-pw-43"}
    secret = tmp_path / "mqtt-password"
    secret.write_text(users["enphase"] + "\n")
    secret.chmod(0o600)
    as_ha = {"username": "homeassistant", "password": users["homeassistant"]}
    with acl_broker(users) as broker:
        async with live_gateway("battery-backup") as gw:
            serial = gw.serial
            config = tmp_path / "collect.toml"
            config.write_text(
                f'[collect]\ninterval = 5\nport = 0\ndb = "{tmp_path / "h.db"}"\n\n'
                f'[[gateway]]\nhost = "{gw.https_host}"\n'
                f'token = "{gw.owner_token()}"\ntoken_store = "{tmp_path / "tokens.json"}"\n\n'
                f'[sinks.mqtt]\nurl = "{broker.url}"\nusername = "enphase"\n'
                f'password_file = "{secret}"\nbase = "enphase"\n'
                'discovery_prefix = "homeassistant"\ncollector = "garage-pi"\n'
                'commands = ["storage_mode", "reserve_soc"]\ncommand_spacing_s = 2.0\n'
            )
            config.chmod(0o600)
            base = f"enphase/{serial}"
            result = f"{base}/result/reserve_soc"
            async with recorder(broker.url, "enphase/#", **as_ha) as ha:
                async with collect(["--config", str(config)], process_env(tmp_path), tmp_path) as (
                    proc,
                    _url,
                    lines,
                ):
                    bridge = "enphase/bridge/garage-pi/availability"
                    await ha.wait_for(bridge, lambda p: p == b"online", 30)
                    await ha.wait_for(f"{base}/control", within=30)
                    async with aiomqtt.Client(
                        "127.0.0.1", broker.port, username="viewer", password=users["viewer"]
                    ) as viewer:
                        await viewer.publish(f"{base}/set/reserve_soc", b"90", qos=1)
                    await ha.client.publish(f"{base}/set/reserve_soc", b"31", qos=1)
                    first = await _next_result(ha, result, 0)
                    relay = f"{base}/result/grid_relay"
                    await ha.client.publish(f"{base}/set/grid_relay", b"OFF", qos=1)
                    refused = await _next_result(ha, relay, 0)
                    for value in range(50, 60):  # a burst
                        await ha.client.publish(f"{base}/set/reserve_soc", str(value).encode())
                    await ha.wait_json(result, lambda d: d["requested"] == 59.0, within=30)
                    burst = _results(ha, result)[1:]
                    await ha.client.publish(
                        f"{base}/set/storage_mode", b"backup", qos=1, retain=True
                    )
                    await ha.wait_for(f"{base}/set/storage_mode", lambda p: p == b"", 30)
                    mode = _results(ha, f"{base}/result/storage_mode")
                assert proc.returncode == 0, "".join(lines)
        text = "".join(lines)
    assert (first["outcome"], first["requested"]) == ("confirmed", 31.0), first  # not 90
    assert refused["outcome"] == "refused" and "off in this collector" in refused["message"]
    outcomes = [d["outcome"] for d in burst]
    assert len(burst) == 10 and outcomes[-1] == "confirmed", burst
    assert outcomes.count("superseded") >= 7, outcomes
    assert mode == []  # the retained command: ignored (and cleared above)
    assert "ignored a retained command" in text
    assert users["enphase"] not in text and "Traceback" not in text

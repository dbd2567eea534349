"""A real Home Assistant process (``hass -c CONFIGDIR``) on a free port, and a client for it.

Shared by the tests that run Home Assistant as users do rather than in the test
harness: the native integration added through the config flow's REST API
(test_real_hass.py) and MQTT discovery from the real ``enphase collect``
(test_real_hass_mqtt.py). Onboarding goes through the HTTP API a browser uses;
`Websocket` speaks the frontend's websocket API (entity registry, energy
validation, MQTT subscriptions).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """\
homeassistant:
  name: Test
  time_zone: UTC
  country: US
  unit_system: metric
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
onboarding:
logger:
  default: warning
"""


def quiet_port() -> int:
    """A free port below the kernel's ephemeral range.

    Why not a port the kernel picked (``bind(0)``): Home Assistant binds its
    port seconds after it starts, and meanwhile every other server of the test
    (the broker, the simulator, the collector's dashboard) binds ephemeral ports
    and may be handed that very one.
    """
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(200):
        port = random.randrange(max(1024, low - 12000), low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


async def _json(resp: aiohttp.ClientResponse) -> Any:
    assert resp.status < 300, f"{resp.method} {resp.url}: {resp.status} {await resp.text()}"
    return await resp.json()


class Websocket:
    """One authenticated websocket connection: ``await ws.call("config/entity_registry/list")``."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, kind: str, **payload: Any) -> Any:
        """Send one command and return its result (asserting success)."""
        ident = next(self.ids)
        await self.ws.send_json({"id": ident, "type": kind, **payload})
        while True:
            answer = await self.ws.receive_json()
            if answer.get("id") == ident and answer.get("type") == "result":
                assert answer["success"], answer
                return answer["result"]


class RealHass:
    """One Home Assistant process on a free port, and an authenticated client for it.

    `extra_config`: more of configuration.yaml (e.g. ``recorder:``), after the base.
    """

    def __init__(self, config: Path, port: int, extra_config: str = "") -> None:
        self.config, self.port, self.extra_config = config, port, extra_config
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.headers: dict[str, str] = {}

    def start(self) -> None:
        (self.config / "custom_components").mkdir(parents=True)
        (self.config / "custom_components" / "enphase_local").symlink_to(
            ROOT / "custom_components" / "enphase_local"
        )
        text = CONFIG.format(port=self.port) + self.extra_config
        (self.config / "configuration.yaml").write_text(text)
        hass = Path(sys.executable).parent / "hass"
        log = (self.config / "process.log").open("wb")
        self.proc = subprocess.Popen(
            [str(hass), "-c", str(self.config), "--skip-pip"], stdout=log, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log_tail(self) -> str:
        return (self.config / "process.log").read_text(errors="replace")[-4000:]

    def log(self) -> str:
        """Home Assistant's own log file (home-assistant.log in the config directory)."""
        path = self.config / "home-assistant.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def wait_ready(self, http: aiohttp.ClientSession) -> None:
        async with asyncio.timeout(180):
            while True:
                assert self.proc is not None and self.proc.poll() is None, self.log_tail()
                assert "Failed to create HTTP server" not in self.log(), self.log_tail()
                try:
                    async with http.get(f"{self.base}/api/onboarding") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.5)  # polling a process that is starting up

    async def onboard(self, http: aiohttp.ClientSession) -> None:
        client_id = f"{self.base}/"
        user = {
            "client_id": client_id,
            "name": "Test",
            "username": "test",
            "password": "test-password-42",
            "language": "en",
        }
        async with http.post(f"{self.base}/api/onboarding/users", json=user) as resp:
            code = (await _json(resp))["auth_code"]
        form = {"grant_type": "authorization_code", "code": code, "client_id": client_id}
        async with http.post(f"{self.base}/auth/token", data=form) as resp:
            token = (await _json(resp))["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        for step, body in (
            ("core_config", {}),
            ("analytics", {}),
            (
                "integration",
                {"client_id": client_id, "redirect_uri": f"{client_id}?auth_callback=1"},
            ),
        ):
            async with http.post(
                f"{self.base}/api/onboarding/{step}", json=body, headers=self.headers
            ) as resp:
                await _json(resp)

    async def post(self, http: aiohttp.ClientSession, path: str, body: Any) -> Any:
        async with http.post(f"{self.base}{path}", json=body, headers=self.headers) as resp:
            return await _json(resp)

    async def get(self, http: aiohttp.ClientSession, path: str) -> Any:
        async with http.get(f"{self.base}{path}", headers=self.headers) as resp:
            return await _json(resp)

    @contextlib.asynccontextmanager
    async def websocket(self, http: aiohttp.ClientSession) -> AsyncIterator[Websocket]:
        """An authenticated websocket connection, closed on leaving."""
        async with http.ws_connect(f"{self.base}/api/websocket") as ws:
            assert (await ws.receive_json())["type"] == "auth_required"
            await ws.send_json({"type": "auth", "access_token": self.headers["Authorization"][7:]})
            assert (await ws.receive_json())["type"] == "auth_ok"
            yield Websocket(ws)

    async def registry(self, http: aiohttp.ClientSession) -> list[dict[str, Any]]:
        async with self.websocket(http) as ws:
            return list(await ws.call("config/entity_registry/list"))

"""`enphase trust HOST`: show the fingerprint, ask, record it; then the library connects again.

The command runs its own event loop, so the simulated gateway and the
front presenting a new certificate live on a loop in a background thread.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner

from enphase_local import Envoy, TokenStore
from enphase_local.cli.app import cli
from enphase_local.errors import EnvoyCertificateChangedError
from enphase_local.net.trust import format_fingerprint
from enphase_local.simulator import SimulatedGateway
from tests.hostile.servers import HostileGateway
from tests.simkit import gateway

T = TypeVar("T")


class Background:
    """A simulated gateway behind a TLS front, served from a loop in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._stack = self.run(self._start())

    async def _start(self) -> Any:
        self._gw_cm = gateway("metered-3phase")
        self.gw: SimulatedGateway = (await self._gw_cm.__aenter__())[0]
        self.front = HostileGateway(self.gw.http_url)
        await self.front.start()
        return None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def new_certificate(self) -> None:
        """The gateway's firmware was updated: same address, new certificate."""

        async def swap() -> None:
            port = self.front.port
            await self.front.stop()
            self.front = HostileGateway(self.gw.http_url)
            await self.front.start(port)

        self.run(swap())

    def close(self) -> None:
        async def stop() -> None:
            await self.front.stop()
            await self._gw_cm.__aexit__(None, None, None)

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def site() -> Iterator[Background]:
    background = Background()
    try:
        yield background
    finally:
        background.close()


def connect_with(site: Background, store: TokenStore) -> None:
    async def go() -> None:
        async with Envoy(site.front.host, token=site.gw.owner_token(), token_store=store) as e:
            await e.update()

    asyncio.run(go())


def test_trust_accepts_a_new_certificate_after_a_firmware_update(
    site: Background, tmp_path: Path
) -> None:
    store_path = tmp_path / "tokens.json"
    store = TokenStore(store_path)
    env = {"ENPHASE_TOKEN_STORE": str(store_path), "ENPHASE_CONFIG": str(tmp_path / "none")}
    connect_with(site, store)  # first use: recorded
    old = store.certificate(site.gw.serial)
    site.new_certificate()
    with pytest.raises(EnvoyCertificateChangedError):
        connect_with(site, store)
    assert site.front.credentials_seen() == []
    runner = CliRunner()
    new = format_fingerprint(site.front.identity.fingerprint)

    refused = runner.invoke(cli, ["trust", site.front.host], env=env, input="n\n")
    assert refused.exit_code != 0
    assert "CHANGED" in refused.output and old in refused.output and new in refused.output
    assert store.certificate(site.gw.serial) == old

    accepted = runner.invoke(cli, ["trust", site.front.host, "--yes", "--json"], env=env)
    assert accepted.exit_code == 0, accepted.output
    shown = json.loads(accepted.output)
    assert shown["fingerprint"] == new and shown["previous"] == old
    assert shown["serial"] == site.gw.serial
    assert store.certificate(site.gw.serial) == new
    assert site.front.credentials_seen() == []  # the command never sends a credential
    connect_with(site, store)  # trusted again

    again = runner.invoke(cli, ["trust", site.front.host], env=env)
    assert again.exit_code == 0 and "already trusted" in again.output

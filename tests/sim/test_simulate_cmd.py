"""`enphase simulate` as a user runs it: a real process, real sockets, signals to stop it."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support import REAL, needs_real

ENPHASE = Path(sys.executable).with_name("enphase")
STARTUP_S = 30.0


def command(*args: str) -> list[str]:
    """The console script when installed, else the same entry point through python -m."""
    if ENPHASE.is_file():
        return [str(ENPHASE), "simulate", *args]
    return [sys.executable, "-m", "enphase_local.simulator", *args]


class Running:
    """A started simulator process and what it printed before serving."""

    def __init__(self, proc: asyncio.subprocess.Process, lines: list[str]) -> None:
        self.proc = proc
        self.lines = lines
        self.text = "\n".join(lines)

    def url(self, scheme: str) -> str:
        match = re.search(rf"{scheme}: +({scheme}://127\.0\.0\.1:\d+)", self.text)
        assert match, self.text
        return match.group(1)

    async def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.proc.send_signal(sig)
        _, err = await asyncio.wait_for(self.proc.communicate(), STARTUP_S)
        assert self.proc.returncode is not None
        return self.proc.returncode, err.decode()


async def start(*args: str) -> Running:
    proc = await asyncio.create_subprocess_exec(
        *command(*args), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while True:
            raw = await asyncio.wait_for(proc.stdout.readline(), STARTUP_S)
            if not raw:
                _, err = await proc.communicate()
                pytest.fail(f"simulator exited early: {err.decode()}\n" + "\n".join(lines))
            line = raw.decode().rstrip("\n")
            lines.append(line)
            if line.startswith("serving"):
                return Running(proc, lines)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise


async def run_to_end(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *command(*args), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), STARTUP_S)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_preset_serves_until_sigterm() -> None:
    sim = await start("--preset", "battery-backup", "--latency", "none", "--speed", "0")
    try:
        token = re.search(r"owner token: (\S+)", sim.text)
        assert token, sim.text
        assert re.search(r"gateway \d{12}  firmware D\d", sim.text)
        async with aiohttp.ClientSession() as session:
            async with session.get(sim.url("https") + "/info", ssl=False) as resp:
                assert resp.status == 200
                assert "<envoy_info>" in await resp.text()
            headers = {"Authorization": f"Bearer {token.group(1)}"}
            async with session.get(
                sim.url("https") + "/production.json", headers=headers, ssl=False
            ) as resp:
                assert resp.status == 200
                assert "production" in await resp.json()
            async with session.get(sim.url("http") + "/production.json") as resp:
                assert resp.status == 401
    finally:
        code, err = await sim.stop(signal.SIGTERM)
    assert code == 0, err
    assert "stopped" in err
    assert "Traceback" not in err


async def test_legacy_preset_prints_digest_users_and_stops_on_ctrl_c() -> None:
    sim = await start("--preset", "legacy-3x", "--latency", "none")
    try:
        users = re.search(r"digest users: envoy / (\S+) +installer / (\S+)", sim.text)
        assert users, sim.text
        middleware = aiohttp.DigestAuthMiddleware("installer", users.group(2))
        async with (
            aiohttp.ClientSession(middlewares=(middleware,)) as session,
            session.get(sim.url("http") + "/api/v1/production/inverters") as resp,
        ):
            assert resp.status == 200
    finally:
        code, err = await sim.stop(signal.SIGINT)
    assert code == 0, err


@needs_real
async def test_fixtures_fleet_with_manifest_and_faults(tmp_path: Path) -> None:
    manifest = tmp_path / "fleet.json"
    sim = await start(
        "--fixtures",
        str(REAL / "7.6.175_with_cts"),
        "--fleet",
        "3",
        "--manifest",
        str(manifest),
        "--latency",
        "none",
        "--fault",
        "fail-next=1:503@/info",
    )
    try:
        assert "fleet of 3 gateways" in sim.text
        gateways = json.loads(manifest.read_text())
        assert len({g["serial"] for g in gateways}) == 3
        async with aiohttp.ClientSession() as session:
            for gateway in gateways:
                async with session.get(gateway["https_url"] + "/info", ssl=False) as resp:
                    assert resp.status == 503  # the fault applies to every gateway
                async with session.get(gateway["https_url"] + "/info", ssl=False) as resp:
                    assert f"<sn>{gateway['serial']}</sn>" in await resp.text()
                headers = {"Authorization": f"Bearer {gateway['owner_token']}"}
                async with session.get(
                    gateway["https_url"] + "/ivp/meters", headers=headers, ssl=False
                ) as resp:
                    assert resp.status == 200
    finally:
        code, err = await sim.stop()
    assert code == 0, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "nope"], "unknown preset 'nope'"),
        (["--fault", "bogus"], "bad fault spec 'bogus'"),
        (["--speed", "-1"], "--speed"),
        (["--port", "70000"], "--port"),
        (["--preset", "acb", "--fixtures", "."], "use only one of --preset, --fixtures"),
        (["--fixtures", "/"], "no 'info' capture"),
        (["--latency", "slow"], "--latency"),
        (["--bogus-flag"], "--bogus-flag"),
    ],
)
async def test_bad_arguments_one_line_exit_2(args: list[str], message: str) -> None:
    code, out, err = await run_to_end(*args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("enphase simulate: ")
    assert message in err


async def test_port_in_use_is_one_line() -> None:
    sim = await start("--preset", "standard", "--latency", "none")
    try:
        port = sim.url("http").rsplit(":", 1)[1]
        code, _, err = await run_to_end("--preset", "standard", "--port", port)
        assert code == 2
        assert len(err.strip().splitlines()) == 1 and "cannot listen" in err
    finally:
        await sim.stop()


async def test_help_is_fast_and_lists_simulate() -> None:
    code, out, _ = await run_to_end("--help")
    assert code == 0 and "--fault SPEC" in out and "--fleet" in out
    script = "from enphase_local.cli.app import main; main(['--help'])"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-X", "importtime", "-c", script,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out_bytes, err_bytes = await proc.communicate()
    assert b"simulate" in out_bytes
    imported = err_bytes.decode()
    assert "aiohttp" not in imported  # the group help imports no subcommand
    assert "enphase_local.simulator" not in imported

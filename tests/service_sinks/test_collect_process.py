"""The real `enphase collect` process with the sinks the docs show, and a gateway that dies.

The config is the one of README / docs/mqtt.md / docs/many-sites.md
(``[sinks.mqtt]`` with ``password_env``-style settings, ``[sinks.postgres]``
with ``dsn_env``); the gateway is a simulated one on 127.0.0.1, the broker and
the database are real. Then every connection to the gateway is dropped: within
3 intervals the MQTT availability is ``offline``, ``enphase_up`` is 0 and no
power series is exported.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import orjson

from enphase_local.simulator import SimClock, SimulatedGateway, SiteBackend

from .helpers import recorder

INTERVAL = 2.0


@contextlib.asynccontextmanager
async def live_gateway(preset: str) -> AsyncIterator[SimulatedGateway]:
    """A simulated gateway on real time (the collector judges data age by its own clock)."""
    clock = SimClock(start=time.time(), speed=1.0)
    backend = SiteBackend.from_preset(preset, clock=clock, seed=3)
    async with SimulatedGateway(backend, clock=clock) as gw:
        yield gw


@contextlib.asynccontextmanager
async def collect(
    args: list[str], env: dict[str, str], cwd: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str, list[str]]]:
    """`enphase collect ARGS` running, its dashboard URL and the stderr lines so far."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from enphase_local.cli.app import main; sys.exit(main())",
        "collect",
        *args,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    lines: list[str] = []
    assert proc.stderr is not None

    async def pump() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            lines.append(raw.decode(errors="replace"))

    reader = asyncio.create_task(pump())
    try:
        url = None
        for _ in range(600):
            found = [m for line in lines if (m := re.search(r"dashboard: (http://\S+/)", line))]
            if found:
                url = found[0].group(1)
                break
            if proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        assert url, "".join(lines)
        yield proc, url, lines
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        await reader


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return str(resp.read().decode())


def process_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENPHASE_")}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"), **extra)
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"))
    return env


async def test_the_documented_config_runs_and_a_dead_gateway_goes_offline(
    tmp_path: Path, mqtt_url: str, pg_dsn: str
) -> None:
    async with live_gateway("metered-split") as gw:
        serial = gw.serial
        state_dir = tmp_path / "state"  # a StateDirectory the admin made, shared with others
        state_dir.mkdir(mode=0o755)
        state_dir.chmod(0o755)
        config = tmp_path / "collect.toml"
        config.write_text(
            f'[collect]\ninterval = {INTERVAL}\nport = 0\ndb = "{tmp_path / "h.db"}"\n\n'
            f'[[gateway]]\nname = "house"\nhost = "{gw.https_host}"\n'
            f'token = "{gw.owner_token()}"\ntoken_store = "{state_dir / "tokens.json"}"\n\n'
            f'[sinks.mqtt]\nurl = "{mqtt_url}"\nbase = "e2e"\ndiscovery_prefix = "e2eha"\n'
            'collector = "e2e"\n\n'
            '[sinks.postgres]\ndsn_env = "E2E_PG_DSN"\ncollector = "site-group-a"\n'
        )
        config.chmod(0o600)
        env = process_env(tmp_path, E2E_PG_DSN=pg_dsn)
        async with recorder(mqtt_url, "e2e/#", "e2eha/#") as rec:
            async with collect(["--config", str(config)], env, tmp_path) as (proc, url, lines):
                await rec.wait_for(f"e2e/{serial}/availability", lambda p: p == b"online", 30)
                await rec.wait_for(f"e2e/{serial}/state", within=30)
                configs = {t for t, _p, _r in rec.messages if t.startswith("e2eha/")}
                assert len(configs) > 10, configs
                metrics = await _until(url, lambda m: "enphase_power_watts{" in m)
                assert f'enphase_up{{serial="{serial}"}} 1.0' in metrics
                rows = await _pg_rows(pg_dsn, serial)
                assert rows > 0
                # the gateway dies: every connection dropped from now on
                gw.faults.set_rate("drop", 1.0)
                died = time.monotonic()
                await rec.wait_for(
                    f"e2e/{serial}/availability",
                    lambda p: p == b"offline",
                    3 * INTERVAL + 10,  # 3 intervals, and a loaded machine's slack
                )
                took = time.monotonic() - died
                metrics = await asyncio.to_thread(_get, url + "metrics")
                assert f'enphase_up{{serial="{serial}"}} 0.0' in metrics
                assert "enphase_power_watts{" not in metrics
                health = orjson.loads(await asyncio.to_thread(_get, url + "api/gateways"))
                assert health["gateways"][0]["state"] == "unreachable"
                gw.faults.reset()
                topic = f"e2e/{serial}/availability"
                for _ in range(300):
                    if rec.payloads(topic)[-1] == b"online":
                        break
                    await asyncio.sleep(0.1)
                assert rec.payloads(topic)[-1] == b"online", "".join(lines)
            assert proc.returncode == 0, "".join(lines)
    text = "".join(lines)
    assert (state_dir / "tokens.json").exists()
    assert state_dir.stat().st_mode & 0o777 == 0o755  # the folder's mode is left alone
    assert took <= 3 * INTERVAL + 10, took
    assert text.count(" unreachable: ") == 1, text
    assert "unreachable ended after" in text
    assert "Traceback" not in text
    # each line once, with the real serial (no second, redacted copy)
    assert len([line for line in lines if "connected:" in line]) == 1, text
    assert serial in text


async def _until(url: str, check: Callable[[str], bool], within: float = 20.0) -> str:
    """/metrics once `check` holds for it (polled: a scrape is what Prometheus does)."""
    deadline = time.monotonic() + within
    text = ""
    while time.monotonic() < deadline:
        text = await asyncio.to_thread(_get, url + "metrics")
        if check(text):
            return text
        await asyncio.sleep(0.2)
    raise AssertionError(text)


async def _pg_rows(dsn: str, serial: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(100):
            n = await conn.fetchval(
                "SELECT count(*) FROM gateways WHERE serial = $1 AND collector = 'site-group-a'",
                serial,
            )
            if n:
                return int(n)
            await asyncio.sleep(0.2)
        return 0
    finally:
        await conn.close()


async def test_sink_flags_need_no_file(tmp_path: Path, mqtt_url: str, pg_dsn: str) -> None:
    """`enphase collect HOST --mqtt URL --postgres DSN`: the same sinks without a file."""
    async with live_gateway("metered-split") as gw:
        env = process_env(tmp_path)
        token_file = tmp_path / "gateway.jwt"
        token_file.write_text(gw.owner_token() + "\n")
        token_file.chmod(0o600)
        args = [gw.https_host, "--token-file", str(token_file), "--port", "0"]
        args += ["--interval", str(INTERVAL)]
        args += ["--db", str(tmp_path / "h.db"), "--mqtt", mqtt_url, "--postgres", pg_dsn]
        async with recorder(mqtt_url, "enphase/#") as rec:
            async with collect(args, env, tmp_path) as (proc, _url, lines):
                await rec.wait_for(f"enphase/{gw.serial}/availability", within=30)
                assert await _pg_rows_any(pg_dsn, gw.serial)
            assert proc.returncode == 0, "".join(lines)
        # `enphase collect HOST`: each line once, with the real serial (it printed each
        # twice, the second through the CLI's redactor with a made-up serial)
        connected = [line for line in lines if " connected: " in line]
        assert len(connected) == 1 and gw.serial in connected[0], lines


async def _pg_rows_any(dsn: str, serial: str) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(100):
            if await conn.fetchval("SELECT count(*) FROM gateways WHERE serial = $1", serial):
                return True
            await asyncio.sleep(0.2)
        return False
    finally:
        await conn.close()


def test_an_unknown_sink_is_a_usage_error(tmp_path: Path) -> None:
    import subprocess

    config = tmp_path / "c.toml"
    config.write_text('[[gateway]]\nhost = "127.0.0.1:9"\n[sinks.influxx]\nurl = "x"\n')
    result = subprocess.run(
        [sys.executable, "-m", "enphase_local.cli.app", "collect", "--config", str(config)],
        capture_output=True,
        text=True,
        env=process_env(tmp_path),
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "influxx" in result.stderr and "[sinks.mqtt]" in result.stderr
    assert "Traceback" not in result.stderr


async def test_a_postgres_outage_is_two_lines_and_no_traceback(tmp_path: Path, pg_dsn: str) -> None:
    async with live_gateway("metered-split") as gw:
        env = process_env(tmp_path, E2E_PG_DSN=pg_dsn)
        config = tmp_path / "collect.toml"
        config.write_text(
            f'[collect]\ninterval = {INTERVAL}\nport = 0\ndb = "{tmp_path / "h.db"}"\n\n'
            f'[[gateway]]\nhost = "{gw.https_host}"\ntoken = "{gw.owner_token()}"\n\n'
            '[sinks.postgres]\ndsn_env = "E2E_PG_DSN"\nflush_interval_s = 0.2\n'
        )
        config.chmod(0o600)
        name = pg_dsn.rsplit("/", 1)[1]
        admin = await asyncpg.connect(pg_dsn.rsplit("/", 1)[0] + "/postgres")
        try:
            async with collect(["--config", str(config)], env, tmp_path) as (proc, _url, lines):
                assert await _pg_rows_any(pg_dsn, gw.serial)
                await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                    name,
                )
                await _line(lines, "PostgreSQL: cannot write", 60)
                await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
                await _line(lines, "PostgreSQL: writing again", 90)
        finally:
            await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
            await admin.close()
    text = "".join(lines)
    assert proc.returncode == 0, text
    assert text.count("PostgreSQL: cannot write") == 1, text
    assert text.count("PostgreSQL: writing again") == 1, text
    assert "Traceback" not in text, text


async def _line(lines: list[str], text: str, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if any(text in line for line in lines):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no line with {text!r}: {''.join(lines)}")

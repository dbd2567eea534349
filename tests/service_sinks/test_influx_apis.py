"""The InfluxDB sink's 2.x and 3.x writes, 429 / Retry-After, refusals, and its settings.

InfluxDB 2.x and 3.x cannot be had here (Debian ships 1.x only), so a small
real aiohttp server on 127.0.0.1 implements the documented write endpoints
(``POST /api/v2/write?org=&bucket=&precision=s`` with ``Authorization: Token``,
``POST /api/v3/write_lp?db=&precision=second`` with ``Authorization: Bearer``,
gzip bodies) and answers as told; the sink talks to it over a real socket.
"""

from __future__ import annotations

import gzip
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from enphase_local.models.live_frame import LiveFrame
from enphase_local.service.influx import InfluxSink
from enphase_local.service.influx_config import InfluxSettings

from .helpers import TinyHub

TOKEN = "s3cr3t-influx-token-value"


@dataclass
class StandIn:
    """What the stand-in received, and the answers it still has to give (status, headers)."""

    url: str = ""
    lines: list[str] = field(default_factory=list)
    requests: list[web.Request] = field(default_factory=list)
    answers: list[tuple[int, dict[str, str], str]] = field(default_factory=list)


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    state = StandIn()

    async def write(request: web.Request, auth: str, need: dict[str, str]) -> web.Response:
        state.requests.append(request)
        if state.answers:
            status, headers, text = state.answers.pop(0)
            return web.Response(status=status, headers=headers, text=text)
        if request.headers.get("Authorization") != auth:
            return web.json_response({"code": "unauthorized", "message": "bad token"}, status=401)
        for key, value in need.items():
            if request.query.get(key) != value:
                return web.json_response({"message": f"{key} must be {value}"}, status=400)
        body = await request.read()  # aiohttp's server decodes Content-Encoding: gzip itself
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        state.lines.extend(body.decode().splitlines())
        return web.Response(status=204)

    async def v2(request: web.Request) -> web.Response:
        need = {"org": "home", "bucket": "solar", "precision": "s"}
        return await write(request, f"Token {TOKEN}", need)

    async def v3(request: web.Request) -> web.Response:
        return await write(request, f"Bearer {TOKEN}", {"db": "solar", "precision": "second"})

    app = web.Application()
    app.router.add_post("/api/v2/write", v2)
    app.router.add_post("/api/v3/write_lp", v3)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


def power(at: float) -> LiveFrame:
    return LiveFrame(taken_at=at, source="livedata", solar_watts=1234.5, house_watts=500)


async def test_2x_writes_gzip_with_org_bucket_and_token(standin: StandIn) -> None:
    url = f"{standin.url}/?org=home&bucket=solar"
    sink = InfluxSink.from_config({"url": url, "token": TOKEN})
    assert sink.settings.version == "v2"
    await sink.start(TinyHub())
    await sink.on_live("S1", power(1_781_546_400.0))
    assert await sink.flush()
    await sink.stop()
    assert standin.lines == [
        "enphase_power,phase=total,serial=S1,site=S1 solar_w=1234.5,house_w=500.0 1781546400"
    ]
    assert standin.requests[0].headers["Content-Encoding"] == "gzip"


async def test_3x_writes_to_write_lp(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_INFLUX_TOKEN", TOKEN)
    table = {"url": standin.url, "api": "v3", "database": "solar", "token_env": "MY_INFLUX_TOKEN"}
    sink = InfluxSink.from_config(table)
    await sink.start(TinyHub())
    await sink.on_live("S1", power(1_781_546_400.0))
    assert await sink.flush()
    await sink.stop()
    assert len(standin.lines) == 1 and standin.lines[0].endswith(" 1781546400")


async def test_429_is_retried_after_its_retry_after(standin: StandIn) -> None:
    sink = InfluxSink(url=standin.url, org="home", bucket="solar", token=TOKEN, live_interval_s=0.0)
    await sink.start(TinyHub())
    await sink.on_live("S1", power(1_781_546_400.0))
    standin.answers.append((429, {"Retry-After": "120"}, "slow down"))
    before = time.monotonic()
    assert not await sink.flush()
    assert 119.0 <= sink._retry_at - before <= 121.0  # the server's word, not our backoff
    assert sink.pending == 1
    standin.answers.append((503, {"Retry-After": "7"}, "starting"))
    assert not await sink.flush()
    assert sink._retry_at - time.monotonic() <= 7.0
    assert await sink.flush()
    await sink.stop()
    assert len(standin.lines) == 1 and sink.dropped == 0 and sink.rejected == 0


async def test_a_refused_token_keeps_the_points_and_never_shows_the_token(
    standin: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "enphase_local")
    sink = InfluxSink(url=standin.url, org="home", bucket="solar", token="wrong-" + TOKEN)
    await sink.start(TinyHub())
    await sink.on_live("S1", power(1_781_546_400.0))
    assert not await sink.flush()
    assert not await sink.flush()
    assert sink.pending == 1 and sink.rejected == 0
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "HTTP 401, the token or password was refused" in messages[0]
    assert TOKEN not in caplog.text and TOKEN not in repr(sink.settings)
    await sink.stop()
    assert TOKEN not in caplog.text


async def test_a_malformed_batch_is_dropped_and_later_ones_go_on(standin: StandIn) -> None:
    sink = InfluxSink(url=standin.url, org="home", bucket="solar", token=TOKEN, batch_lines=1)
    await sink.start(TinyHub())
    sink._add(["bad line", 'enphase_event,kind=a,serial=S,site=S message="x" 1'])
    standin.answers.append((400, {}, '{"code":"invalid","message":"unable to parse"}'))
    assert await sink.flush()
    await sink.stop()
    assert sink.rejected == 1 and standin.lines == [
        'enphase_event,kind=a,serial=S,site=S message="x" 1'
    ]


async def test_a_huge_error_body_is_read_no_further_than_its_start(
    standin: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    sink = InfluxSink(url=standin.url, org="home", bucket="solar", token=TOKEN)
    await sink.start(TinyHub())
    sink._add(['enphase_event,kind=a,serial=S,site=S message="x" 1'])
    standin.answers.append((400, {}, "x" * 20_000_000))
    assert await sink.flush()
    await sink.stop()
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert sink.rejected == 1 and len(record.getMessage()) < 500


def test_settings_from_tables_and_urls(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    s = InfluxSettings.from_config({"url": "http://db.lan:8086", "token_file": str(secret)})
    assert s.token == TOKEN and s.version == "v1" and s.database == "enphase"
    s = InfluxSettings.from_config({"url": "http://u:pw@db.lan:8086/?db=solar"})
    assert (s.username, s.password, s.database, s.base) == (
        "u",
        "pw",
        "solar",
        "http://db.lan:8086",
    )
    assert "password in the url" in caplog.text and len(caplog.records) == 1
    for table, words in (
        ({"url": "ftp://x"}, "must be http"),
        ({"url": "http://x", "api": "v9"}, "api must be one of"),
        ({"url": "http://x", "api": "v2"}, "needs org and bucket"),
        ({"url": "http://x?foo=1"}, "unknown InfluxDB url parameter"),
        ({"url": "http://x", "tokn": "a"}, "unknown InfluxDB setting tokn"),
        ({"url": "http://x", "token_env": "NOT_SET_ANYWHERE_42"}, "not set"),
        ({"url": "http://x", "token": "a", "token_env": "B"}, "give one of"),
        ({"url": "http://x", "live_interval_s": "10"}, "must be a number"),
    ):
        with pytest.raises(ValueError, match=words):
            InfluxSettings.from_config(table)

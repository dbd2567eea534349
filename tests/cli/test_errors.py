"""Every error kind: its exit code, its one readable line, its JSON envelope."""

from __future__ import annotations

import json
import socket

import pytest

from enphase_local.cli.app import main
from enphase_local.cli.commands import read as read_module
from enphase_local.cli.commands import watch as watch_module
from enphase_local.simulator import LatencyProfile

from .conftest import SimThread, enphase


def _envelope(stdout: str) -> dict[str, str]:
    doc = json.loads(stdout)
    assert set(doc) == {"error"} and set(doc["error"]) == {"kind", "message"}
    return dict(doc["error"])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_host_exits_3() -> None:
    host = f"127.0.0.1:{_closed_port()}"
    result = enphase("read", host, "--token", "x", "--retries", "0", "--json")
    assert result.exit_code == 3
    error = _envelope(result.stdout)
    assert error["kind"] == "connection"
    assert "check the address" in error["message"]
    plain = enphase("read", host, "--retries", "0")
    assert plain.exit_code == 3 and plain.stdout == ""
    assert plain.stderr.startswith("enphase: ") and len(plain.stderr.strip().splitlines()) == 1
    assert "Traceback" not in plain.stderr


def test_timeout_exits_3(fresh_battery: SimThread) -> None:
    slow = LatencyProfile("slow", ((r"^/info", 1.0, 1.0),))
    fresh_battery.call(lambda: setattr(fresh_battery.gw.faults, "latency", slow))
    result = enphase(
        "read",
        fresh_battery.gw.https_url,
        "--token",
        fresh_battery.token(),
        "--timeout",
        "0.1",
        "--retries",
        "0",
        "--json",
    )
    assert result.exit_code == 3
    error = _envelope(result.stdout)
    assert error["kind"] == "timeout" and "--timeout" in error["message"]


def test_malformed_token_exits_4(battery: SimThread) -> None:
    result = enphase("read", battery.host, "--token", "not-a-token", "--json")
    assert result.exit_code == 4
    error = _envelope(result.stdout)
    assert error["kind"] == "bad_credentials" and "not a valid gateway token" in error["message"]


def test_token_of_another_gateway_exits_4(battery: SimThread, three_phase: SimThread) -> None:
    result = enphase("read", battery.host, "--token", three_phase.token())
    assert result.exit_code == 4
    assert "enphase: " in result.stderr
    assert three_phase.token() not in result.stderr + result.stdout


def test_expired_token_exits_4(battery: SimThread) -> None:
    result = enphase("read", battery.host, "--token", battery.token(valid_for_s=-10), "--json")
    assert result.exit_code == 4
    error = _envelope(result.stdout)
    assert error["kind"] == "token_expired" and "expired" in error["message"]


def test_no_token_says_how_to_get_one(battery: SimThread) -> None:
    result = enphase("read", battery.host)
    assert result.exit_code == 4
    assert "enphase token" in result.stderr


def test_mfa_account_exits_4(battery: SimThread) -> None:
    urls = battery.gw.cloud_base_url
    result = enphase(
        "read",
        battery.host,
        "--username",
        "mfa@example.com",
        "--password",
        "mfa-password",
        "--enlighten-url",
        urls.enlighten,
        "--entrez-url",
        urls.entrez,
        "--json",
    )
    assert result.exit_code == 4
    error = _envelope(result.stdout)
    assert error["kind"] == "mfa" and "multi-factor" in error["message"]
    assert "mfa-password" not in result.stdout + result.stderr


def test_http_500_exits_5(fresh_battery: SimThread) -> None:
    fresh_battery.call(lambda: fresh_battery.gw.faults.fail_next(5, status=500, path="/info"))
    result = enphase(
        "read",
        fresh_battery.gw.https_url,
        "--token",
        fresh_battery.token(),
        "--retries",
        "0",
        "--json",
    )
    assert result.exit_code == 5
    error = _envelope(result.stdout)
    assert error["kind"] == "http" and "HTTP 500" in error["message"]


def test_garbage_exits_5(fresh_battery: SimThread) -> None:
    fresh_battery.call(lambda: fresh_battery.gw.faults.garbage_next(3, path="/info"))
    result = enphase(
        "info",
        fresh_battery.gw.https_url,
        "--retries",
        "0",
        "--json",
    )
    assert result.exit_code == 5
    assert _envelope(result.stdout)["kind"] == "parse"


def test_missing_host_is_usage_error() -> None:
    result = enphase("read", "--json")
    assert result.exit_code == 2
    error = _envelope(result.stdout)
    assert error["kind"] == "usage" and "ENPHASE_HOST" in error["message"]


def test_bad_option_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", "--no-such-option", "--json"]) == 2
    assert _envelope(capsys.readouterr().out)["kind"] == "usage"
    assert main(["read", "--timeout", "zero"]) == 2
    assert "--timeout" in capsys.readouterr().err


def test_debug_shows_traceback_and_redacts(battery: SimThread) -> None:
    token = battery.token(valid_for_s=-10)
    result = enphase("read", battery.host, "--token", token, "--debug")
    assert result.exit_code == 4
    assert "Traceback" in result.stderr and "EnvoyTokenExpiredError" in result.stderr
    assert "DEBUG enphase_local" in result.stderr
    assert token not in result.stderr
    root = enphase("--debug", "read", battery.host, "--token", token)
    assert "Traceback" in root.stderr


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    async def interrupted(*params: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(read_module, "read_snapshot", interrupted)
    result = enphase("read", "somewhere", "--json")
    assert result.exit_code == 130
    assert _envelope(result.stdout)["kind"] == "interrupted"


def test_ctrl_c_ends_watch_cleanly(battery: SimThread, monkeypatch: pytest.MonkeyPatch) -> None:
    async def loop(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(watch_module, "watch_loop", loop)
    monkeypatch.setattr(watch_module, "live_loop", loop)  # the default: live frames
    result = enphase("watch", battery.host, "--token", battery.token())
    assert result.exit_code == 0
    assert "Traceback" not in result.stderr and "stopped" in result.stderr


def test_refused_says_nothing_answers_without_internals() -> None:
    result = enphase("read", f"127.0.0.1:{_closed_port()}", "--token", "x", "--retries", "0")
    assert result.exit_code == 3
    assert "nothing answers at 127.0.0.1:" in result.stderr
    assert "ClientConnectorError" not in result.stderr


def test_nightly_hint_only_around_23h() -> None:
    import time as time_module

    from enphase_local.cli.errors import near_nightly_restart

    def at(hour: int, minute: int) -> float:
        return time_module.mktime((2026, 6, 15, hour, minute, 0, 0, 0, -1))

    assert near_nightly_restart(at(23, 5)) and near_nightly_restart(at(22, 55))
    assert not near_nightly_restart(at(12, 0)) and not near_nightly_restart(at(23, 50))


def test_a_host_that_never_answers_is_a_timeout() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        host = f"127.0.0.1:{server.getsockname()[1]}"
        result = enphase("read", host, "--token", "x", "--retries", "0", "--timeout", "0.3",
                         "--json")  # fmt: skip
    assert result.exit_code == 3
    error = _envelope(result.stdout)
    assert error["kind"] == "timeout" and "--timeout" in error["message"]


def test_a_web_server_that_is_not_a_gateway() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class NotEnphase(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>my router</html>"
            self.send_response(200 if self.path == "/info" and self.server.ok else 404)  # type: ignore[attr-defined]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotEnphase)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for ok in (False, True):
            server.ok = ok  # type: ignore[attr-defined]
            url = f"http://127.0.0.1:{server.server_address[1]}"
            result = enphase("read", url, "--token", "x", "--retries", "0")
            assert result.exit_code == 5, result.stderr
            assert "is this an Enphase gateway? check the address" in result.stderr
            assert "enphase dump" not in result.stderr and "restarting" not in result.stderr
    finally:
        server.shutdown()

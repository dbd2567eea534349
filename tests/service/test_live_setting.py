"""The live setting through the real `enphase collect` process, against `enphase simulate`.

Both run as the user runs them (two processes, loopback, the simulator on a real
clock). What the simulator was asked is read from its request log; each wait is on
the collector's next pushed event (about one a second) or the simulator's log,
never on a sleep of our own.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_ENV = {k: v for k, v in os.environ.items() if not k.startswith("ENPHASE_")}
_CLI = ("-c", "import sys; from enphase_local.cli.app import main; sys.exit(main())")
LIVE_PATHS = ("/ivp/livedata/status", "/ivp/livedata/stream", "/stream/meter")
DEADLINE_S = 60.0


def _start(args: list[str], tmp: Path, name: str) -> subprocess.Popen[str]:
    # a home of its own: the pinned certificates and tokens of other runs are not ours
    env = {**_ENV, "HOME": str(tmp), "XDG_DATA_HOME": str(tmp / "data")}
    with (tmp / f"{name}.err").open("w") as err:
        return subprocess.Popen(
            [sys.executable, *_CLI, *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
            env=env,
        )


def _wait_for(what: str, found: Callable[[], Any], proc: subprocess.Popen[str]) -> Any:
    """Poll `found` (a file being written by `proc`) until it gives something."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        if proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {proc.returncode}")
        time.sleep(0.05)  # a file another process writes: nothing to wait on but the file
    raise AssertionError(f"{what}: not in {DEADLINE_S:.0f} s")


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def _collecting(tmp: Path, *flags: str) -> Iterator[tuple[str, str, str]]:
    """(dashboard URL, simulator control URL, serial): `enphase collect` on one simulated site."""
    manifest = tmp / "sim.json"
    sim = _start(
        [
            *("simulate", "--preset", "battery-backup", "--latency", "none"),
            *("--port", "0", "--https-port", "0", "--manifest", str(manifest)),
        ],
        tmp,
        "sim",
    )
    collect = None
    try:
        gw = _wait_for("the simulator's manifest", lambda: _read_json(manifest), sim)[0]
        token = tmp / "token"
        token.write_text(gw["owner_token"])
        token.chmod(0o600)
        err = tmp / "collect.err"
        collect = _start(
            [
                *("collect", gw["https_host"], "--token-file", str(token)),
                *("--db", str(tmp / "h.db"), "--port", "0", "--interval", "1", *flags),
            ],
            tmp,
            "collect",
        )
        url = _wait_for("the dashboard's address", lambda: _announced(err), collect)
        yield url, gw["https_url"] + "/__sim__/", gw["serial"]
    finally:
        for proc in (collect, sim):
            if proc is not None:
                _stop(proc)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _announced(err: Path) -> str | None:
    match = re.search(r"dashboard: (http://127\.0\.0\.1:\d+/)", err.read_text())
    return match.group(1) if match else None


def _sim_counts(control: str) -> dict[str, int]:
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(control + "log?entries=0", timeout=10, context=context) as resp:
        counts: dict[str, int] = json.load(resp)["counts"]
    return counts


def _live_asked(control: str) -> int:
    """Requests made to follow live data. The snapshot itself reads livedata's status once
    per configuration period (`engine.rhythm`: CONFIG): that one is not live following."""
    counts = _sim_counts(control)
    status = counts.get("/ivp/livedata/status", 0)
    return sum(counts.get(p, 0) for p in LIVE_PATHS[1:]) + max(0, status - 1)


def _updates(control: str) -> int:
    """Requests of snapshots so far (every request but live ones)."""
    return sum(n for path, n in _sim_counts(control).items() if path not in LIVE_PATHS)


def _ticks(url: str, serial: str | None) -> Iterator[dict[str, Any]]:
    """The gateway's entry of each pushed event of ``/events`` (``?serial=`` when given)."""
    query = "" if serial is None else f"?serial={serial}"
    with urllib.request.urlopen(url + "events" + query, timeout=30) as stream:
        deadline = time.monotonic() + DEADLINE_S
        for raw in stream:
            assert time.monotonic() < deadline, "the awaited state never came"
            if raw.startswith(b"data: "):
                yield json.loads(raw[len(b"data: ") :])["gateways"][0]


def _until_updates(url: str, control: str, more: int) -> None:
    """Watch nothing (``?serial=``, empty) until the collector made `more` new updates."""
    start = _updates(control)
    seen = {start}
    for gateway in _ticks(url, ""):
        if gateway["state"] == "connected":
            seen.add(_updates(control))
            if len(seen) > more:
                return


def test_no_live_asks_no_live_data_even_while_a_dashboard_watches(tmp_path: Path) -> None:
    with _collecting(tmp_path, "--no-live") as (url, control, serial):
        for ticks, gateway in enumerate(_ticks(url, serial)):  # a dashboard shows the gateway
            assert gateway["live"] is False
            if gateway["state"] == "connected" and ticks > 2:
                break
        _until_updates(url, control, 2)
        assert _updates(control) > 0
        assert _live_asked(control) == 0
    assert "0 gateway(s) always" not in (tmp_path / "collect.err").read_text()


def test_auto_follows_live_only_while_a_dashboard_shows_the_gateway(tmp_path: Path) -> None:
    with _collecting(tmp_path) as (url, control, serial):
        _until_updates(url, control, 2)  # connected and updating, nobody watching
        assert _live_asked(control) == 0
        times = set()
        for gateway in _ticks(url, serial):  # the dashboard opens on this gateway
            if gateway["live"] and gateway["flows"]:
                times.add(gateway["flows"]["taken_at"])
            if len(times) >= 3 and _live_asked(control) > 0:
                break  # live frames flow, a second apart, not one per update
        for gateway in _ticks(url, ""):  # the dashboard has left; an observer that watches none
            if not gateway["live"]:
                break
        _until_updates(url, control, 1)  # what was under way when it stopped has landed
        asked = _live_asked(control)
        _until_updates(url, control, 2)
        assert _live_asked(control) == asked
    err = (tmp_path / "collect.err").read_text()
    assert "0 gateway(s) always, 1 while a dashboard watches" in err

"""Issue 18 item 14: `enphase discover` over mDNS, and HOST defaulting to the only gateway.

The end-to-end tests use a real announcement: `enphase simulate --advertise`
in a subprocess, found by `enphase discover` in another, over multicast on
this machine. Where multicast does not work they skip (fail under CI);
`found_from_info` is also tested on zeroconf's own service-info objects.

Only our own simulator counts: another one on this machine (a second test
run, a developer's) announces too, with the same preset serial. So ours gets
a serial of its own, and where the machine allows a private network namespace
(`unshare`), the simulator and every `enphase` run here share one in which
nothing else announces: "the only gateway found" is then ours by construction.
"""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from zeroconf import ServiceInfo

from enphase_local.cli.discovery import SERVICE_TYPE, found_from_info
from enphase_local.simulator.advertise import service_info

_MAIN = "import sys; from enphase_local.cli import main; sys.exit(main())"


def test_found_from_service_info_ipv4_and_ipv6() -> None:
    info = service_info("122233334444", "D7.6.175", ["192.0.2.7", "fd00::7"], 443, https=True)
    found = found_from_info(info)
    assert (found.serial, found.protovers, found.port) == ("122233334444", "7.6.175", 443)
    assert found.addresses == ["192.0.2.7", "fd00::7"] and found.host == "https://192.0.2.7"
    plain = ServiceInfo(
        SERVICE_TYPE, f"envoy.{SERVICE_TYPE}", addresses=[bytes(16)[:15] + b"\x09"], port=80,
        properties={b"serialnum": b"202020202020", b"protovers": b"8.2.4345"},
    )  # fmt: skip
    only_v6 = found_from_info(plain)
    assert only_v6.host == "[::9]" and only_v6.serial == "202020202020"
    odd = found_from_info(service_info("1", "D8.2.4345", ["192.0.2.8"], 8080))
    assert odd.host == "http://192.0.2.8:8080"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENPHASE_")}
    return {**env, **extra}


@functools.cache
def _netns_ok() -> bool:
    """Whether this machine lets us make a private network namespace (root or user namespaces)."""
    tools = all(shutil.which(t) for t in ("unshare", "nsenter", "ip"))
    if not tools:
        return False
    probe = ["unshare", "-rn", "ip", "link", "set", "lo", "up"]
    return subprocess.run(probe, capture_output=True, timeout=10, check=False).returncode == 0


_ns_pid: list[int] = []  # the simulator's pid while it owns the namespace the tests run in


def _in_netns(args: list[str]) -> list[str]:
    """`args` run inside the simulator's namespace (when it has one of its own)."""
    if not _ns_pid:
        return args
    return ["nsenter", "-t", str(_ns_pid[0]), "-U", "-n", "--preserve-credentials", "--", *args]


@pytest.fixture(scope="module")
def advertised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("home")
    serial = f"9{secrets.randbelow(10**11):011d}"  # not the preset's: other simulators use it
    site = home / "site.toml"
    site.write_text(f'preset = "battery-backup"\nserial = "{serial}"\n')
    simulate = [sys.executable, "-c", _MAIN, "simulate", "--site", str(site), "--latency",
                "none", "--advertise"]  # fmt: skip
    if _netns_ok():  # lo up, then the simulator itself (same pid: nsenter finds it)
        up = 'ip link set lo up && exec "$@"'
        simulate = ["unshare", "-rn", "sh", "-c", up, "sh", *simulate]
    child = subprocess.Popen(
        simulate, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_env(ENPHASE_CONFIG=str(home / "none.toml")),
    )  # fmt: skip
    if _netns_ok():
        _ns_pid.append(child.pid)
    assert child.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("serving"):
            break
    text = "".join(lines)
    try:
        token = re.search(r"owner token: (\S+)", text)
        assert f"gateway {serial}" in text and token, text
        if "advertising 1 gateway" not in text:  # multicast refused: say so
            child.terminate()
            _needs_multicast([], child.communicate(timeout=10)[1].strip()[-200:])
        yield {"serial": serial, "token": token[1], "store": str(home / "tokens.json")}
    finally:
        _ns_pid.clear()
        child.terminate()
        child.wait(10)


def _enphase(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _in_netns([sys.executable, "-c", _MAIN, *args]), capture_output=True, text=True,
        timeout=60, env=_env(**env), check=False,
    )  # fmt: skip


def _needs_multicast(found: list[dict[str, object]], why: str = "") -> None:
    if not found:
        reason = "multicast DNS does not work here (nothing discovered from a real announcement)"
        reason += f": {why}" if why else ""
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def _others_announce(listed: str) -> None:
    reason = f"other gateways announce themselves on this machine: {listed.strip()[-300:]}"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def test_discover_finds_the_announced_simulator(advertised: dict[str, str]) -> None:
    done = _enphase("discover", "--timeout", "1.5", "--json")
    assert done.returncode == 0, done.stderr
    everyone = json.loads(done.stdout)["gateways"]
    found = [g for g in everyone if g["serial"] == advertised["serial"]]
    _needs_multicast(found)
    assert len(found) == 1, found  # announced once, under its own serial
    if _ns_pid:
        assert everyone == found  # alone in its namespace
    gateway = found[0]
    assert gateway["firmware"] and gateway["error"] is None  # read from /info
    assert gateway["host"].startswith("https://")
    table = _enphase("discover", "--timeout", "1.5")
    assert advertised["serial"] in table.stdout and "Gateways" in table.stdout


def test_host_defaults_to_the_only_gateway_found(advertised: dict[str, str]) -> None:
    done = _enphase(
        "read", "--json", ENPHASE_TOKEN=advertised["token"], ENPHASE_DISCOVER_TIMEOUT="1.5",
        ENPHASE_TOKEN_STORE=advertised["store"],
    )  # fmt: skip
    said = done.stdout + done.stderr  # under --json the usage error is JSON on stdout
    if done.returncode == 2 and "none announced" in said:
        _needs_multicast([])
    if not _ns_pid and "gateways found" in said and advertised["serial"] in said:
        _others_announce(said)  # without a namespace of our own, "only" cannot hold
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["gateway"]["serial"] == advertised["serial"]
    assert "using the only gateway found" in done.stderr and advertised["serial"] in done.stderr


def test_simulate_on_another_loopback_address_does_not_warn(tmp_path: object) -> None:
    """Polish: "anyone can reach it" is for addresses others can reach, not 127.0.0.2."""
    child = subprocess.Popen(
        [sys.executable, "-c", _MAIN, "simulate", "--host", "127.0.0.2", "--latency", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    assert child.stdout is not None
    try:
        deadline = time.monotonic() + 30
        seen = ""
        while "serving" not in seen and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            seen += line
        assert "http://127.0.0.2:" in seen, seen
    finally:
        child.terminate()
        _, err = child.communicate(timeout=10)
    assert "anyone" not in err and "warning" not in err

"""What a person at a terminal meets: prompts that Ctrl-C ends at once, confirmations.

Driven through a pseudo-terminal (`pty`), because what matters here is what
happens when stdin is a real terminal.
"""

from __future__ import annotations

import os
import pty
import sys
import time

from .conftest import SimThread
from .pty_helpers import read_until as _read_until
from .pty_helpers import wait_exit as _wait

_MAIN = "import sys; from enphase_local.cli.app import main; sys.exit(main())"


def _spawn(*args: str, env: dict[str, str] | None = None) -> tuple[int, int]:
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(sys.executable, [sys.executable, "-c", _MAIN, *args], env or dict(os.environ))
    return pid, fd


def test_ctrl_c_at_the_hidden_password_prompt_ends_at_once(battery: SimThread) -> None:
    pid, fd = _spawn("read", battery.host, "-u", "someone@example.com")
    try:
        shown = _read_until(fd, b"password for", 20)
        assert b"password for someone@example.com" in shown, shown
        os.write(fd, b"\x03")
        code = _wait(pid, 5)
        rest = _read_until(fd, b"\x00never", 0.5)
    finally:
        os.close(fd)
    assert code == 130, f"still waiting for Enter? {rest!r}"
    assert b"Traceback" not in shown + rest and b"interrupted" in rest


def test_confirmation_at_a_terminal_asks_and_no_aborts(battery: SimThread) -> None:
    env = {**os.environ, "ENPHASE_TOKEN": battery.token()}
    pid, fd = _spawn("relay", battery.host, "off-grid", env=env)
    try:
        shown = _read_until(fd, b"[y/N]", 20)
        assert b"Disconnect" in shown, shown
        os.write(fd, b"n\r")
        code = _wait(pid, 10)
    finally:
        os.close(fd)
    assert code == 1  # declined: nothing written


def test_watch_on_a_terminal_shows_the_live_view(battery: SimThread) -> None:
    pid, fd = _spawn("watch", battery.host, "--token", battery.token(), "--count", "1")
    try:
        shown = b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            chunk = _read_until(fd, b"\x00never", 0.5)
            shown += chunk
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                shown += _read_until(fd, b"\x00never", 0.3)
                break
    finally:
        os.close(fd)
    text = shown.decode(errors="replace")
    # the live view (the default): flows, per phase, and how old the frame is
    for word in ("Solar", "House", "Grid", "Battery", " s old", "L1", "exporting"):
        assert word in text, word
    # a metered token gateway says so (it said "not metered  auth ?")
    assert "not metered" not in text and "auth ?" not in text
    assert "metered" in text and "auth token" in text

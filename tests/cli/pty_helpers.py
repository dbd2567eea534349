"""Reading a child's pseudo-terminal (`pty`) without hanging: shared by the terminal tests.

A test that cares what a person at a terminal sees runs the command under
`pty.fork()`; these helpers read its output until a marker shows (or the
time is up, or the terminal closes) and wait for its exit status.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import time

__all__ = ["read_until", "spawn", "wait_exit"]


def spawn(
    argv: list[str], env: dict[str, str] | None = None, cwd: str | None = None
) -> tuple[int, int]:
    """Run `argv` on a pseudo-terminal of its own; the child's pid and the terminal's fd.

    The child starts with Ctrl-C and Ctrl-\\ at their defaults, as a shell at a terminal
    gives them: a suite started in the background (``cmd &`` in a script) runs with
    SIGINT ignored, which a child keeps across exec, and Ctrl-C would then do nothing.
    """
    pid, fd = pty.fork()
    if pid == 0:  # the child: never returns
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)
        if cwd is not None:
            os.chdir(cwd)
        os.execve(argv[0], argv, env if env is not None else dict(os.environ))
    return pid, fd


def read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    """What the terminal printed until `needle` appeared, it closed, or `timeout` passed."""
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def wait_exit(pid: int, timeout: float) -> int | None:
    """The child's exit code, or None (after killing it) if it has not ended in `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return None

"""How `enphase collect` turns flags into a run: sink flags, secrets, logging, exit codes.

Kept apart from the command itself (`commands.service`) so that the command
reads as what it does; everything here is small, pure or about stderr.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

__all__ = [
    "demo_db",
    "fail",
    "fresh_demo_db",
    "setup_logging",
    "sink_flags",
    "visible_secrets",
    "with_sink_flags",
]


def sink_flags(func: Any) -> Any:
    """One option per sink of the registry (``--mqtt URL``, ``--postgres DSN``)."""
    from ...service.sink_registry import SINK_KINDS

    for kind in reversed(SINK_KINDS):
        dest = f"sink_{kind.table}"
        func = click.option(kind.flag, dest, metavar=kind.metavar, help=kind.help)(func)
    return func


def with_sink_flags(config: Any, connection: dict[str, Any]) -> Any:
    """`config` with each sink flag's value over its ``[sinks.*]`` table (flags win)."""
    from ...service.sink_registry import SINK_KINDS

    tables = {name: dict(table) for name, table in config.sinks.items()}
    for kind in SINK_KINDS:
        value = connection.pop(f"sink_{kind.table}", None)
        if value is not None:
            table = tables.setdefault(kind.table, {})
            table.pop(f"{kind.key}_env", None)
            table[kind.key] = value
    return replace(config, sinks=tables)


class _Fail(click.ClickException):
    """A one-line failure with its own exit code (2: fix a setting; 3: a service is away)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return self.code


def visible_secrets(connection: dict[str, Any], sinks: dict[str, Any]) -> list[str]:
    """The flags that put a secret on the command line (`ps` shows it to everyone)."""
    flags = [f"--{name}" for name in ("token", "password") if connection.get(name)]
    flags += [f"--{key[5:]}" for key, value in sinks.items() if value and _url_password(str(value))]
    return flags


def fail(message: str, code: int) -> click.ClickException:
    return _Fail(message, code)


class _HideSecrets(logging.Filter):
    """Replaces the configured tokens and passwords in a log line with ``***``.

    Why not the CLI's redactor: it replaces serials too, and a collector's log
    must name the gateway each line is about.
    """

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            text = record.getMessage()
            for secret in self._secrets:
                text = text.replace(secret, "***")
            record.msg, record.args = text, None
        return True


def _url_password(text: str) -> str | None:
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(text).password
    except ValueError:
        return None
    return unquote(password) if password else None


def setup_logging(debug: bool, config: Any = None) -> None:
    """One handler on stderr (replacing the one `settings_from` installs: no line twice)."""
    secrets: list[str] = []
    for entry in getattr(config, "gateways", ()):
        secrets += [s for s in (entry.token, entry.password) if s]
    for table in getattr(config, "sinks", {}).values():
        secrets += [str(v) for k, v in table.items() if k in ("password", "dsn")]
        secrets += [p for v in table.values() if isinstance(v, str) and (p := _url_password(v))]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.addFilter(_HideSecrets(secrets))
    root = logging.getLogger("enphase_local")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    root.propagate = False
    logging.getLogger("enphase_local.service").setLevel(logging.DEBUG if debug else logging.INFO)
    # the drivers' own warnings (asyncpg's pool, with a traceback) repeat what the sinks
    # say in one line; they show with --debug only
    for name in ("asyncpg", "gmqtt", "aiohttp"):
        driver = logging.getLogger(name)
        driver.handlers[:] = [handler] if debug else [logging.NullHandler()]
        driver.propagate = False


def demo_db() -> Path:
    from ...service.config import default_db_path

    return default_db_path().with_name("demo-history.db")


def fresh_demo_db() -> Path:
    """The demo's history file, emptied: each demo starts at 05:00 today, from nothing."""
    import fcntl
    import os

    path = demo_db()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(path.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another demo running: leave it be
    except OSError:
        return path  # the history store says so in one line
    finally:
        os.close(fd)
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return path

"""Connection settings from flags, environment and a config file, in that order.

Why three layers: a flag is what the user typed just now, the environment is
what a script or a shell session set up, the file is the standing default.
So flags win over ``ENPHASE_*`` variables, which win over
``~/.config/enphase-local/config.toml`` (or ``$ENPHASE_CONFIG``).

The file is TOML with top-level keys named like the settings below::

    host = "192.168.1.50"
    token = "eyJ..."          # or username/password; prefer `enphase token`
    timeout = 20
    retries = 3

A file holding a token or a password should be readable by its owner only;
we warn when it is not, and never print secrets.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import CliError

__all__ = ["ENV", "Settings", "config_path", "load_file", "resolve"]

# setting -> environment variable
ENV: dict[str, str] = {
    "host": "ENPHASE_HOST",
    "token": "ENPHASE_TOKEN",
    "username": "ENPHASE_USERNAME",
    "password": "ENPHASE_PASSWORD",
    "timeout": "ENPHASE_TIMEOUT",
    "retries": "ENPHASE_RETRIES",
    "enlighten_url": "ENPHASE_ENLIGHTEN_URL",
    "entrez_url": "ENPHASE_ENTREZ_URL",
    "token_store": "ENPHASE_TOKEN_STORE",
    "reprobe": "ENPHASE_REPROBE",
}
CONFIG_ENV = "ENPHASE_CONFIG"
_SECRETS = ("token", "password")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything needed to reach and authenticate to one gateway (and the cloud)."""

    host: str | None = None
    token: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float | None = None
    retries: int | None = None
    enlighten_url: str | None = None
    entrez_url: str | None = None
    token_store: str | None = None
    reprobe: bool | None = None  # probe afresh instead of using the probe cache

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in _SECRETS:
            if shown[name] is not None:
                shown[name] = "***"
        return f"Settings({shown})"

    def require_host(self) -> str:
        if not self.host:
            raise CliError(
                "usage",
                "no gateway address: give HOST, or --host, or set ENPHASE_HOST, or `host` in the "
                "config file",
            )
        return self.host


def config_path() -> Path:
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".config" / "enphase-local" / "config.toml"


def load_file(path: Path | None = None) -> dict[str, Any]:
    """The settings in the config file; {} when it does not exist."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise CliError("usage", f"cannot read config file {path}: {err.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CliError("usage", f"config file {path} is not valid TOML: {err}") from None
    unknown = sorted(set(data) - set(ENV))
    if unknown:
        raise CliError(
            "usage",
            f"config file {path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(ENV)})",
        )
    if any(data.get(k) for k in _SECRETS) and _readable_by_others(path):
        from .output import say

        say(f"warning: {path} holds a secret and is readable by others: chmod 600 it")
    return data


def _readable_by_others(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRGRP | stat.S_IROTH))


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in (*_TRUE, *_FALSE):
        raise ValueError(f"expected one of {', '.join(_TRUE + _FALSE)}")
    return text in _TRUE


def _convert(name: str, value: Any, origin: str) -> Any:
    if value is None or value == "":
        return None
    try:
        if name == "timeout":
            number = float(value)
            if number <= 0:
                raise ValueError("must be positive")
            return number
        if name == "reprobe":
            return _flag(value)
        if name == "retries":
            count = int(value)
            if count < 0:
                raise ValueError("must be 0 or more")
            return count
    except (TypeError, ValueError) as err:
        raise CliError("usage", f"{name} from {origin}: {value!r} is not valid ({err})") from None
    if not isinstance(value, str):
        raise CliError("usage", f"{name} from {origin}: expected text, got {value!r}")
    return value


def resolve(
    flags: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    file: Mapping[str, Any] | None = None,
) -> Settings:
    """Flags (None = not given) over environment over file."""
    environ = os.environ if environ is None else environ
    if file is None:
        file = load_file()
    values: dict[str, Any] = {}
    for name, var in ENV.items():
        if flags.get(name) not in (None, ""):
            values[name] = _convert(name, flags[name], f"--{name.replace('_', '-')}")
        elif environ.get(var):
            values[name] = _convert(name, environ[var], f"${var}")
        elif file.get(name) not in (None, ""):
            values[name] = _convert(name, file[name], "the config file")
    return Settings(**values)

"""Settings of the InfluxDB sink: which server, which API, which database, which secret.

    [sinks.influx]
    url = "http://127.0.0.1:8086"   # the server; ?db=NAME or ?org=O&bucket=B work too
    database = "enphase"            # 1.x (and 3.x): the database
    # 2.x: org = "home", bucket = "solar"; 3.x: api = "v3", database = "enphase"
    token_file = "/etc/enphase-local/influx.token"   # or token_env; 1.x: username, password_env
    live_interval_s = 10            # power points at most every 10 s per gateway

Why one URL can say it all: ``enphase collect --influx URL`` has one
value, so the database (1.x) or org and bucket (2.x) may ride in its query.
The API is chosen from what is given (a bucket means 2.x) unless `api` says.
Secrets come from a file or the environment; a token or password written in
the file (or in the URL) works but is warned about, and is never shown.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

__all__ = ["API_VERSIONS", "InfluxSettings"]

_LOG = logging.getLogger("enphase_local.service.influx")
API_VERSIONS = ("v1", "v2", "v3")
_SECRETS = ("token", "password")
_URL_KEYS = {"db": "database", "database": "database", "org": "org", "bucket": "bucket"}


def _secret_from(data: dict[str, Any], name: str, *, warn: bool = True) -> None:
    """``<name>_file`` (first line) or ``<name>_env`` into `name`; warn on a plain one."""
    file, env = data.pop(f"{name}_file", None), data.pop(f"{name}_env", None)
    options = ((name, data.get(name)), (f"{name}_file", file), (f"{name}_env", env))
    given = [key for key, value in options if value is not None]
    if len(given) > 1:
        raise ValueError(f"give one of {', '.join(given)}, not several")
    if file is not None:
        path = Path(str(file)).expanduser()
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"cannot read {name}_file {path} ({type(err).__name__})") from None
        if not text:
            raise ValueError(f"{name}_file {path} is empty")
        data[name] = text.splitlines()[0].strip()
    elif env is not None:
        if not isinstance(env, str) or not os.environ.get(env):
            raise ValueError(f"{name}_env names {env!r}, which is not set in the environment")
        data[name] = os.environ[env]
    elif data.get(name) is not None and warn:
        _LOG.warning(
            "InfluxDB: the %s is written in the configuration; prefer %s_file or %s_env",
            name,
            name,
            name,
        )


@dataclass(frozen=True, slots=True)
class InfluxSettings:
    """Where and how the sink writes (see the module docstring)."""

    url: str = "http://127.0.0.1:8086"
    api: str = ""  # "v1", "v2" or "v3"; "" chooses from what is given
    database: str = "enphase"
    org: str | None = None
    bucket: str | None = None
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    create_database: bool = True  # 1.x: CREATE DATABASE at start (idempotent)
    live_interval_s: float = 10.0
    flush_interval_s: float = 5.0
    batch_lines: int = 5000
    max_buffer_lines: int = 200_000
    timeout_s: float = 30.0
    gzip: bool = True

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the InfluxDB url must be http://HOST[:PORT] or https://...")
        if parts.query or parts.username:
            raise ValueError("url parameters and credentials are read by from_config only")
        if self.api not in ("", *API_VERSIONS):
            raise ValueError(f"api must be one of {', '.join(API_VERSIONS)}, got {self.api!r}")
        if self.api == "v2" and not (self.org and self.bucket):
            raise ValueError("InfluxDB 2.x needs org and bucket")
        if min(self.live_interval_s, self.flush_interval_s, self.timeout_s) < 0:
            raise ValueError("intervals and timeout must not be negative")
        if self.batch_lines < 1 or self.max_buffer_lines < self.batch_lines:
            raise ValueError("batch_lines must be positive and max_buffer_lines at least as big")

    @property
    def version(self) -> str:
        """The API written to: `api`, or v2 when a bucket is given, else v1."""
        return self.api or ("v2" if self.bucket else "v1")

    @property
    def base(self) -> str:
        """The server's URL without query, credentials or trailing slash: safe to show."""
        parts = urlsplit(self.url)
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> InfluxSettings:
        """From a ``[sinks.influx]`` table (or ``{"url": ...}`` from ``--influx URL``)."""
        data = dict(table)
        url, in_url = data.get("url"), False
        if isinstance(url, str):
            parts = urlsplit(url)
            for key, value in parse_qsl(parts.query):
                if key not in _URL_KEYS:
                    raise ValueError(f"unknown InfluxDB url parameter {key!r} (db, org, bucket)")
                data.setdefault(_URL_KEYS[key], value)
            in_url = parts.password is not None
            if in_url:
                _LOG.warning(
                    "InfluxDB: a password in the url (seen in `ps` and shell history); "
                    "prefer password_file or password_env"
                )
                data.setdefault("username", parts.username)
                data.setdefault("password", parts.password)
            data["url"] = urlunsplit(
                parts._replace(query="", netloc=parts.netloc.rpartition("@")[2])
            )
        for name in _SECRETS:
            _secret_from(data, name, warn=not (name == "password" and in_url))
        if data.get("token") is None and os.environ.get("ENPHASE_INFLUX_TOKEN"):
            data["token"] = os.environ["ENPHASE_INFLUX_TOKEN"]
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            names = sorted(known | {f"{s}_file" for s in _SECRETS} | {f"{s}_env" for s in _SECRETS})
            raise ValueError(
                f"unknown InfluxDB setting {', '.join(unknown)}; known: {', '.join(names)}"
            )
        for key in ("live_interval_s", "flush_interval_s", "timeout_s"):
            if key in data:
                value = data[key]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"{key} must be a number, got {value!r}")
                data[key] = float(value)
        for key in ("batch_lines", "max_buffer_lines"):
            if key in data and (isinstance(data[key], bool) or not isinstance(data[key], int)):
                raise ValueError(f"{key} must be a whole number, got {data[key]!r}")
        return cls(**data)

    def write_request(self) -> tuple[str, dict[str, str], dict[str, str]]:
        """(url, query parameters, headers) of a write, for this API version."""
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        version = self.version
        if version == "v1":
            if self.username and self.password and not self.token:
                pair = f"{self.username}:{self.password}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
            params = {"db": self.database, "precision": "s"}
            return f"{self.base}/write", params, headers
        if version == "v2":
            assert self.org is not None and self.bucket is not None
            params = {"org": self.org, "bucket": self.bucket, "precision": "s"}
            return f"{self.base}/api/v2/write", params, headers
        if self.token:  # 3.x's own endpoint documents Bearer (its v2 one, Token)
            headers["Authorization"] = f"Bearer {self.token}"
        params = {"db": self.database, "precision": "second"}
        return f"{self.base}/api/v3/write_lp", params, headers

"""`enphase collect`'s configuration: a TOML file listing gateways, or one HOST.

Why a file of its own (not the CLI's config.toml): a collector reads many
gateways, each with its credentials, and has settings of its own (where the
history goes, how often to read, where the dashboard listens)::

    [collect]
    interval = 60            # seconds between updates of each gateway
    db = "/var/lib/enphase-local/history.db"
    keep_live_days = 7       # live-rate power; 1-minute min/mean/max are kept for ever
    live = "auto"            # follow live 1 Hz data: "auto" (while a dashboard watches), true/false
    live_history_step = 10   # history: one power row (the mean) per 10 s per gateway; 0: all
    port = 8787              # dashboard, /metrics and /healthz
    lan = false              # true: listen on every interface, not only 127.0.0.1
    lan_token_file = "/etc/enphase-local/lan-token"   # what the LAN must send (or lan_no_auth)

    [[gateway]]
    name = "house"
    host = "192.168.1.50"
    token_file = "/etc/enphase-local/house.jwt"   # or token, username/password, or nothing
    live = true              # this gateway's own live setting (default: [collect] live)

    [sinks.mqtt]             # optional sinks, one table each (`sink_registry`)
    url = "mqtt://127.0.0.1:1883"

A file holding a token or a password must be readable by its owner only;
errors name the file and the key, never the secret.
"""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = [
    "LIVE_MODES",
    "CollectConfig",
    "ConfigError",
    "GatewayEntry",
    "SiteEntry",
    "check_lan",
    "default_db_path",
    "forced_live",
    "live_mode",
    "load_config",
    "read_secret",
    "sink_settings",
]

DEFAULT_PORT = 8787
_GATEWAY_KEYS = {
    "name",
    "host",
    "token",
    "token_file",
    "username",
    "password",
    "token_store",
    "timeout",
    "timezone",  # the site's IANA zone, where the gateway does not say it (issue 23)
    "live",  # "auto" | true | false; default: [collect] live
}
_COLLECT_KEYS = {
    "interval",
    "db",
    "keep_live_days",
    "port",
    "lan",
    "stale_after",
    "unreachable_after",
    "lan_token_file",
    "lan_token_env",
    "lan_no_auth",
    "live",
    "live_history_step",
}
LIVE_MODES = ("auto", "on", "off")


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and what to fix."""


@dataclass(frozen=True, slots=True)
class GatewayEntry:
    """One gateway of the config: how to reach and authenticate to it."""

    name: str
    host: str
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token_store: str | None = None
    timeout: float | None = None
    retries: int | None = None
    enlighten_url: str | None = None
    entrez_url: str | None = None
    timezone: str | None = None  # the site's zone for "today"; None: the gateway's own
    live: str | None = None  # "auto" | "on" | "off"; None: the config's default (`live_mode`)


@dataclass(frozen=True, slots=True)
class SiteEntry:
    """One ``[[site]]``: several gateways summed as one site (`service.sites`)."""

    name: str
    gateways: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CollectConfig:
    gateways: tuple[GatewayEntry, ...]
    interval_s: float = 60.0
    db: Path | None = None
    keep_live_days: float = 7.0
    port: int = DEFAULT_PORT
    lan: bool = False
    stale_after_s: float = 180.0
    sites: tuple[SiteEntry, ...] = ()  # [[site]]: gateways summed as one
    unreachable_after_s: float | None = None  # None: 3 intervals
    lan_token: str | None = field(default=None, repr=False)  # what the LAN must send
    lan_no_auth: bool = False  # the LAN without a token, asked for explicitly
    live: str = "auto"  # every gateway's live mode unless its entry says (LIVE_MODES)
    live_history_step_s: float = 10.0  # one power row per that many s per gateway (`live_thin`)
    # [sinks.<name>] tables (see `sink_registry`); may hold a password or DSN
    sinks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)


def live_mode(config: CollectConfig, entry: GatewayEntry) -> str:
    """The live mode of one gateway: its own, else the config's."""
    return entry.live or config.live


def forced_live(config: CollectConfig, on: bool) -> CollectConfig:
    """`--live` / `--no-live`: every gateway on (or off), whatever the file says."""
    mode = "on" if on else "off"
    gateways = tuple(replace(g, live=None) for g in config.gateways)
    return replace(config, live=mode, gateways=gateways)


def _live(where: str, value: Any) -> str:
    """``live = "auto" | true | false`` as one of `LIVE_MODES`."""
    if value is True or value == "on":
        return "on"
    if value is False or value == "off":
        return "off"
    if value == "auto":
        return "auto"
    raise ConfigError(f'{where}: live must be "auto", true or false, got {value!r}')


def _step(where: str, value: Any) -> float:
    from .live_thin import STEPS

    if isinstance(value, bool) or value not in STEPS:
        raise ConfigError(
            f"{where}: live_history_step must divide a minute "
            f"({', '.join(map(str, STEPS))} seconds; 0 keeps every frame), got {value!r}"
        )
    return float(value)


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/enphase-local/history.db`` (``~/.local/share/...`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "enphase-local" / "history.db"


def _number(where: str, key: str, value: Any, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= minimum:
        raise ConfigError(f"{where}: {key} must be a number above {minimum:g}, got {value!r}")
    return float(value)


def _text(where: str, key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        shown = "***" if key in ("token", "password") else repr(value)
        raise ConfigError(f"{where}: {key} must be non-empty text, got {shown}")
    return value


def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _gateway(where: str, raw: Any, index: int) -> GatewayEntry:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: each [[gateway]] must be a table")
    unknown = sorted(set(raw) - _GATEWAY_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: gateway {index + 1}: unknown key(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(_GATEWAY_KEYS))})"
        )
    host = _text(where, "host", raw.get("host"))
    if host is None:
        raise ConfigError(f"{where}: gateway {index + 1} has no host")
    timeout = raw.get("timeout")
    timezone = _text(where, "timezone", raw.get("timezone"))
    if timezone is not None and not _known_zone(timezone):
        raise ConfigError(
            f"{where}: gateway {index + 1}: unknown time zone {timezone!r} "
            "(an IANA name such as 'US/Pacific')"
        )
    token = _text(where, "token", raw.get("token"))
    token_file = _text(where, "token_file", raw.get("token_file"))
    if token_file is not None:
        if token is not None:
            raise ConfigError(f"{where}: gateway {index + 1}: give token or token_file, not both")
        token = read_secret(Path(token_file).expanduser(), "token_file")
    return GatewayEntry(
        name=_text(where, "name", raw.get("name")) or host,
        host=host,
        token=token,
        username=_text(where, "username", raw.get("username")),
        password=_text(where, "password", raw.get("password")),
        token_store=_text(where, "token_store", raw.get("token_store")),
        timeout=None if timeout is None else _number(where, "timeout", timeout),
        timezone=timezone,
        live=None if "live" not in raw else _live(f"{where}: gateway {index + 1}", raw["live"]),
    )


def _sink_tables(where: str, raw: Any) -> dict[str, dict[str, Any]]:
    """The ``[sinks.NAME]`` tables, checked for shape (`sink_registry` knows the names)."""
    if not isinstance(raw, dict) or not all(isinstance(t, dict) for t in raw.values()):
        raise ConfigError(f"{where}: [sinks] must hold tables such as [sinks.mqtt]")
    return {name: dict(table) for name, table in raw.items()}


def read_secret(path: Path, what: str) -> str:
    """A token or password kept in a file (its first line): out of `ps` and the config."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as err:
        raise ConfigError(f"cannot read the {what} {path} ({err.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"the {what} {path} is not text") from None
    secret = text.splitlines()[0].strip() if text else ""
    if not secret:
        raise ConfigError(f"the {what} {path} is empty")
    return secret


def _lan_token(where: str, collect: Mapping[str, Any]) -> str | None:
    file = _text(where, "lan_token_file", collect.get("lan_token_file"))
    env = _text(where, "lan_token_env", collect.get("lan_token_env"))
    if file is not None:
        return read_secret(Path(file).expanduser(), "lan_token_file")
    if env is not None:
        if not os.environ.get(env):
            raise ConfigError(f"{where}: lan_token_env names {env}, which is not set")
        return os.environ[env]
    return None


def check_lan(config: CollectConfig) -> None:
    """Listening on the LAN needs a token, or `lan_no_auth` said out loud."""
    if config.lan and not config.lan_token and not config.lan_no_auth:
        raise ConfigError(
            "--lan shows the house to the whole network: give a token the LAN must send "
            "(--lan-token-file FILE, $ENPHASE_LAN_TOKEN, or lan_token_file in [collect]), "
            "or --lan-no-auth to go without"
        )
    if config.lan_token is not None and len(config.lan_token) < 16:
        raise ConfigError("the LAN token must be at least 16 characters long")


def load_config(path: Path) -> CollectConfig:
    """Read and check a collector config file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {path} is not valid TOML: {err}") from None
    where = str(path)
    unknown = sorted(set(data) - {"collect", "gateway", "sinks", "site"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown section(s) {', '.join(unknown)} "
            "(use [collect], [[gateway]], [sinks.NAME], [[site]])"
        )
    sinks = _sink_tables(where, data.get("sinks", {}))
    collect = data.get("collect", {})
    if not isinstance(collect, dict):
        raise ConfigError(f"{where}: [collect] must be a table")
    bad = sorted(set(collect) - _COLLECT_KEYS)
    if bad:
        raise ConfigError(
            f"{where}: [collect]: unknown key(s) {', '.join(bad)} "
            f"(known: {', '.join(sorted(_COLLECT_KEYS))})"
        )
    raw_gateways = data.get("gateway", [])
    if not isinstance(raw_gateways, list) or not raw_gateways:
        raise ConfigError(f"{where}: list at least one [[gateway]] with a host")
    gateways = tuple(_gateway(where, raw, i) for i, raw in enumerate(raw_gateways))
    names = [g.name for g in gateways]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: gateway names must differ ({', '.join(names)})")
    port = collect.get("port", DEFAULT_PORT)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"{where}: [collect] port must be 0..65535, got {port!r}")
    db = _text(where, "db", collect.get("db"))
    unreachable = collect.get("unreachable_after")
    return CollectConfig(
        gateways=gateways,
        interval_s=_number(where, "interval", collect.get("interval", 60.0)),
        db=Path(db).expanduser() if db else None,
        keep_live_days=_number(where, "keep_live_days", collect.get("keep_live_days", 7.0)),
        port=port,
        lan=bool(collect.get("lan", False)),
        stale_after_s=_number(where, "stale_after", collect.get("stale_after", 180.0)),
        sites=_sites(where, data.get("site", []), names),
        unreachable_after_s=(
            None if unreachable is None else _number(where, "unreachable_after", unreachable)
        ),
        lan_token=_lan_token(where, collect),
        lan_no_auth=bool(collect.get("lan_no_auth", False)),
        live=_live(f"{where}: [collect]", collect.get("live", "auto")),
        live_history_step_s=_step(f"{where}: [collect]", collect.get("live_history_step", 10)),
        sinks=sinks,
    )


def _sites(where: str, raw: Any, gateways: list[str]) -> tuple[SiteEntry, ...]:
    """The ``[[site]]`` entries: named, of known gateways, each gateway in one site at most."""
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        raise ConfigError(f"{where}: each [[site]] must be a table")
    sites: list[SiteEntry] = []
    seen: dict[str, str] = {}
    for index, table in enumerate(raw):
        unknown = sorted(set(table) - {"name", "gateways"})
        if unknown:
            raise ConfigError(f"{where}: site {index + 1}: unknown key(s) {', '.join(unknown)}")
        name = _text(where, "name", table.get("name"))
        members = table.get("gateways")
        if name is None or not isinstance(members, list) or not members:
            raise ConfigError(f"{where}: site {index + 1} needs a name and a list of gateways")
        if name in gateways or any(s.name == name for s in sites):
            raise ConfigError(f"{where}: site {name!r}: its name is already a gateway's or site's")
        for member in members:
            if member not in gateways:
                raise ConfigError(
                    f"{where}: site {name!r}: no [[gateway]] named {member!r} "
                    f"(gateways: {', '.join(gateways)})"
                )
            if member in seen:
                raise ConfigError(
                    f"{where}: gateway {member!r} is in sites {seen[member]!r} and {name!r}"
                )
            seen[member] = name
        sites.append(SiteEntry(name, tuple(members)))
    return tuple(sites)


def sink_settings(
    table: Mapping[str, Any], *, kind: str, secret: str, known: Iterable[str]
) -> dict[str, Any]:
    """A sink's TOML table checked: ``<secret>_env`` read from the environment, no unknown key.

    Why the ``_env`` form: a password or DSN named by an environment variable
    stays out of the config file. `kind` names the sink in the errors.
    """
    data = dict(table)
    env_key = f"{secret}_env"
    env = data.pop(env_key, None)
    if env is not None:
        if not isinstance(env, str) or env not in os.environ:
            raise ValueError(f"{env_key} names {env!r}, which is not set in the environment")
        data[secret] = os.environ[env]
    names = set(known)
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(
            f"unknown {kind} setting {', '.join(unknown)}; known: {', '.join(sorted(names))}"
        )
    return data

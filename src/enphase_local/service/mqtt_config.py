"""Settings of the MQTT sink, from keyword arguments or a TOML table.

    [sinks.mqtt]
    url = "mqtts://broker.lan:8883"   # mqtt:// (1883) or mqtts:// (8883, TLS)
    username = "enphase"
    password_env = "ENPHASE_MQTT_PASSWORD"  # or password = "..." (kept out of logs)
    base = "enphase"                 # topics: <base>/<serial>/...
    discovery_prefix = "homeassistant"
    collector = "garage-pi"          # names this collector's availability topic
    ca_file = "/etc/ssl/certs/my-ca.pem"
    cert_file = "/etc/enphase/client.pem"   # TLS client certificate (and key_file)
    commands = ["storage_mode", "reserve_soc"]  # off unless listed; grid_relay only by name
    entity_ids = "native"            # or "core": Home Assistant core enphase_envoy's entity ids
    command_spacing_s = 10.0         # per gateway and control: at least this between writes

The password never appears in a log line, an error or `repr`: `redacted_url`
is what messages show. It comes from ``password_file`` or ``password_env``
(or the URL), so it never has to be typed on a command line.

Why commands are off by default: anyone who may publish to the command
topics can change the site, so a collector acts on a control only when its
config names it. The grid relay takes the house off the grid: no pattern
enables it, only its own name.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from ..features import FEATURES
from .config import sink_settings
from .hass_entities import LEGACY_KEYS, writable_names
from .hass_entity_ids import ENTITY_ID_MODES

__all__ = ["COMMAND_CONTROLS", "MqttSettings"]

_EXACT, _PREFIXES = writable_names(FEATURES)
COMMAND_CONTROLS: tuple[str, ...] = _EXACT
"""What ``commands`` may list: a control's feature id (every item of it), its old name
(``grid_relay``), ``<feature id>_*``, or ``<feature id>_<item>`` for one item
(``dry_contact_NC1``): all from the feature table (`hass_entities.writable_names`)."""

_SCHEMES = {"mqtt": (1883, False), "tcp": (1883, False), "mqtts": (8883, True), "ssl": (8883, True)}
_TOPIC_FORBIDDEN = set("+#\0")


def _check_commands(names: object) -> tuple[str, ...]:
    if isinstance(names, str) or not isinstance(names, list | tuple):
        raise ValueError(f"commands must be a list of control names; got {names!r:.60}")
    for name in names:
        ok = isinstance(name, str) and (
            name in _EXACT or any(name.startswith(p) and len(name) > len(p) for p in _PREFIXES)
        )
        if not ok:
            raise ValueError(
                f"commands: unknown control {name!r:.60}; known: {', '.join(_EXACT)}, "
                "or <control>_<item> for one item"
            )
    return tuple(names)


def _read_password(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(
            f"cannot read the MQTT password_file {path!r}: {getattr(err, 'strerror', err)}"
        ) from None


def _check_topic_part(name: str, value: str) -> str:
    if not value or _TOPIC_FORBIDDEN & set(value) or value.startswith("/") or value.endswith("/"):
        raise ValueError(
            f"{name} must be a plain MQTT topic prefix without + # or leading/trailing /; "
            f"got {value!r}"
        )
    return value


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """Where and how the MQTT sink connects, and what it publishes."""

    url: str = "mqtt://127.0.0.1:1883"
    base: str = "enphase"
    discovery_prefix: str = "homeassistant"
    collector: str = field(
        default_factory=lambda: socket.gethostname().split(".")[0] or "collector"
    )
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    password_file: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    tls_insecure: bool = False
    keepalive_s: int = 30
    state_interval_s: float = 1.0
    inverter_entities_limit: int = 16
    verify_after_s: float | None = 120.0
    reconnect_base_s: float = 1.0
    reconnect_cap_s: float = 60.0
    commands: tuple[str, ...] = ()
    command_spacing_s: float = 10.0
    session_expiry_s: int = 60
    entity_ids: str = "native"

    def __post_init__(self) -> None:
        object.__setattr__(self, "commands", _check_commands(self.commands))
        if self.password_file is not None and self.password is None:
            object.__setattr__(self, "password", _read_password(self.password_file))
        if self.key_file is not None and self.cert_file is None:
            raise ValueError("MQTT key_file is set without cert_file (the client certificate)")
        scheme = urlsplit(self.url).scheme
        if scheme not in _SCHEMES:
            raise ValueError(
                f"MQTT url must start with mqtt:// or mqtts://; got {self.redacted_url!r}"
            )
        if not urlsplit(self.url).hostname:
            raise ValueError(f"MQTT url names no host: {self.redacted_url!r}")
        _check_topic_part("base", self.base)
        _check_topic_part("discovery_prefix", self.discovery_prefix)
        _check_topic_part("collector", self.collector)
        if self.state_interval_s < 0 or self.reconnect_base_s <= 0 or self.reconnect_cap_s <= 0:
            raise ValueError("state_interval_s, reconnect_base_s and reconnect_cap_s must be > 0")
        if (self.ca_file or self.cert_file) and not self.tls:
            raise ValueError(
                f"ca_file / cert_file are set but {self.redacted_url} is not TLS: use mqtts://"
            )
        if self.tls:
            self.tls_context()  # a missing or bad file is a config error now, not a retry loop
        if isinstance(self.session_expiry_s, bool) or not isinstance(self.session_expiry_s, int):
            raise ValueError(
                f"session_expiry_s must be whole seconds; got {self.session_expiry_s!r}"
            )
        if not 0 <= self.session_expiry_s <= 86400:
            raise ValueError(f"session_expiry_s must be 0 to 86400; got {self.session_expiry_s!r}")
        if self.entity_ids not in ENTITY_ID_MODES:
            raise ValueError(
                f"entity_ids must be one of {', '.join(ENTITY_ID_MODES)}; "
                f"got {self.entity_ids!r:.40}"
            )
        if not self.command_spacing_s >= 0:
            raise ValueError(f"command_spacing_s must be >= 0; got {self.command_spacing_s!r}")

    def command_enabled(self, control: str, feature_id: str | None = None) -> bool:
        """Whether the config lets MQTT commands change `control` (off unless listed).

        `control` is the command's name (its component key); `feature_id` the
        feature it sets, which enables all its items (``dry_contact``), as does
        ``<feature id>_*``. No pattern reaches another feature's controls.
        """
        if control in self.commands:
            return True
        if feature_id is None:
            return False
        names = {feature_id, f"{feature_id}_*", LEGACY_KEYS.get(feature_id)}
        return any(name in self.commands for name in names)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or _SCHEMES[parts.scheme][0]

    @property
    def tls(self) -> bool:
        return _SCHEMES[urlsplit(self.url).scheme][1]

    @property
    def redacted_url(self) -> str:
        """The URL as logs may show it: no user name, no password."""
        parts = urlsplit(self.url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        return f"{parts.scheme}://{netloc}"

    def credentials(self) -> tuple[str | None, str | None]:
        """User name and password: explicit settings first, then those in the URL."""
        parts = urlsplit(self.url)
        user = self.username or (unquote(parts.username) if parts.username else None)
        password = self.password or (unquote(parts.password) if parts.password else None)
        return user, password

    def tls_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as err:
            raise ValueError(
                f"cannot load the MQTT ca_file {self.ca_file!r}: "
                f"{getattr(err, 'strerror', None) or err}"
            ) from None
        if self.cert_file is not None:
            try:
                context.load_cert_chain(self.cert_file, self.key_file)
            except (OSError, ssl.SSLError) as err:
                raise ValueError(
                    f"cannot load the MQTT client certificate {self.cert_file!r}: "
                    f"{getattr(err, 'strerror', None) or err}"
                ) from None
        if self.tls_insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    @property
    def bridge_availability(self) -> str:
        """This collector's availability topic: ``online``, and ``offline`` as its last will."""
        return f"{self.base}/bridge/{self.collector}/availability"

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> MqttSettings:
        """Settings from a TOML table (see the module docstring); unknown keys are refused."""
        data = sink_settings(table, kind="MQTT", secret="password", known=cls.__dataclass_fields__)
        return cls(**data)

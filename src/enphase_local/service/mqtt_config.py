"""Settings of the MQTT sink, from keyword arguments or a TOML table.

    [sinks.mqtt]
    url = "mqtts://broker.lan:8883"   # mqtt:// (1883) or mqtts:// (8883, TLS)
    username = "enphase"
    password_env = "ENPHASE_MQTT_PASSWORD"  # or password = "..." (kept out of logs)
    base = "enphase"                 # topics: <base>/<serial>/...
    discovery_prefix = "homeassistant"
    collector = "garage-pi"          # names this collector's availability topic
    ca_file = "/etc/ssl/certs/my-ca.pem"

The password never appears in a log line, an error or `repr`: `redacted_url`
is what messages show.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from .config import sink_settings

__all__ = ["MqttSettings"]

_SCHEMES = {"mqtt": (1883, False), "tcp": (1883, False), "mqtts": (8883, True), "ssl": (8883, True)}
_TOPIC_FORBIDDEN = set("+#\0")


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
    ca_file: str | None = None
    tls_insecure: bool = False
    keepalive_s: int = 30
    state_interval_s: float = 1.0
    inverter_entities_limit: int = 16
    verify_after_s: float | None = 120.0
    reconnect_base_s: float = 1.0
    reconnect_cap_s: float = 60.0

    def __post_init__(self) -> None:
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
        context = ssl.create_default_context(cafile=self.ca_file)
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

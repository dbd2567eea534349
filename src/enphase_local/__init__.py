"""enphase-local: everything your Enphase gateway knows, locally, gently.

    from enphase_local import Envoy

    async with Envoy("192.168.1.50", token="eyJ...") as envoy:
        snapshot = await envoy.update()
        print(snapshot.production.watts)

The public surface is small on purpose; everything else is internal and may
change. Heavy names (`Envoy` pulls in aiohttp) load on first use, so
``import enphase_local`` stays fast for scripts and ``enphase --help``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    EnvoyAuthError,
    EnvoyBadCredentialsError,
    EnvoyCertificateChangedError,
    EnvoyConnectionError,
    EnvoyError,
    EnvoyFeatureUnavailable,
    EnvoyHTTPError,
    EnvoyInsecureConnectionError,
    EnvoyMFARequiredError,
    EnvoyParseError,
    EnvoyRoleError,
    EnvoyTimeoutError,
    EnvoyTokenExpiredError,
)
from .firmware import Firmware

if TYPE_CHECKING:
    from .capabilities import Capability
    from .client import Envoy
    from .control import Outcome, WriteResult
    from .models.energy import EnergyReading, PhaseReadings
    from .models.snapshot import Snapshot
    from .models.tariff import StorageMode
    from .net.backoff import RetryPolicy
    from .net.connector import gateway_session
    from .net.credentials import CloudUrls
    from .net.exchange import Timeouts
    from .net.probe_cache import ProbeCache
    from .net.token_store import TokenStore

__version__ = "0.1.0"

_LAZY = {
    "Capability": "capabilities",
    "CloudUrls": "net.credentials",
    "EnergyReading": "models.energy",
    "Envoy": "client",
    "Outcome": "control",
    "PhaseReadings": "models.energy",
    "ProbeCache": "net.probe_cache",
    "RetryPolicy": "net.backoff",
    "Snapshot": "models.snapshot",
    "StorageMode": "models.tariff",
    "Timeouts": "net.exchange",
    "TokenStore": "net.token_store",
    "WriteResult": "control",
    "gateway_session": "net.connector",
}

__all__ = [
    "Capability",
    "CloudUrls",
    "EnergyReading",
    "Envoy",
    "EnvoyAuthError",
    "EnvoyBadCredentialsError",
    "EnvoyCertificateChangedError",
    "EnvoyConnectionError",
    "EnvoyError",
    "EnvoyFeatureUnavailable",
    "EnvoyHTTPError",
    "EnvoyInsecureConnectionError",
    "EnvoyMFARequiredError",
    "EnvoyParseError",
    "EnvoyRoleError",
    "EnvoyTimeoutError",
    "EnvoyTokenExpiredError",
    "Firmware",
    "Outcome",
    "PhaseReadings",
    "ProbeCache",
    "RetryPolicy",
    "Snapshot",
    "StorageMode",
    "Timeouts",
    "TokenStore",
    "WriteResult",
    "__version__",
    "gateway_session",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'enphase_local' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

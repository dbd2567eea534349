"""enphase-local: everything your Enphase gateway knows, locally, gently.

The public surface is small on purpose; everything else is internal and may
change. See the README for a ten-line example.
"""

from __future__ import annotations

from .errors import (
    EnvoyAuthError,
    EnvoyBadCredentialsError,
    EnvoyConnectionError,
    EnvoyError,
    EnvoyFeatureUnavailable,
    EnvoyHTTPError,
    EnvoyMFARequiredError,
    EnvoyParseError,
    EnvoyTimeoutError,
    EnvoyTokenExpiredError,
)
from .firmware import Firmware
from .models.energy import EnergyReading, PhaseReadings

__version__ = "0.1.0"

__all__ = [
    "EnergyReading",
    "EnvoyAuthError",
    "EnvoyBadCredentialsError",
    "EnvoyConnectionError",
    "EnvoyError",
    "EnvoyFeatureUnavailable",
    "EnvoyHTTPError",
    "EnvoyMFARequiredError",
    "EnvoyParseError",
    "EnvoyTimeoutError",
    "EnvoyTokenExpiredError",
    "Firmware",
    "PhaseReadings",
    "__version__",
]

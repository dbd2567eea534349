"""Names shared by the integration's modules: the domain, configuration keys, defaults."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from enphase_local.net.credentials import CloudUrls

DOMAIN: Final = "enphase_local"

CONF_TOKEN: Final = "token"
CONF_FINGERPRINT: Final = "fingerprint"
CONF_SERIAL: Final = "serial"
CONF_AUTH: Final = "auth"  # "token" or "digest"

OPT_SCAN_INTERVAL: Final = "scan_interval"
OPT_LIVE: Final = "live"
OPT_CONTROLS: Final = "controls"
OPT_TAKE_OVER: Final = "take_over_core"

DEFAULT_SCAN_INTERVAL: Final = 60
MIN_SCAN_INTERVAL: Final = 10
VERIFY_AFTER_S: Final = 120.0
"""How long after a confirmed storage write to read it again: the Enphase cloud puts storage
settings back within one to two minutes on firmware 8.2.4225+ (control/result.py)."""

CLOUD_URLS = CloudUrls()
"""Where Enlighten logins go; tests point it at the simulator's cloud stand-in."""

CORE_DOMAIN: Final = "enphase_envoy"

CLOCK: Callable[[], float] = time.time
"""The gateway client's clock (epoch seconds); tests move it instead of sleeping."""

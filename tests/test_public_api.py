"""The public surface is deliberate: adding or removing a name must be a conscious change."""

from __future__ import annotations

import enphase_local

EXPECTED = {
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
}


def test_all_is_pinned() -> None:
    assert set(enphase_local.__all__) == EXPECTED


def test_every_name_in_all_exists() -> None:
    for name in enphase_local.__all__:
        assert hasattr(enphase_local, name), name


def test_error_tree() -> None:
    e = enphase_local
    assert issubclass(e.EnvoyTimeoutError, e.EnvoyConnectionError)
    for cls in (e.EnvoyTokenExpiredError, e.EnvoyBadCredentialsError, e.EnvoyMFARequiredError):
        assert issubclass(cls, e.EnvoyAuthError)
    for cls in (
        e.EnvoyConnectionError,
        e.EnvoyAuthError,
        e.EnvoyHTTPError,
        e.EnvoyParseError,
        e.EnvoyFeatureUnavailable,
    ):
        assert issubclass(cls, e.EnvoyError)
    err = e.EnvoyHTTPError(503, "/production.json")
    assert (err.status, err.path) == (503, "/production.json")
    perr = e.EnvoyParseError("/ivp/meters", "<html>" * 50)
    assert perr.path == "/ivp/meters" and len(perr.snippet) <= 80

"""The public surface is deliberate: adding or removing a name must be a conscious change."""

from __future__ import annotations

import enphase_local

EXPECTED = {
    "Capability",
    "CloudUrls",
    "Envoy",
    "Outcome",
    "Snapshot",
    "StorageMode",
    "TokenStore",
    "ProbeCache",
    "WriteResult",
    "EnergyReading",
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
    "PhaseReadings",
    "RetryPolicy",
    "Timeouts",
    "__version__",
    "gateway_session",
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


def test_import_is_light() -> None:
    """`import enphase_local` must not pull in aiohttp (scripts and --help stay fast)."""
    import subprocess
    import sys

    code = "import sys, enphase_local; print('aiohttp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_attribute() -> None:
    import pytest

    with pytest.raises(AttributeError):
        _ = enphase_local.NoSuchThing  # type: ignore[attr-defined]

"""Every error enphase-local raises, in one tree.

    EnvoyError                         root: catch this to catch everything we raise
    ├── EnvoyConnectionError           the gateway could not be reached (refused, reset, DNS, TLS)
    │   └── EnvoyTimeoutError          it was reached but did not answer in time
    ├── EnvoyAuthError                 the gateway or the cloud refused our credentials
    │   ├── EnvoyTokenExpiredError     the token is past its expiry: get a new one
    │   ├── EnvoyBadCredentialsError   username, password or token are wrong
    │   ├── EnvoyMFARequiredError      the Enlighten account uses multi-factor login: paste a token
    │   ├── EnvoyRoleError             the token's role cannot do this (nothing was sent)
    │   └── EnvoyInsecureConnectionError   credentials withheld: the connection is not private
    │       └── EnvoyCertificateChangedError   the certificate differs from the trusted one
    ├── EnvoyHTTPError                 an unexpected HTTP status (status, path)
    ├── EnvoyParseError                the body is not what the endpoint answers (path, snippet)
    └── EnvoyFeatureUnavailable        the gateway, its firmware or its hardware cannot do this

Every message says what to do next. Messages never contain tokens, passwords
or cookies. Errors raised while translating a lower-level failure keep it as
`__cause__` (``raise ... from err``).
"""

from __future__ import annotations

__all__ = [
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
]


class EnvoyError(Exception):
    """Root of every error raised by enphase-local."""


class EnvoyConnectionError(EnvoyError):
    """The gateway could not be reached: check the address, the network, and that it is powered."""


class EnvoyTimeoutError(EnvoyConnectionError):
    """The gateway did not answer in time.

    Gateways are slow (production.json can take tens of seconds on some
    firmware) and restart services daily shortly after 23:00 local time.
    """


class EnvoyAuthError(EnvoyError):
    """The gateway or the Enlighten cloud refused the credentials."""


class EnvoyTokenExpiredError(EnvoyAuthError):
    """The token has expired: fetch a new one (``enphase token``) or give username and password."""


class EnvoyBadCredentialsError(EnvoyAuthError):
    """Username, password or token were refused: check them."""


class EnvoyMFARequiredError(EnvoyAuthError):
    """The account uses multi-factor login, which cannot be automated: paste a token instead."""


class EnvoyRoleError(EnvoyAuthError):
    """The token's role (owner, installer) cannot make this write: refused before sending it.

    Why apart from its parent: a caller that must say whether anything reached
    the gateway (an MQTT command's ``refused`` against ``failed``) can tell.
    """


class EnvoyInsecureConnectionError(EnvoyAuthError):
    """Credentials were withheld because the connection is not private.

    Raised instead of sending a token or session cookie over plain HTTP
    (firmware 7 and later always serve HTTPS, so a gateway reachable only
    over HTTP means something on the network is in the way), and, as
    `EnvoyCertificateChangedError`, when the certificate is not the trusted one.
    """


class EnvoyCertificateChangedError(EnvoyInsecureConnectionError):
    """The gateway presented a certificate other than the one trusted for it.

    Nothing was sent. `old` and `new` are the SHA-256 fingerprints (hex,
    colon-separated). A firmware update may regenerate the certificate; if
    that is what happened, accept the new one with ``enphase trust HOST``.
    """

    def __init__(self, message: str, *, old: str, new: str) -> None:
        super().__init__(message)
        self.old = old
        self.new = new


class EnvoyHTTPError(EnvoyError):
    """The gateway answered an HTTP status we did not expect."""

    def __init__(self, status: int, path: str, message: str | None = None) -> None:
        self.status = status
        self.path = path
        super().__init__(message or f"gateway answered HTTP {status} for {path}")


class EnvoyParseError(EnvoyError):
    """A body could not be understood as the answer of its endpoint.

    `snippet` is the first bytes of the body (decoded leniently), enough to
    recognise an HTML error page or a truncated answer in a bug report.
    `gateway_error` holds the text of an ``{"error": ...}`` body, which some
    firmware sends with status 200 for endpoints it does not have.
    """

    SNIPPET_CHARS = 80

    def __init__(
        self,
        path: str,
        snippet: str,
        detail: str = "unexpected content",
        *,
        gateway_error: str | None = None,
    ) -> None:
        self.path = path
        self.snippet = snippet[: self.SNIPPET_CHARS]
        self.detail = detail
        self.gateway_error = gateway_error
        super().__init__(f"could not parse {path}: {detail} (body starts {self.snippet!r})")


class EnvoyFeatureUnavailable(EnvoyError):
    """The gateway, its firmware or its hardware does not offer this feature."""

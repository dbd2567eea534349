"""What a failed HTTP exchange means, in one line the user can act on.

Apart from `transport` so that the transport's request path stays the
request path: every aiohttp or asyncio error of one exchange is translated
here into `EnvoyConnectionError` / `EnvoyTimeoutError` /
`EnvoyInsecureConnectionError` (or the `EnvoyParseError` of an answer too
large, passed through), with a short reason for the request statistics.
Messages never carry a header value, so never a credential.
"""

from __future__ import annotations

import aiohttp

from ..errors import (
    EnvoyConnectionError,
    EnvoyError,
    EnvoyInsecureConnectionError,
    EnvoyParseError,
    EnvoyTimeoutError,
)
from .trust import certificate_changed

__all__ = ["Failure", "clear_text_refusal", "timed_out", "translate"]


class Failure:
    """A translated failure: `reason` for the statistics, `error` to raise."""

    __slots__ = ("error", "reason")

    def __init__(self, reason: str, error: EnvoyError) -> None:
        self.reason, self.error = reason, error


def timed_out(netloc: str, method: str, path: str, timeout_s: float) -> Failure:
    return Failure(
        "timeout",
        EnvoyTimeoutError(
            f"the gateway at {netloc} did not answer {method} {path} within "
            f"{timeout_s:g} s: it may be busy, rebooting or restarting services "
            "(daily shortly after 23:00); try again later or allow a longer timeout"
        ),
    )


def translate(
    err: BaseException, *, netloc: str, method: str, path: str, scheme: str, timeout_s: float
) -> Failure | None:
    """The failure `err` stands for, or None when it is none of ours to translate."""
    if isinstance(err, EnvoyParseError):
        return Failure("answer refused", err)
    if isinstance(err, TimeoutError):  # aiohttp's timeouts derive from it too
        return timed_out(netloc, method, path, timeout_s)
    if isinstance(err, aiohttp.ServerFingerprintMismatch):
        return Failure("certificate changed", certificate_changed(netloc, err.expected, err.got))
    if isinstance(err, aiohttp.ClientConnectorCertificateError):  # verify= was asked for
        return Failure(
            "certificate refused",
            EnvoyInsecureConnectionError(
                f"the certificate of the gateway at {netloc} failed verification "
                f"({err.certificate_error}); nothing was sent. Gateways use self-signed "
                "certificates: leave verify= unset to trust on first use, or pin= one"
            ),
        )
    if isinstance(err, aiohttp.ClientError):
        return Failure(
            type(err).__name__,
            EnvoyConnectionError(
                f"could not talk to the gateway at {netloc} ({scheme}, "
                f"{type(err).__name__}): check the address, the network and that it is "
                "powered; it restarts services daily shortly after 23:00"
            ),
        )
    return None


def clear_text_refusal(netloc: str, path: str) -> EnvoyInsecureConnectionError:
    """Never a token over plain HTTP: what to check instead."""
    return EnvoyInsecureConnectionError(
        f"refusing to send the gateway token to {netloc} over plain HTTP ({path}): "
        "gateways on firmware 7 and later always serve HTTPS, so HTTPS being unreachable "
        "means something on the network is blocking or intercepting it. Check that port "
        "443 of the gateway is reachable from here, then try again"
    )

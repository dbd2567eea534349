"""One HTTP call to the Enphase cloud: our User-Agent, https only, bounded, our own cookies.

Why one home for it: every cloud call has the same four rules, and each has
bitten someone in the field (docs cloud.md, section 1):

- Enlighten answers HTTP 406 to a User-Agent containing "HomeAssistant", so
  every call sends `CLOUD_USER_AGENT`, whatever session it is made on;
- passwords, session cookies and XSRF tokens go over https only (plain http
  is allowed to a loopback address, where the simulator serves the cloud);
- an answer is read within a cap (`net.bounded`), never unbounded;
- cookies are carried by hand, not by aiohttp's jar (which ignores cookies
  from IP addresses, and would mix accounts on a shared session), so a login
  can be stored and restored as a plain mapping.

Network failures become `EnvoyConnectionError` / `EnvoyTimeoutError` whose
messages name the host and never the form, the cookies or the headers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import aiohttp
from yarl import URL

from ..errors import EnvoyConnectionError, EnvoyInsecureConnectionError, EnvoyTimeoutError
from .bounded import read_bounded

__all__ = ["CLOUD_MAX_BYTES", "CLOUD_TIMEOUT_S", "CLOUD_USER_AGENT", "CloudAnswer", "cloud_call"]

CLOUD_TIMEOUT_S = 30.0
CLOUD_MAX_BYTES = 1024 * 1024  # a login answer, a token or a settings document: a few KB
CLOUD_USER_AGENT = "enphase-local/0.1 (+https://github.com/enphase-local)"


@dataclass(frozen=True, slots=True)
class CloudAnswer:
    """What the cloud answered: status, the headers we use, cookies it set, the body."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    cookies: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def redirected(self) -> bool:
        """A 30x: Enlighten sends an expired session to its login page this way."""
        return 300 <= self.status < 400

    def looks_like_html(self) -> bool:
        return self.body.lstrip()[:1] == b"<"


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_private(url: str) -> URL:
    """The URL, if secrets may be sent to it: https, or http to a loopback address."""
    parsed = URL(url)
    if parsed.scheme == "https" or (parsed.scheme == "http" and _loopback(parsed.host)):
        return parsed
    raise EnvoyInsecureConnectionError(
        f"refusing to send Enphase cloud credentials to {parsed.scheme}://{parsed.host}: "
        "the cloud URL must use https"
    )


def _set_cookies(response: aiohttp.ClientResponse) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):
        try:
            jar.load(header)
        except Exception:
            continue
    return {name: morsel.value for name, morsel in jar.items()}


async def cloud_call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    data: Mapping[str, str] | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    cookies: Mapping[str, str] | None = None,
    timeout_s: float = CLOUD_TIMEOUT_S,
) -> CloudAnswer:
    """Send one request to the cloud, once, and read its answer within the cap.

    Redirects are not followed (a 30x is how Enlighten says a session expired).
    """
    parsed = check_private(url)
    sent = {"User-Agent": CLOUD_USER_AGENT, "Accept-Encoding": "identity"}
    sent.update(headers or {})
    sent["User-Agent"] = CLOUD_USER_AGENT  # never a caller's (a HomeAssistant UA gets 406)
    if cookies:
        sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    host = parsed.host or "?"
    try:
        async with session.request(
            method,
            parsed,
            data=dict(data) if data is not None else None,
            json=json_body,
            headers=sent,
            allow_redirects=False,
            auto_decompress=False,  # read_bounded inflates within the cap
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:
            body = await read_bounded(response, cap=CLOUD_MAX_BYTES, path=parsed.path)
            kept = {
                name: response.headers[name]
                for name in ("Location", "x-csrf-token", "Content-Type")
                if name in response.headers
            }
            return CloudAnswer(response.status, body, kept, _set_cookies(response))
    except TimeoutError as err:
        raise EnvoyTimeoutError(
            f"the Enphase cloud ({host}) did not answer in {timeout_s:.0f} s: try again later"
        ) from err
    except aiohttp.ClientError as err:
        raise EnvoyConnectionError(
            f"could not reach the Enphase cloud ({host}, {type(err).__name__}): "
            "this needs internet access; check it and try again"
        ) from err

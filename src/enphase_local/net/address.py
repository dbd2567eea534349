"""Gateway addresses as users type them, and which headers are secrets.

Apart from the transport so that the rules are short and testable alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from yarl import URL

__all__ = ["SCHEMES", "carries_secret", "parse_host"]

SCHEMES = ("https", "http")


def parse_host(host: str) -> tuple[str, int | None, str | None]:
    """Split ``"envoy.local"``, ``"127.0.0.1:8443"``, ``"[::1]:8443"``, ``"::1"`` or a URL.

    Returns ``(hostname, port or None, scheme or None)``; IPv6 addresses are
    returned without brackets.
    """
    text = host.strip()
    scheme: str | None = None
    if "://" in text:
        url = URL(text)
        if url.scheme not in SCHEMES or not url.host:
            raise ValueError(f"unsupported gateway address {host!r}: give a host name or address")
        return url.host, url.explicit_port, url.scheme
    text = text.rstrip("/")
    if not text:
        raise ValueError("the gateway address is empty: give its host name or IP address")
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError(f"unbalanced bracket in gateway address {host!r}")
        name, rest = text[1:end], text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(f"unexpected text after the address in {host!r}")
        return name, _port(rest[1:], host) if rest else None, scheme
    if text.count(":") == 1:
        name, port = text.split(":")
        return name, _port(port, host), scheme
    return text, None, scheme  # a plain name, an IPv4 address, or a bare IPv6 address


def carries_secret(headers: Mapping[str, str]) -> bool:
    """A bearer token or a session cookie: what must never travel over plain HTTP.

    Digest ``Authorization`` headers are not: firmware before 7 offers
    nothing but digest over HTTP, and digest never sends the password.
    """
    for name, value in headers.items():
        lowered = name.lower()
        if lowered == "cookie" or (
            lowered == "authorization" and not value.lower().startswith("digest ")
        ):
            return True
    return False


def _port(text: str, host: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"invalid port in gateway address {host!r}")
    return int(text)

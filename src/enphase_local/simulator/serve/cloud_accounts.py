"""Enlighten accounts and sessions of the simulated cloud, shared by login and the battery service.

Why apart: the login emulation (`serve.cloud`) opens sessions and the battery
service (`serve.battery_cloud`) checks them; both need these two types and
neither should import the other for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from ..clock import SimClock

__all__ = ["DEFAULT_ACCOUNTS", "CloudAccount", "CloudGate", "CloudSession"]


@dataclass(frozen=True, slots=True)
class CloudAccount:
    """An Enlighten account. `serials` None means every gateway belongs to it.

    `otp` is the one-time code a multi-factor account's login wants (the
    real cloud e-mails a new one each time; the emulation has one fixed code).
    """

    email: str
    password: str
    mfa: bool = False
    installer: bool = False
    serials: frozenset[str] | None = None
    otp: str = "123456"

    def owns(self, serial: str) -> bool:
        return self.serials is None or serial in self.serials


DEFAULT_ACCOUNTS = (
    CloudAccount("owner@example.com", "owner-password"),
    CloudAccount("mfa@example.com", "mfa-password", mfa=True),
)


@dataclass(slots=True)
class CloudSession:
    """One open Enlighten session: whose, until when, and the XSRF token it was last given."""

    account: CloudAccount
    user_id: str
    expires_at: float
    xsrf: str | None = None


class CloudGate(Protocol):
    """What the battery service asks of the login emulation for every request."""

    clock: SimClock

    def refusal(self, request: web.Request) -> web.Response | None:
        """An injected failure, or the 406 for a Home Assistant User-Agent; None: go on."""
        ...

    def session_of(self, request: web.Request) -> CloudSession | None:
        """The live session named by the request's cookie, if any."""
        ...

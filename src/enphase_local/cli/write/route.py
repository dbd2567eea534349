"""Which route a storage write takes, from the command line: --route, --otp, --site-id.

Why one home: `enphase battery ...` and `enphase set ...` change the same
settings the same way, and both attach the Enphase cloud's battery service
to the connection only when an Enlighten account is given (the cloud route
is opt-in). `route_flags` adds the three options and hands them to the
command as one `RouteFlags`; its `attach()` is what `run_action` enters
around the action once connected.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import click

from .run import Attach, interactive

__all__ = ["RouteFlags", "cloud_attacher", "route_flags"]


def cloud_attacher(route: str, otp: str | None, site_id: str | None) -> Attach:
    """An ``attach(envoy, options)`` for `run_action`: the cloud route, when an account is given."""

    @contextlib.asynccontextmanager
    async def attach(envoy: Any, options: dict[str, Any]) -> AsyncIterator[None]:
        from ...net.battery_cloud import BatteryCloud
        from ...net.enlighten import EnlightenSession
        from ...net.token_store import TokenStore
        from ..config import ENV, resolve

        settings = resolve({k: options.get(k) for k in ENV})
        username = settings.username
        if route == "local" or not username or "@" not in username:
            yield
            return
        code = otp or os.environ.get("ENPHASE_OTP")

        async def ask() -> str:  # only on a terminal; elsewhere the login says to give --otp
            return str(click.prompt("one-time code Enphase e-mailed you", hide_input=True)).strip()

        cloud = BatteryCloud(
            EnlightenSession(
                username=username,
                password=settings.password,
                serial=envoy.info.serial,
                enlighten_url=settings.enlighten_url,
                otp=code or (ask if interactive() else None),
                store=TokenStore(settings.token_store),
                site_id=site_id,
            )
        )
        try:
            envoy.control.use_cloud(cloud)
            yield
        finally:
            await cloud.close()

    return attach


@dataclass(frozen=True, slots=True)
class RouteFlags:
    """--route, --otp and --site-id as given."""

    route: str
    otp: str | None
    site_id: str | None

    def attach(self) -> Attach:
        return cloud_attacher(self.route, self.otp, self.site_id)


def route_flags(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --route, --otp and --site-id, passed to the command as ``via: RouteFlags``."""

    @functools.wraps(func)
    def bundled(*args: Any, route: str, otp: str | None, site_id: str | None, **kw: Any) -> Any:
        return func(*args, via=RouteFlags(route.lower(), otp, site_id), **kw)

    cmd: Callable[..., Any] = bundled
    cmd = click.option(
        "--site-id", metavar="ID", help="Enlighten site id (accounts with several sites)."
    )(cmd)
    cmd = click.option(
        "--otp", metavar="CODE", help="One-time code (multi-factor Enlighten login)."
    )(cmd)
    return click.option(
        "--route",
        type=click.Choice(["auto", "local", "cloud"], case_sensitive=False),
        default="auto",
        show_default=True,
        help="local: the gateway's API; cloud: the Enphase cloud; auto: whichever works there.",
    )(cmd)

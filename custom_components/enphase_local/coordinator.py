"""One coordinator per gateway: `Envoy.update()` on a schedule, the live stream beside it.

Why both: the snapshot (every poll, 60 s by default) carries everything; the
live stream (about once a second) carries only power flows, and only the
entities declared ``Source.LIVE`` in the feature table listen to it, so a
frame does not rewrite hundreds of states. All I/O is the library's own
asyncio code on Home Assistant's shared aiohttp session: nothing blocks the
event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeAlias

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from enphase_local.client import Envoy
from enphase_local.control import WriteResult
from enphase_local.errors import (
    EnvoyAuthError,
    EnvoyCertificateChangedError,
    EnvoyError,
)
from enphase_local.features import Readings
from enphase_local.models.live_frame import LiveFrame
from enphase_local.models.snapshot import Snapshot
from enphase_local.net.claims import TokenClaims

from .const import CONF_TOKEN, DOMAIN

_LOGGER = logging.getLogger(__name__)


def certificate_changed_issue(hass: HomeAssistant, serial: str) -> None:
    """A repair issue: the certificate is not the one trusted; reconfigure shows the new one."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"certificate_changed_{serial}",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="certificate_changed",
        translation_placeholders={"serial": serial},
    )


def _attempts(envoy: Envoy) -> tuple[int, int]:
    """Requests sent and failed so far, over every path (the transport's own counts)."""
    paths = envoy.stats.paths.values()
    return sum(p.requests for p in paths), sum(p.failures for p in paths)


EnphaseConfigEntry: TypeAlias = "ConfigEntry[EnphaseCoordinator]"


class EnphaseCoordinator(DataUpdateCoordinator[Snapshot]):
    """Snapshots of one gateway, plus the newest live frame for the live entities."""

    config_entry: EnphaseConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: EnphaseConfigEntry, envoy: Envoy, interval_s: float
    ) -> None:
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"Enphase gateway {entry.unique_id}",
            update_interval=timedelta(seconds=interval_s),
            always_update=True,
        )
        self.envoy = envoy
        self.frame: LiveFrame | None = None
        self.live_running = False
        self._live_listeners: list[Callable[[], None]] = []
        self.last_writes: dict[str, WriteResult] = {}
        token = entry.data.get(CONF_TOKEN)
        self.token_expires_at: float | None = None
        if token:
            try:
                self.token_expires_at = TokenClaims.decode(token).expires_at
            except EnvoyError:
                self.token_expires_at = None

    @property
    def serial(self) -> str:
        assert self.config_entry.unique_id is not None
        return self.config_entry.unique_id

    def readings(self) -> Readings:
        """What the feature table reads now: the snapshot, the newest frame, the token."""
        return Readings(
            self.data,
            frame=self.frame if self.live_running else None,
            token_expires_at=self.token_expires_at,
            now=time.time(),
        )

    async def _async_update_data(self) -> Snapshot:
        asked, failed = _attempts(self.envoy)
        try:
            # the first snapshot reads the deferred sources too (settings, the generator's
            # flow), so the entities made from it are all the gateway has
            snapshot = await self.envoy.update(full=self.data is None)
        except EnvoyCertificateChangedError as err:
            certificate_changed_issue(self.hass, self.serial)
            raise UpdateFailed(str(err)) from err
        except EnvoyAuthError as err:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"token_expired_{self.serial}",
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="token_expired",
                translation_placeholders={"serial": self.serial},
            )
            raise ConfigEntryAuthFailed(str(err)) from err
        except EnvoyError as err:
            raise UpdateFailed(str(err)) from err
        asked, failed = (a - b for a, b in zip(_attempts(self.envoy), (asked, failed), strict=True))
        if asked and failed == asked and snapshot.errors:
            # the library keeps a failing section's last data (marked stale); for Home
            # Assistant a gateway that answered none of this update's requests is
            # unreachable, and its entities must say so rather than show old values
            raise UpdateFailed(next(iter(snapshot.errors.values())))
        ir.async_delete_issue(self.hass, DOMAIN, f"certificate_changed_{self.serial}")
        ir.async_delete_issue(self.hass, DOMAIN, f"token_expired_{self.serial}")
        return snapshot

    @callback
    def async_add_live_listener(self, update: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `update` on every live frame; returns the function that stops it."""
        self._live_listeners.append(update)

        @callback
        def remove() -> None:
            self._live_listeners.remove(update)

        return remove

    async def async_run_live(self) -> None:
        """Read `Envoy.live()` until cancelled (entry unload); a failure falls back to polls.

        The live reader recovers from lost sources on its own; if it gives up
        entirely, the live entities keep the snapshot's power flow, and the
        stream is tried again after one poll interval.
        """
        while True:
            try:
                async for frame in self.envoy.live():
                    self.frame, self.live_running = frame, True
                    for listener in list(self._live_listeners):
                        listener()
            except asyncio.CancelledError:
                raise
            except EnvoyError as err:
                _LOGGER.debug("live stream of %s stopped: %s", self.serial, err)
            self.live_running = False
            interval = self.update_interval or timedelta(seconds=60)
            await asyncio.sleep(interval.total_seconds())

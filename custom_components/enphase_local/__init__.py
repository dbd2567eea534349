"""Enphase Local: every value and control of an Enphase gateway, natively, without a broker.

Entities come from the library's feature table (`enphase_local.features`), the
same declarations the MQTT sink's discovery is generated from, so the two can
never disagree about what exists or what its value is.
"""

from __future__ import annotations

from typing import Any

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from enphase_local.client import Envoy
from enphase_local.errors import EnvoyAuthError, EnvoyCertificateChangedError, EnvoyError

from . import const
from .const import (
    CONF_FINGERPRINT,
    CONF_TOKEN,
    DEFAULT_SCAN_INTERVAL,
    OPT_LIVE,
    OPT_SCAN_INTERVAL,
    OPT_TAKE_OVER,
)
from .coordinator import EnphaseConfigEntry, EnphaseCoordinator, certificate_changed_issue
from .takeover import take_over_core_entities

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TIME,
]


def _clock() -> float:
    """`const.CLOCK`, looked up at each call so that tests can move time without sleeping."""
    return const.CLOCK()


def make_envoy(hass: HomeAssistant, data: dict[str, Any]) -> Envoy:
    """An `Envoy` on Home Assistant's shared session, pinned to the certificate the user trusted."""
    return Envoy(
        data[CONF_HOST],
        token=data.get(CONF_TOKEN) or None,
        username=data.get(CONF_USERNAME) or None,
        password=data.get(CONF_PASSWORD) or None,
        session=async_get_clientsession(hass, verify_ssl=False),
        pin=data.get(CONF_FINGERPRINT) or None,
        cloud=const.CLOUD_URLS,
        clock=_clock,
    )


async def async_setup_entry(hass: HomeAssistant, entry: EnphaseConfigEntry) -> bool:
    """Connect, take the first snapshot, make the entities, start the live stream."""
    envoy = make_envoy(hass, dict(entry.data))
    try:
        await envoy.connect()
    except EnvoyCertificateChangedError as err:
        # not an auth problem: no token was sent. The user decides (repair issue, reconfigure)
        await envoy.close()
        certificate_changed_issue(hass, entry.unique_id or "")
        raise ConfigEntryError(str(err)) from err
    except EnvoyAuthError as err:
        await envoy.close()
        raise ConfigEntryAuthFailed(str(err)) from err
    except EnvoyError as err:
        await envoy.close()
        raise ConfigEntryNotReady(str(err)) from err
    interval = entry.options.get(OPT_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
    coordinator = EnphaseCoordinator(hass, entry, envoy, float(interval))
    entry.async_on_unload(envoy.close)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    if entry.options.get(OPT_TAKE_OVER, False):
        take_over_core_entities(hass, entry, coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if entry.options.get(OPT_LIVE, True):
        entry.async_create_background_task(
            hass, coordinator.async_run_live(), f"enphase_local live {entry.unique_id}"
        )
    entry.async_on_unload(entry.add_update_listener(_reload_on_options))
    return True


async def _reload_on_options(hass: HomeAssistant, entry: EnphaseConfigEntry) -> None:
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: EnphaseConfigEntry) -> bool:
    """Remove the entities; the live task and the Envoy end with the entry (async_on_unload)."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)

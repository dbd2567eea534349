"""Setting up the integration against a simulated gateway, as a user's config entry would."""

from __future__ import annotations

from typing import Any

from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.enphase_local.config_flow import fetch_fingerprint
from custom_components.enphase_local.const import (
    CONF_AUTH,
    CONF_FINGERPRINT,
    CONF_SERIAL,
    CONF_TOKEN,
    DOMAIN,
    OPT_LIVE,
)
from tests.hass.simthread import SimThread


async def make_entry(
    hass: HomeAssistant,
    sim: SimThread,
    *,
    options: dict[str, Any] | None = None,
    fingerprint: str | None = None,
    token: str | None = None,
) -> MockConfigEntry:
    """A config entry as the config flow makes it (token, pinned certificate), not set up.

    `fingerprint`: pin this one instead of the certificate the simulator presents;
    `token`: this one (an installer's, say) instead of the owner's.
    """
    assert sim.gw is not None
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=sim.gw.serial,
        title=f"Enphase gateway {sim.gw.serial}",
        data={
            CONF_HOST: sim.host,
            CONF_SERIAL: sim.gw.serial,
            CONF_AUTH: "token",
            CONF_TOKEN: token or sim.token(),
            CONF_FINGERPRINT: fingerprint or await fetch_fingerprint(sim.host),
        },
        options={OPT_LIVE: False} if options is None else options,
    )
    entry.add_to_hass(hass)
    return entry


async def add_entry(
    hass: HomeAssistant,
    sim: SimThread,
    *,
    options: dict[str, Any] | None = None,
    token: str | None = None,
) -> MockConfigEntry:
    """`make_entry`, set up."""
    entry = await make_entry(hass, sim, options=options, token=token)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def unload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

"""Taking over the core ``enphase_envoy`` integration's entities, when the user asks to.

Why: history and long-term statistics are kept by entity id. A user moving
from the core integration wants their "Lifetime energy production" to go on
as one series, and their automations to keep working. The feature table
names, for each entity the core integration also has, the unique id it gives
it (`Feature.core_unique_id`); this moves each such registry entry to this
integration (`async_update_entity_platform`), keeping its entity id, so the
new entity continues the old one. Only entries of a core config entry that is
not loaded can be moved (Home Assistant refuses otherwise): disable or remove
the core integration's entry first.
"""

from __future__ import annotations

import logging

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from enphase_local.features import FEATURES, instances

from .const import CORE_DOMAIN, DOMAIN
from .coordinator import EnphaseConfigEntry, EnphaseCoordinator
from .entity import PLATFORM_OF_KIND, unique_id

_LOGGER = logging.getLogger(__name__)


def take_over_core_entities(
    hass: HomeAssistant, entry: EnphaseConfigEntry, coordinator: EnphaseCoordinator
) -> list[str]:
    """Move the core integration's entities of this gateway here; returns their entity ids."""
    registry = er.async_get(hass)
    snapshot = coordinator.data
    moved: list[str] = []
    for inst in instances(FEATURES, coordinator.readings()):
        core_uid = inst.feature.core_id(coordinator.serial, inst.key, snapshot)
        if core_uid is None:
            continue
        domain = PLATFORM_OF_KIND[inst.feature.kind]
        entity_id = registry.async_get_entity_id(domain, CORE_DOMAIN, core_uid)
        if entity_id is None:
            continue
        old = registry.async_get(entity_id)
        assert old is not None
        core_entry = (
            hass.config_entries.async_get_entry(old.config_entry_id)
            if old.config_entry_id
            else None
        )
        if core_entry is not None and core_entry.state is ConfigEntryState.LOADED:
            _LOGGER.warning(
                "not taking over %s: the enphase_envoy entry is loaded; disable it first",
                entity_id,
            )
            continue
        ours = unique_id(coordinator.serial, inst)
        if registry.async_get_entity_id(domain, DOMAIN, ours) is not None:
            continue  # already ours (taken over before, or made before the option was set)
        registry.async_update_entity_platform(
            entity_id, DOMAIN, new_config_entry_id=entry.entry_id, new_unique_id=ours
        )
        moved.append(entity_id)
    if moved:
        _LOGGER.info("took over %d entities of enphase_envoy: %s", len(moved), ", ".join(moved))
    return moved

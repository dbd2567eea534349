"""Buttons: every feature of kind BUTTON (wake the AC Batteries)."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from enphase_local.features import Kind

from .controls import ControlEntity
from .coordinator import EnphaseConfigEntry
from .entity import instances_of

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant, entry: EnphaseConfigEntry, add: AddConfigEntryEntitiesCallback
) -> None:
    coordinator = entry.runtime_data
    add(FeatureButton(coordinator, inst) for inst in instances_of(entry, Kind.BUTTON))


class FeatureButton(ControlEntity, ButtonEntity):
    @property
    def available(self) -> bool:
        return self.coordinator.last_update_success and self.inst.feature.present(
            self.coordinator.readings(), self.inst.key
        )

    async def async_press(self) -> None:
        await self._write(None)

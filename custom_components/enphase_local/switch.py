"""Switches: every feature of kind SWITCH (charge from grid, grid relay, dry contacts ...)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
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
    add(FeatureSwitch(coordinator, inst) for inst in instances_of(entry, Kind.SWITCH))


class FeatureSwitch(ControlEntity, SwitchEntity):
    @property
    def is_on(self) -> bool | None:
        value = self.value
        return None if value is None else bool(value)

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self._write(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self._write(False)

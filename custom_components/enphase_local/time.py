"""Times: every feature of kind TIME (the generator's exercise start, minutes after midnight)."""

from __future__ import annotations

from datetime import time

from homeassistant.components.time import TimeEntity
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
    add(FeatureTime(coordinator, inst) for inst in instances_of(entry, Kind.TIME))


class FeatureTime(ControlEntity, TimeEntity):
    @property
    def native_value(self) -> time | None:
        minutes = self.value
        if minutes is None:
            return None
        return time(int(minutes) // 60 % 24, int(minutes) % 60)

    async def async_set_value(self, value: time) -> None:
        await self._write(value.hour * 60 + value.minute)

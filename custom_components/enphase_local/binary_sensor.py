"""Binary sensors: every feature of kind BINARY_SENSOR in the table."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from enphase_local.features import Instance, Kind

from .coordinator import EnphaseConfigEntry, EnphaseCoordinator
from .entity import FeatureEntity, instances_of

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant, entry: EnphaseConfigEntry, add: AddConfigEntryEntitiesCallback
) -> None:
    coordinator = entry.runtime_data
    add(FeatureBinary(coordinator, inst) for inst in instances_of(entry, Kind.BINARY_SENSOR))


class FeatureBinary(FeatureEntity, BinarySensorEntity):
    def __init__(self, coordinator: EnphaseCoordinator, inst: Instance) -> None:
        super().__init__(coordinator, inst)
        dc = inst.feature.device_class
        self._attr_device_class = BinarySensorDeviceClass(dc) if dc else None

    @property
    def is_on(self) -> bool | None:
        value = self.value
        return None if value is None else bool(value)

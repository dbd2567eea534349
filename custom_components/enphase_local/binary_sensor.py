"""Binary sensors: every feature of kind BINARY_SENSOR in the table."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity

from enphase_local.features import Instance, Kind

from .coordinator import EnphaseCoordinator
from .entity import FeatureEntity, platform_setup

PARALLEL_UPDATES = 0


class FeatureBinary(FeatureEntity, BinarySensorEntity):
    def __init__(self, coordinator: EnphaseCoordinator, inst: Instance) -> None:
        super().__init__(coordinator, inst)
        dc = inst.feature.device_class
        self._attr_device_class = BinarySensorDeviceClass(dc) if dc else None

    @property
    def is_on(self) -> bool | None:
        value = self.feature_value
        return None if value is None else bool(value)


async_setup_entry = platform_setup(Kind.BINARY_SENSOR, FeatureBinary)

"""Sensors: every feature of kind SENSOR in the table, for this gateway."""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass

from enphase_local.features import Instance, Kind

from .coordinator import EnphaseCoordinator
from .entity import FeatureEntity, platform_setup, timestamp

PARALLEL_UPDATES = 0  # the coordinator reads; entities never do


class FeatureSensor(FeatureEntity, SensorEntity):
    """A reading; timestamps (epoch seconds in the table) become aware datetimes."""

    def __init__(self, coordinator: EnphaseCoordinator, inst: Instance) -> None:
        super().__init__(coordinator, inst)
        f = inst.feature
        self._attr_device_class = SensorDeviceClass(f.device_class) if f.device_class else None
        self._attr_state_class = SensorStateClass(f.state_class) if f.state_class else None
        self._attr_native_unit_of_measurement = f.unit
        self._attr_suggested_display_precision = f.precision
        if f.options:
            self._attr_options = list(f.options)

    @property
    def native_value(self) -> Any:
        value = self.feature_value
        if self.feature.device_class == "timestamp":
            return timestamp(value)
        if self.feature.device_class == "enum" and value is not None:
            return str(value)
        return value


async_setup_entry = platform_setup(Kind.SENSOR, FeatureSensor)

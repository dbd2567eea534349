"""Numbers: every feature of kind NUMBER (battery reserve, dry contact thresholds)."""

from __future__ import annotations

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode

from enphase_local.features import Instance, Kind

from .controls import ControlEntity
from .coordinator import EnphaseCoordinator
from .entity import platform_setup

PARALLEL_UPDATES = 1  # one write at a time per platform: the gateway serialises them anyway


class FeatureNumber(ControlEntity, NumberEntity):
    _attr_mode = NumberMode.BOX

    def __init__(self, coordinator: EnphaseCoordinator, inst: Instance) -> None:
        super().__init__(coordinator, inst)
        f = inst.feature
        self._attr_device_class = NumberDeviceClass(f.device_class) if f.device_class else None
        self._attr_native_unit_of_measurement = f.unit
        if f.minimum is not None:
            self._attr_native_min_value = f.minimum
        if f.maximum is not None:
            self._attr_native_max_value = f.maximum
        if f.step is not None:
            self._attr_native_step = f.step

    @property
    def native_value(self) -> float | None:
        value = self.feature_value
        return None if value is None else float(value)

    async def async_set_native_value(self, value: float) -> None:
        await self._write(value)


async_setup_entry = platform_setup(Kind.NUMBER, FeatureNumber)

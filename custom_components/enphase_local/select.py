"""Selects: every feature of kind SELECT (storage mode, generator mode, dry contact modes)."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity

from enphase_local.features import Instance, Kind

from .controls import ControlEntity
from .coordinator import EnphaseCoordinator
from .entity import platform_setup

PARALLEL_UPDATES = 1


class FeatureSelect(ControlEntity, SelectEntity):
    def __init__(self, coordinator: EnphaseCoordinator, inst: Instance) -> None:
        super().__init__(coordinator, inst)
        self._attr_options = list(inst.feature.options)

    @property
    def current_option(self) -> str | None:
        value = self.feature_value
        return value if value in self.inst.feature.options else None

    async def async_select_option(self, option: str) -> None:
        await self._write(option)


async_setup_entry = platform_setup(Kind.SELECT, FeatureSelect)

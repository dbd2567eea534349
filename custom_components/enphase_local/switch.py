"""Switches: every feature of kind SWITCH (charge from grid, grid relay, dry contacts ...)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity

from enphase_local.features import Kind

from .controls import ControlEntity
from .entity import platform_setup

PARALLEL_UPDATES = 1


class FeatureSwitch(ControlEntity, SwitchEntity):
    @property
    def is_on(self) -> bool | None:
        value = self.feature_value
        return None if value is None else bool(value)

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self._write(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self._write(False)


async_setup_entry = platform_setup(Kind.SWITCH, FeatureSwitch)

"""Buttons: every feature of kind BUTTON (wake the AC Batteries)."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity

from enphase_local.features import Kind

from .controls import ControlEntity
from .entity import platform_setup

PARALLEL_UPDATES = 1


class FeatureButton(ControlEntity, ButtonEntity):
    @property
    def available(self) -> bool:
        return self.coordinator.last_update_success and self.inst.feature.present(
            self.coordinator.readings(), self.inst.key
        )

    async def async_press(self) -> None:
        await self._write(None)


async_setup_entry = platform_setup(Kind.BUTTON, FeatureButton)

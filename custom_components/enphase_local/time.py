"""Times: every feature of kind TIME (the generator's exercise start, minutes after midnight)."""

from __future__ import annotations

from datetime import time

from homeassistant.components.time import TimeEntity

from enphase_local.features import Kind

from .controls import ControlEntity
from .entity import platform_setup

PARALLEL_UPDATES = 1


class FeatureTime(ControlEntity, TimeEntity):
    @property
    def native_value(self) -> time | None:
        minutes = self.feature_value
        if minutes is None:
            return None
        return time(int(minutes) // 60 % 24, int(minutes) % 60)

    async def async_set_value(self, value: time) -> None:
        await self._write(value.hour * 60 + value.minute)


async_setup_entry = platform_setup(Kind.TIME, FeatureTime)

"""The shared part of every control entity: the last write's outcome, and sending one."""

from __future__ import annotations

from typing import Any

from enphase_local.control import WriteResult

from .entity import FeatureEntity
from .writes import async_write


class ControlEntity(FeatureEntity):
    """A feature with a setter; its attributes say how the last change went."""

    async def _write(self, value: Any) -> WriteResult:
        result = await async_write(self.coordinator, self.inst, value, self.name_for_messages)
        self.async_write_ha_state()
        return result

    @property
    def name_for_messages(self) -> str:
        return self.entity_id or self.inst.uid

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The feature's own attributes (where its value was read), and the last write's."""
        extra = dict(super().extra_state_attributes or {})
        result = self.coordinator.last_writes.get(self.inst.uid)
        if result is not None:
            extra.update(
                {
                    "last_write": result.outcome.value,
                    "last_write_message": result.message,
                    "last_write_requested": result.requested,
                }
            )
        return extra or None

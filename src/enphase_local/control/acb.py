"""AC Battery sleep: keep older AC Batteries asleep within a state of charge window.

``PUT /admin/lib/acb_config {"acb_sleep": [{"serial_num", "sleep_min_soc",
"sleep_max_soc"}]}`` puts a unit to sleep; ``DELETE`` with the serials wakes
them. Serials are checked against a fresh read of ``/inventory.json`` (the
only source of per-unit AC Battery data) before anything is sent, and the
sleep window is read back from it. That endpoint is slow (about 20 s on
recent firmware), so the poll looks rarely.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..capabilities import Capability
from ..models.battery import AcbUnit
from ..models.ensemble import DeviceInventory
from ..sources.table import INVENTORY
from ._core import ControlCore, Poll
from .result import Check, WriteRequest, WriteResult

__all__ = ["ACB_CONFIG_PATH", "ACB_POLL", "AcbActions"]

ACB_CONFIG_PATH = "/admin/lib/acb_config"
ACB_POLL = Poll(timeout_s=60.0, interval_s=15.0, first_s=2.0)
"""`/inventory.json` takes about 20 s to answer: look rarely."""


def _window(unit: AcbUnit) -> list[int] | None:
    """The unit's sleep window ``[min, max]`` in percent, or None when it is not set to sleep."""
    low, high = unit.sleep_min_soc_percent, unit.sleep_max_soc_percent
    if unit.sleep_enabled is False or low is None or high is None:
        return None
    return [round(low), round(high)]


def _windows_of(
    serials: tuple[str, ...],
) -> Callable[[DeviceInventory], dict[str, list[int] | None]]:
    def extract(inventory: DeviceInventory) -> dict[str, list[int] | None]:
        units = {u.serial: u for u in inventory.acb}
        return {s: _window(units[s]) if s in units else None for s in serials}

    return extract


def _percent(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError(f"{name} must be a whole number of percent; got {value!r}")
    if not 0 <= value <= 100:
        raise ValueError(f"{name} must be 0 to 100 percent; got {value!r}")
    return int(value)


def _serials(serials: str | Iterable[str]) -> tuple[str, ...]:
    items = (serials,) if isinstance(serials, str) else tuple(serials)
    if not items or not all(isinstance(s, str) and s for s in items):
        raise ValueError(f"give one or more AC Battery serial numbers; got {serials!r}")
    return tuple(dict.fromkeys(items))


class AcbActions(ControlCore):
    """AC Battery sleep windows."""

    async def _acb_units(self, serials: tuple[str, ...], what: str) -> DeviceInventory:
        self._require(Capability.ACB, what)
        inventory: DeviceInventory = await self._read(INVENTORY)
        known = [u.serial for u in inventory.acb]
        missing = [s for s in serials if s not in known]
        if missing:
            listed = ", ".join(known) if known else "none"
            raise ValueError(
                f"unknown AC Battery serial {', '.join(missing)}; this gateway has: {listed}"
            )
        return inventory

    async def set_acb_sleep(
        self,
        serial: str,
        min_soc: int,
        max_soc: int,
        *,
        dry_run: bool = False,
        timeout_s: float | None = None,
    ) -> WriteResult:
        """Let one AC Battery sleep while its SoC is between `min_soc` and `max_soc` percent."""
        if not isinstance(serial, str) or not serial:
            raise ValueError(f"give one AC Battery serial number; got {serial!r}")
        unit = serial
        low, high = _percent("min_soc", min_soc), _percent("max_soc", max_soc)
        if low > high:
            raise ValueError(f"min_soc ({low}) must not be above max_soc ({high})")
        poll = ACB_POLL.with_timeout(timeout_s)
        inventory = await self._acb_units((unit,), "put an AC Battery to sleep")
        check = Check(INVENTORY, _windows_of((unit,)), f"AC Battery {unit} sleep window")
        body = {"acb_sleep": [{"serial_num": unit, "sleep_min_soc": low, "sleep_max_soc": high}]}
        return await self.write(
            action="set_acb_sleep",
            request=WriteRequest("PUT", ACB_CONFIG_PATH, body),
            check=check,
            requested={unit: [low, high]},
            before=check.extract(inventory),
            poll=poll,
            dry_run=dry_run,
        )

    async def clear_acb_sleep(
        self,
        serials: str | Iterable[str],
        *,
        dry_run: bool = False,
        timeout_s: float | None = None,
    ) -> WriteResult:
        """Wake AC Batteries: remove their sleep windows."""
        units = _serials(serials)
        poll = ACB_POLL.with_timeout(timeout_s)
        inventory = await self._acb_units(units, "wake an AC Battery")
        check = Check(INVENTORY, _windows_of(units), "AC Battery sleep")
        body = {"acb_sleep": [{"serial_num": s} for s in units]}
        return await self.write(
            action="clear_acb_sleep",
            request=WriteRequest("DELETE", ACB_CONFIG_PATH, body),
            check=check,
            requested=dict.fromkeys(units),
            before=check.extract(inventory),
            poll=poll,
            dry_run=dry_run,
        )

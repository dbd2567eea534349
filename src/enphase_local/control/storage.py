"""Battery storage settings: mode, reserve, charge from grid (``PUT /admin/lib/tariff``).

The gateway only takes the whole tariff document back, so each action reads
it fresh, changes one storage setting in a deep copy
(`sources.tariff.tariff_write_body` keeps every key we do not model) and
sends it once. Reading back tells apart the three things that happen in the
field:

- the value took (``confirmed``);
- firmware 8.2.4225 and later answered 200 and ignored it (``ignored``):
  on such firmware only the Enphase app (the cloud) changes these settings;
- ``opt_schedules`` is true, and the gateway ignores *mode* writes while it
  is: `set_storage_mode(..., clear_opt_schedules=True)` clears it in the same
  write, only when asked, because it drops the optimised schedules.

Even a confirmed write may be overwritten by the cloud within 1 to 2 minutes
on 8.2.4225 and later: `Control.verify_later` re-reads and reports
``reverted``.
"""

from __future__ import annotations

import math
from typing import Any

from ..capabilities import Capability
from ..models.tariff import StorageMode, Tariff
from ..sources.table import TARIFF
from ..sources.tariff import TARIFF_PATH, tariff_write_body, tariff_writes_ignored
from ._core import ControlCore, Poll
from .result import Check, Outcome, WriteRequest, WriteResult

__all__ = ["TARIFF_POLL", "StorageActions"]

TARIFF_POLL = Poll(timeout_s=10.0, interval_s=3.0, first_s=1.0)
"""Tariff writes apply at once when they apply at all: a short look is enough."""

_CLOUD_NOTE = (
    "on firmware 8.2.4225 and later the Enphase cloud overwrites locally set storage settings "
    "within 1 to 2 minutes: change them in the Enphase app instead"
)


def _mode_of(tariff: Tariff) -> str | None:
    """The mode as shown: a mode newer firmware reports keeps its own name (not "unknown")."""
    return tariff.storage_mode_name


def _reserve_of(tariff: Tariff) -> float | None:
    return tariff.reserve_soc_percent


def _grid_charge_of(tariff: Tariff) -> bool | None:
    return tariff.charge_from_grid


class StorageActions(ControlCore):
    """Storage mode, reserve and charge-from-grid writes."""

    async def set_storage_mode(
        self,
        mode: StorageMode | str,
        *,
        clear_opt_schedules: bool = False,
        dry_run: bool = False,
        timeout_s: float | None = None,
    ) -> WriteResult:
        """Set the storage mode (backup, self-consumption, economy).

        With `clear_opt_schedules`, ``opt_schedules`` is set false in the same
        write (the gateway ignores mode writes while it is true).
        """
        member = StorageMode.parse(mode)
        if member is StorageMode.UNKNOWN:
            raise ValueError(
                f"storage mode must be one of backup, self-consumption, economy; got {mode!r}"
            )
        return await self._tariff_write(
            action="set_storage_mode",
            check=Check(TARIFF, _mode_of, "storage mode", _CLOUD_NOTE),
            requested=member.value,
            changes={"mode": member},
            clear_opt_schedules=clear_opt_schedules,
            dry_run=dry_run,
            timeout_s=timeout_s,
        )

    async def set_reserve_soc(
        self, percent: float, *, dry_run: bool = False, timeout_s: float | None = None
    ) -> WriteResult:
        """Set the battery reserve kept for outages, in percent (0 to 100)."""
        if isinstance(percent, bool) or not isinstance(percent, int | float):
            raise ValueError(f"reserve must be a number of percent; got {percent!r}")
        if not math.isfinite(percent) or not 0 <= percent <= 100:
            raise ValueError(f"reserve must be between 0 and 100 percent; got {percent!r}")
        return await self._tariff_write(
            action="set_reserve_soc",
            check=Check(TARIFF, _reserve_of, "battery reserve (%)", _CLOUD_NOTE),
            requested=float(percent),
            changes={"reserve_soc_percent": percent},
            dry_run=dry_run,
            timeout_s=timeout_s,
        )

    async def set_charge_from_grid(
        self, on: bool, *, dry_run: bool = False, timeout_s: float | None = None
    ) -> WriteResult:
        """Allow (True) or forbid (False) charging the batteries from the grid."""
        if not isinstance(on, bool):
            raise ValueError(f"charge from grid must be True or False; got {on!r}")
        return await self._tariff_write(
            action="set_charge_from_grid",
            check=Check(TARIFF, _grid_charge_of, "charge from grid", _CLOUD_NOTE),
            requested=on,
            changes={"charge_from_grid": on},
            dry_run=dry_run,
            timeout_s=timeout_s,
        )

    async def _tariff_write(
        self,
        *,
        action: str,
        check: Check[Tariff],
        requested: Any,
        changes: dict[str, Any],
        clear_opt_schedules: bool = False,
        dry_run: bool,
        timeout_s: float | None,
    ) -> WriteResult:
        tariff: Tariff = await self._read(TARIFF)  # first: it is read after the first snapshot
        self._require(Capability.TARIFF, f"change the {check.label}")
        poll = TARIFF_POLL.with_timeout(timeout_s)
        body = tariff_write_body(tariff.raw, **changes)  # ValueError / EnvoyFeatureUnavailable
        settings = body["tariff"]["storage_settings"]
        cleared = clear_opt_schedules and "opt_schedules" in settings
        if cleared:
            settings["opt_schedules"] = False
        return await self.write(
            action=action,
            request=WriteRequest("PUT", TARIFF_PATH, body),
            check=check,
            requested=requested,
            before=check.extract(tariff),
            poll=poll,
            dry_run=dry_run,
            unchanged=Outcome.IGNORED,
            notes=self._tariff_notes(tariff, mode_write="mode" in changes, cleared=cleared),
        )

    def _tariff_notes(
        self, tariff: Tariff, *, mode_write: bool, cleared: bool
    ) -> dict[Outcome, str]:
        ignoring = tariff_writes_ignored(self.firmware)
        why: list[str] = []
        if ignoring:
            why.append(
                f"firmware {self.firmware} (8.2.4225 and later) accepts local storage writes and "
                "ignores them: on such firmware the Enphase app (the cloud) is the only way to "
                "change this setting"
            )
        if mode_write and tariff.opt_schedules and not cleared:
            why.append(
                "opt_schedules is on, and the gateway ignores mode writes while it is: "
                "clear it with clear_opt_schedules=True (--clear-opt-schedules)"
            )
        if not why:
            why.append("try again later, or use the Enphase app")
        notes = {Outcome.IGNORED: "; ".join(why)}
        if ignoring:
            notes[Outcome.CONFIRMED] = (
                "On this firmware the Enphase cloud may overwrite it within 1 to 2 minutes: "
                "check again with verify_later(result) after about 2 minutes"
            )
        return notes

"""Battery storage settings: mode, reserve, charge from grid, shutdown level, by the right route.

Two routes reach these settings. ``local`` is the gateway's own API
(``PUT /admin/lib/tariff``, below); ``cloud`` is the Enphase cloud's battery
service (`control.cloud_storage`, after `Control.use_cloud`). Every action
takes ``route="auto" | "local" | "cloud"``; ``auto`` writes locally before
firmware 8.2.4225 and through the cloud from it (when a cloud account was
given), and through the cloud after a local write came back ``ignored``.
`WriteResult.route` says which route was taken.

The local route:

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
``reverted``. The cloud is named in that message only on such firmware
(`tariff_writes_ignored`, the one home of the threshold): on older firmware
nothing says the cloud does it, and blaming it sends owners the wrong way.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from ..capabilities import Capability
from ..errors import EnvoyError, EnvoyFeatureUnavailable
from ..models.tariff import StorageMode, Tariff
from ..sources.ensemble import ENSEMBLE_SECCTRL
from ..sources.registry import Source
from ..sources.storage_controller import SC_SCHED
from ..sources.table import TARIFF
from ..sources.tariff import TARIFF_PATH, tariff_write_body, tariff_writes_ignored
from ._core import Poll
from .cloud_route import NO_CLOUD
from .cloud_storage import CloudStorageActions
from .result import Check, Outcome, WriteRequest, WriteResult

__all__ = ["ROUTES", "TARIFF_POLL", "StorageActions"]

ROUTES = ("auto", "local", "cloud")

TARIFF_POLL = Poll(timeout_s=10.0, interval_s=3.0, first_s=1.0)
"""Tariff writes apply at once when they apply at all: a short look is enough."""

_CLOUD_NOTE = (
    "on firmware 8.2.4225 and later the Enphase cloud overwrites locally set storage settings "
    "within 1 to 2 minutes: change them in the Enphase app instead"
)
_OTHER_NOTE = (
    "something other than this write changed it since (another local client, a schedule, "
    "or a change made in the Enphase app)"
)


def _mode_of(tariff: Tariff) -> str | None:
    """The mode as shown: a mode newer firmware reports keeps its own name (not "unknown")."""
    return tariff.storage_mode_name


def _reserve_of(tariff: Tariff) -> float | None:
    return tariff.reserve_soc_percent


def _grid_charge_of(tariff: Tariff) -> bool | None:
    return tariff.charge_from_grid


class StorageActions(CloudStorageActions):
    """Storage mode, reserve, charge-from-grid and shutdown-level writes, on either route."""

    def _route(self, route: str) -> str:
        """The route to take first: ``local`` or ``cloud`` (``auto`` decided by the firmware)."""
        if route not in ROUTES:
            raise ValueError(f"route must be one of auto, local, cloud; got {route!r}")
        if route == "cloud":
            self._need_cloud()
            return "cloud"
        if route == "auto" and self._cloud is not None and tariff_writes_ignored(self.firmware):
            return "cloud"
        return "local"

    def _fall_back(self, route: str, result: WriteResult) -> bool:
        """After an ignored local write, ``auto`` tries the cloud (when there is one)."""
        return route == "auto" and result.outcome is Outcome.IGNORED and self._cloud is not None

    async def _by_route(
        self,
        route: str,
        local: Callable[[], Awaitable[WriteResult]],
        cloud: Callable[[str], Awaitable[WriteResult]],
    ) -> WriteResult:
        """Run the write on the route chosen; ``auto`` follows an ignored local one to the cloud.

        `cloud` takes a note for its message (what happened locally first).
        """
        if self._route(route) == "cloud":
            return await cloud("")
        result = await local()
        if self._fall_back(route, result):
            return await cloud(f" (the local write was ignored first: {result.message})")
        return result

    async def set_storage_mode(
        self,
        mode: StorageMode | str,
        *,
        clear_opt_schedules: bool = False,
        route: str = "auto",
        dry_run: bool = False,
        timeout_s: float | None = None,
    ) -> WriteResult:
        """Set the storage mode (backup, self-consumption, economy).

        With `clear_opt_schedules`, ``opt_schedules`` is set false in the same
        local write (the gateway ignores mode writes while it is true).
        Through the cloud, the mode is the profile (``backup`` is Full Backup,
        ``economy`` is Savings) and brings back that profile's own reserve.
        """
        member = StorageMode.parse(mode)
        if member is StorageMode.UNKNOWN:
            raise ValueError(
                f"storage mode must be one of backup, self-consumption, economy; got {mode!r}"
            )
        return await self._by_route(
            route,
            lambda: self._tariff_write(
                action="set_storage_mode",
                check=Check(TARIFF, _mode_of, "storage mode", self._reverted_note()),
                requested=member.value,
                changes={"mode": member},
                clear_opt_schedules=clear_opt_schedules,
                dry_run=dry_run,
                timeout_s=timeout_s,
            ),
            lambda note: self._cloud_mode(
                member.value, dry_run=dry_run, timeout_s=timeout_s, note=note
            ),
        )

    async def set_reserve_soc(
        self,
        percent: float,
        *,
        route: str = "auto",
        dry_run: bool = False,
        timeout_s: float | None = None,
    ) -> WriteResult:
        """Set the battery reserve kept for outages, in percent (0 to 100).

        Through the cloud the range is the site's (5 to 100 seen) and the
        reserve is confirmed on the gateway (``secctrl.configured_backup_soc``).
        """
        if isinstance(percent, bool) or not isinstance(percent, int | float):
            raise ValueError(f"reserve must be a number of percent; got {percent!r}")
        if not math.isfinite(percent) or not 0 <= percent <= 100:
            raise ValueError(f"reserve must be between 0 and 100 percent; got {percent!r}")
        return await self._by_route(
            route,
            lambda: self._tariff_write(
                action="set_reserve_soc",
                check=Check(TARIFF, _reserve_of, "battery reserve (%)", self._reverted_note()),
                requested=float(percent),
                changes={"reserve_soc_percent": percent},
                dry_run=dry_run,
                timeout_s=timeout_s,
            ),
            lambda note: self._cloud_reserve(
                percent, dry_run=dry_run, timeout_s=timeout_s, note=note
            ),
        )

    async def set_charge_from_grid(
        self,
        on: bool,
        *,
        route: str = "auto",
        accept_itc_disclaimer: bool = False,
        window_min: tuple[int, int] | None = None,
        dry_run: bool = False,
        timeout_s: float | None = None,
    ) -> WriteResult:
        """Allow (True) or forbid (False) charging the batteries from the grid.

        Cloud route only: `accept_itc_disclaimer` accepts the US ITC disclaimer
        first where the site has not (nothing is sent without it), and
        `window_min` (begin, end in minutes after midnight) sets the window.
        """
        if not isinstance(on, bool):
            raise ValueError(f"charge from grid must be True or False; got {on!r}")
        cloud_options: dict[str, Any] = {
            "accept_itc_disclaimer": accept_itc_disclaimer,
            "window_min": window_min,
            "dry_run": dry_run,
            "timeout_s": timeout_s,
        }
        return await self._by_route(
            route,
            lambda: self._tariff_write(
                action="set_charge_from_grid",
                check=Check(TARIFF, _grid_charge_of, "charge from grid", self._reverted_note()),
                requested=on,
                changes={"charge_from_grid": on},
                dry_run=dry_run,
                timeout_s=timeout_s,
            ),
            lambda note: self._cloud_charge_from_grid(on, note=note, **cloud_options),
        )

    async def set_shutdown_soc(
        self,
        percent: float,
        *,
        route: str = "auto",
        dry_run: bool = False,
        timeout_s: float | None = None,
    ) -> WriteResult:
        """Set the shutdown level (``veryLowSoc``): the charge at which the batteries stop.

        Only the cloud route changes it; it is confirmed on the gateway
        (``secctrl.VLS_Limit``). ``route="local"`` is refused with nothing sent.
        """
        if route not in ROUTES:
            raise ValueError(f"route must be one of auto, local, cloud; got {route!r}")
        if route == "local" or self._cloud is None:
            raise EnvoyFeatureUnavailable(
                "the shutdown level has no local write on any firmware: " + NO_CLOUD
            )
        return await self._cloud_shutdown(percent, dry_run=dry_run, timeout_s=timeout_s)

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
        result = await self.write(
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
        if not dry_run and tariff_writes_ignored(self.firmware):
            await self._reread_in_effect()
        return result

    async def _reread_in_effect(self) -> None:
        """Read the controller's settings again after a tariff write on 8.2.4225 and later.

        The snapshot shows these settings from the controller on such firmware
        (`engine.battery_settings`), whose sources are otherwise read every
        30 minutes or so: without this the next snapshot would show the value
        from before the write, whatever the write did. Best effort: a source
        this gateway does not answer is simply left as it was.
        """
        sources: tuple[Source[Any], ...] = (ENSEMBLE_SECCTRL, SC_SCHED)
        for source in sources:
            try:
                await self._read(source)
            except EnvoyError:
                continue

    def _reverted_note(self) -> str:
        """Why a confirmed storage setting may read differently later, for this firmware."""
        return _CLOUD_NOTE if tariff_writes_ignored(self.firmware) else _OTHER_NOTE

    def _tariff_notes(
        self, tariff: Tariff, *, mode_write: bool, cleared: bool
    ) -> dict[Outcome, str]:
        ignoring = tariff_writes_ignored(self.firmware)
        why: list[str] = []
        if ignoring:
            why.append(
                f"firmware {self.firmware} (8.2.4225 and later) accepts local storage writes and "
                "ignores them: on such firmware only the Enphase cloud changes this setting, "
                "as the Enphase app does; give an Enlighten account for the cloud route "
                "(Control.use_cloud, or --username with enphase battery)"
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

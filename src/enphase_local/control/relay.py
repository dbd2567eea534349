"""The grid relay of the IQ System Controller (Enpower): going off grid and back.

``POST /ivp/ensemble/relay {"mains_admin_state": "open"|"closed"}`` asks the
controller to open (off grid) or close (on grid) its mains relay. The relay
moves 8 to 28 s later; on 8.3.6000 and later it may first top the batteries
off, reading ``open synchronizing`` then ``open synchronized`` (never plain
``open``). The action confirms on the contact state alone (the first word)
and polls the ensemble inventory's ``mains_oper_state`` for up to about
90 s; when it has not moved by then the result is ``pending``, not a
failure: the gateway accepted the request.
"""

from __future__ import annotations

from typing import Any

from ..capabilities import Capability
from ..errors import EnvoyFeatureUnavailable
from ..models.ensemble import EnsembleInventory
from ..sources.table import ENSEMBLE_INVENTORY
from ._core import ControlCore, Poll
from .result import Check, Outcome, WriteRequest, WriteResult

__all__ = ["RELAY_PATH", "RELAY_POLL", "RelayActions"]

RELAY_PATH = "/ivp/ensemble/relay"
RELAY_POLL = Poll(timeout_s=90.0, interval_s=3.0, first_s=5.0)
"""The relay takes 8 to 28 s, plus a battery top-off on 8.3.6000+: first look after 5 s,
then every 3 s, for up to 90 s (it stops as soon as the contacts show the requested state)."""


def _oper_state(inventory: EnsembleInventory) -> str | None:
    """The contact state (``open``/``closed``): ``open synchronizing`` is open."""
    enpower = inventory.enpower
    return None if enpower is None else enpower.mains_oper_state.value


class RelayActions(ControlCore):
    """Off grid / on grid."""

    async def go_off_grid(
        self, *, dry_run: bool = False, timeout_s: float | None = None
    ) -> WriteResult:
        """Open the mains relay: the site runs on batteries (and PV) alone."""
        return await self._relay("open", "go_off_grid", dry_run=dry_run, timeout_s=timeout_s)

    async def go_on_grid(
        self, *, dry_run: bool = False, timeout_s: float | None = None
    ) -> WriteResult:
        """Close the mains relay: reconnect the site to the grid."""
        return await self._relay("closed", "go_on_grid", dry_run=dry_run, timeout_s=timeout_s)

    async def _relay(
        self, state: str, action: str, *, dry_run: bool, timeout_s: float | None
    ) -> WriteResult:
        what = "go off grid" if state == "open" else "go on grid"
        self._require(Capability.ENPOWER, what)
        poll = RELAY_POLL.with_timeout(timeout_s)
        inventory: EnsembleInventory = await self._read(ENSEMBLE_INVENTORY)
        if inventory.enpower is None:
            raise EnvoyFeatureUnavailable(
                f"cannot {what}: the ensemble inventory lists no IQ System Controller (Enpower), "
                "which holds the grid relay"
            )
        body: dict[str, Any] = {"mains_admin_state": state}
        return await self.write(
            action=action,
            request=WriteRequest("POST", RELAY_PATH, body),
            check=Check(ENSEMBLE_INVENTORY, _oper_state, "grid relay"),
            requested=state,
            before=_oper_state(inventory),
            poll=poll,
            dry_run=dry_run,
            notes={
                Outcome.PENDING: (
                    "The relay takes 8 to 28 s to move (longer on 8.3.6000+, which may top "
                    "the batteries off first); check again in a minute with verify_later(result)"
                )
            },
        )

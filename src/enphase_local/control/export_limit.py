"""Export limiting and the production switch: stop exporting when the grid price goes negative.

Two gateway features an *installer* token changes (cloud.md section 2):

- dynamic power export limiting (DPEL, ``POST /ivp/ss/dpel``): the gateway
  curtails the microinverters so the grid export (or the production itself)
  stays under a limit in watts. It needs consumption CTs, and it does nothing
  until the installer has enabled "Power Production Limiting by Gateway" for
  the site in Enlighten Manager: the gateway then answers 200 and keeps its
  old setting, which the read-back reports as ``ignored``;
- the production switch (``PUT /ivp/mod/603980032/mode/power``): all
  production off or on. Field reports say the inverters may stay off until
  the next morning after it is turned back on, so ``set_export_limit(0)``
  is the safer way to stop exporting for an hour.

Every refusal we can know beforehand (an owner token, no CTs, firmware
without DPEL) raises with nothing sent; the rest goes through
`ControlCore.write`: sent once, read back, never repeated on its own.
"""

from __future__ import annotations

import math
from typing import Any

from ..capabilities import Capability
from ..errors import EnvoyFeatureUnavailable, EnvoyParseError, EnvoyRoleError
from ..models.export_limit import DynamicExportLimit, LimitMode, ProductionPower
from ..models.meters import CtType, MeterState
from ..sources.export_limit import (
    DPEL,
    DPEL_PATH,
    PRODUCTION_POWER,
    PRODUCTION_POWER_PATH,
    dpel_disable_body,
    dpel_enable_body,
    production_power_body,
)
from ..sources.meters import METERS
from ._core import ControlCore, Poll
from .result import Check, Outcome, WriteRequest, WriteResult

__all__ = [
    "DEFAULT_SLEW_RATE",
    "ENLIGHTEN_NOTE",
    "EXPORT_LIMIT_POLL",
    "MAX_LIMIT_W",
    "SWITCH_WARNING",
    "ExportLimitActions",
]

EXPORT_LIMIT_POLL = Poll(timeout_s=15.0, interval_s=3.0, first_s=1.0)
"""The gateway stores the setting at once when it takes it: a short look is enough."""

DEFAULT_SLEW_RATE = 50.0  # what the field captures show; the gateway's own unit
MAX_LIMIT_W = 1_000_000.0  # far above any site one gateway manages: a typo, not a limit

ENLIGHTEN_NOTE = (
    "nothing happens until the installer enables 'Power Production Limiting by Gateway' "
    "for this site in Enlighten Manager; ask them, then try again"
)
SWITCH_WARNING = (
    "After production is switched back on, the microinverters may stay off until the next "
    "morning (field reports); to stop exporting for a while, set an export limit of 0 W "
    "instead (set_export_limit(0), `enphase export-limit set 0`)"
)
_USED = frozenset({CtType.NET_CONSUMPTION, CtType.TOTAL_CONSUMPTION})  # CTs that see the export
_INSTALLER = (
    "needs an installer token, and this connection uses {role}: get one with "
    "`enphase token --installer` (the Entrez portal), then try again"
)


def _limit_of(dpel: DynamicExportLimit) -> dict[str, Any]:
    """The written fields as a person reads them: enabled, mode, limit, slew rate."""
    if not dpel.enabled:
        return {"enabled": False}
    return {
        "enabled": True,
        "mode": None if dpel.mode is None else dpel.mode.value,
        "limit_watts": dpel.limit_watts,
        "slew_rate": dpel.slew_rate,
    }


def _production_on(power: ProductionPower) -> bool:
    return not power.forced_off


class ExportLimitActions(ControlCore):
    """`set_export_limit`, `clear_export_limit`, `set_production` (installer token)."""

    async def set_export_limit(
        self,
        watts: float,
        *,
        mode: LimitMode | str = LimitMode.EXPORT,
        slew_rate: float = DEFAULT_SLEW_RATE,
        dry_run: bool = False,
        timeout_s: float | None = None,
    ) -> WriteResult:
        """Cap the grid export (``mode="export"``) or the production (``"production"``) at `watts`.

        ``set_export_limit(0)`` stops all export while the house and the
        batteries still use the sun. Needs an installer token and consumption
        CTs; the site must have limiting enabled in Enlighten (else ``ignored``).
        """
        if isinstance(watts, bool) or not isinstance(watts, int | float):
            raise ValueError(f"the limit must be a number of watts; got {watts!r}")
        if not math.isfinite(watts) or not 0 <= watts <= MAX_LIMIT_W:
            raise ValueError(f"the limit must be between 0 and {MAX_LIMIT_W:.0f} W; got {watts!r}")
        member = LimitMode.parse(mode)
        if member is LimitMode.UNKNOWN:
            raise ValueError(f"mode must be 'export' or 'production'; got {mode!r}")
        if isinstance(slew_rate, bool) or not isinstance(slew_rate, int | float):
            raise ValueError(f"slew rate must be a number; got {slew_rate!r}")
        if not math.isfinite(slew_rate) or slew_rate <= 0:
            raise ValueError(f"slew rate must be above 0; got {slew_rate!r}")
        current = await self._dpel_ready(f"limit {member.value} to {watts:g} W")
        requested = {
            "enabled": True,
            "mode": member.value,
            "limit_watts": float(watts),
            "slew_rate": float(slew_rate),
        }
        body = dpel_enable_body(
            watts, export=member is LimitMode.EXPORT, slew_rate=slew_rate, current=current
        )
        return await self._dpel_write(
            "set_export_limit", body, requested, current, dry_run=dry_run, timeout_s=timeout_s
        )

    async def clear_export_limit(
        self, *, dry_run: bool = False, timeout_s: float | None = None
    ) -> WriteResult:
        """Turn dynamic export limiting off: production and export follow the sun again."""
        current = await self._dpel_ready("clear the export limit")
        body = dpel_disable_body(current)
        requested = {"enabled": False}
        return await self._dpel_write(
            "clear_export_limit", body, requested, current, dry_run=dry_run, timeout_s=timeout_s
        )

    async def set_production(
        self, on: bool, *, dry_run: bool = False, timeout_s: float | None = None
    ) -> WriteResult:
        """Switch all production on (True) or off (False), gateway-wide.

        Warning: after production is switched back on, the microinverters may
        stay off until the next morning (field reports, VW #112 and #292). To
        stop exporting for a while, ``set_export_limit(0)`` is the safer way.
        Needs an installer token.
        """
        if not isinstance(on, bool):
            raise ValueError(f"production must be True (on) or False (off); got {on!r}")
        what = "switch production " + ("on" if on else "off")
        self._require_installer(what)
        power: ProductionPower = await self._read(PRODUCTION_POWER)
        return await self.write(
            action="set_production",
            request=WriteRequest("PUT", PRODUCTION_POWER_PATH, production_power_body(on)),
            check=Check(PRODUCTION_POWER, _production_on, "production"),
            requested=on,
            before=_production_on(power),
            poll=EXPORT_LIMIT_POLL.with_timeout(timeout_s),
            dry_run=dry_run,
            notes={Outcome.CONFIRMED: SWITCH_WARNING, Outcome.PENDING: SWITCH_WARNING},
        )

    # --- shared --------------------------------------------------------------------------
    def _require_installer(self, what: str) -> None:
        """Refuse, before anything is sent, a write an owner's token cannot make."""
        role = getattr(self._target, "role", None)
        if role != "installer":
            shown = "an owner token" if role == "owner" else "a token of unknown role"
            raise EnvoyRoleError(f"cannot {what}: this {_INSTALLER.format(role=shown)}")

    async def _dpel_ready(self, what: str) -> DynamicExportLimit:
        """Check role, CTs and firmware, then read the limit in force (nothing sent before)."""
        self._require_installer(what)
        no_ct = (
            f"cannot {what}: export limiting needs a consumption CT, and this gateway "
            f"(firmware {self.firmware}) has {{}}; without one it cannot see the export "
            "it would limit"
        )
        if Capability.METERS not in self._target.capabilities:
            raise EnvoyFeatureUnavailable(no_ct.format("no CTs in use"))
        meters = await self._read(METERS)
        if not any(m.state is MeterState.ENABLED and m.measurement_type in _USED for m in meters):
            raise EnvoyFeatureUnavailable(no_ct.format("none enabled"))
        try:
            current: DynamicExportLimit = await self._read(DPEL)
        except (EnvoyParseError, EnvoyFeatureUnavailable) as err:
            if isinstance(err, EnvoyParseError) and err.gateway_error is None:
                raise
            raise EnvoyFeatureUnavailable(
                f"cannot {what}: the gateway (firmware {self.firmware}) offers no dynamic "
                f"export limiting to this token ({err})"
            ) from None
        return current

    async def _dpel_write(
        self,
        action: str,
        body: dict[str, Any],
        requested: dict[str, Any],
        current: DynamicExportLimit,
        *,
        dry_run: bool,
        timeout_s: float | None,
    ) -> WriteResult:
        return await self.write(
            action=action,
            request=WriteRequest("POST", DPEL_PATH, body),
            check=Check(DPEL, _limit_of, "export limit"),
            requested=requested,
            before=_limit_of(current),
            poll=EXPORT_LIMIT_POLL.with_timeout(timeout_s),
            dry_run=dry_run,
            unchanged=Outcome.IGNORED,
            notes={Outcome.IGNORED: ENLIGHTEN_NOTE},
        )

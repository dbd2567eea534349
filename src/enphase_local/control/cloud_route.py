"""Storage writes through the Enphase cloud, confirmed on the gateway where it can say.

Why: from firmware 8.2.4225 the gateway ignores local storage writes, and
the Enphase cloud's battery service (`CloudBatteryTarget`) is the route that
works. The cloud accepts a change at once and the gateway applies it 10-20 s
later, so a cloud write is judged like a local one, by reading back:

- on the gateway, where a local field shows the setting (the reserve in
  ``secctrl.configured_backup_soc``, the shutdown level in
  ``secctrl.VLS_Limit``): ``confirmed`` once it reads the new value;
- in the cloud otherwise (the profile, Storm Guard, which no local field
  reports): ``confirmed`` once the gateway is no longer pending and the
  cloud holds the new value;
- ``accepted`` while the cloud still lists the gateway under
  ``pendingGateways`` ("accepted by Enphase, waiting for the gateway"), and
  ``not-confirmed`` once that has lasted `PENDING_BOUND_S` or the gateway
  shows something else.

Each write is sent once and never repeated; the clock and sleep are the
injected ones, so tests replay minutes of waiting at once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..errors import EnvoyError, EnvoyFeatureUnavailable, EnvoyHTTPError
from ..models.cloud_battery import BatterySettings
from ._core import ControlCore, Poll, show
from .cloud_target import CloudBatteryTarget
from .result import Check, CloudCheck, Outcome, WriteRequest, WriteResult

__all__ = ["CLOUD_POLL", "PENDING_BOUND_S", "CloudRoute", "CloudWrite"]

_LOG = logging.getLogger("enphase_local.control")

CLOUD_POLL = Poll(timeout_s=60.0, interval_s=5.0, first_s=5.0)
"""The gateway applies a cloud change in 10 to 20 s: a minute covers it with room."""

PENDING_BOUND_S = 600.0
"""After this long still pending, a cloud change is ``not-confirmed`` (barneyonline's bound)."""

NO_CLOUD = (
    "the cloud route needs an Enlighten account: give its username and password "
    "(Control.use_cloud, or --username with ENPHASE_PASSWORD) to go through the Enphase cloud"
)


def _absent(err: EnvoyError) -> bool:
    """The gateway has no such endpoint (404) or feature: it cannot show the setting."""
    return isinstance(err, EnvoyFeatureUnavailable) or (
        isinstance(err, EnvoyHTTPError) and err.status == 404
    )


@dataclass(frozen=True, slots=True)
class CloudWrite:
    """One cloud write, planned: what it shows, what it sends, how it is read back."""

    action: str
    requested: Any
    before: Any
    request: WriteRequest
    send: Callable[[CloudBatteryTarget], Awaitable[Any]]
    check: CloudCheck


@dataclass(frozen=True, slots=True)
class _Look:
    confirmed: bool
    where: str  # "gateway" | "cloud"
    local_value: Any = None
    local_error: EnvoyError | None = None
    pending: bool | None = None  # None: the cloud could not be read
    cloud_value: Any = None


class CloudRoute(ControlCore):
    """The cloud half of the storage actions: `use_cloud`, the write and its judgement."""

    def use_cloud(self, cloud: CloudBatteryTarget | None) -> None:
        """Route storage writes through the Enphase cloud (`net.battery_cloud.BatteryCloud`)."""
        self._cloud = cloud

    @property
    def cloud(self) -> CloudBatteryTarget | None:
        return self._cloud

    def _need_cloud(self) -> CloudBatteryTarget:
        if self._cloud is None:
            raise EnvoyFeatureUnavailable(NO_CLOUD)
        return self._cloud

    async def _cloud_settings(self) -> BatterySettings:
        return await self._need_cloud().battery_settings()

    async def _local_value(self, check: Check[Any]) -> Any:
        try:
            return check.extract(await self._target.read(check.source))
        except EnvoyError as err:
            _LOG.debug("local read of %s failed: %s", check.key, err)
            return None

    async def cloud_write(
        self, plan: CloudWrite, *, poll: Poll, dry_run: bool, note: str = ""
    ) -> WriteResult:
        """Send `plan` once through the cloud (unless `dry_run`), then judge it by reading back."""
        label = plan.check.label
        if dry_run:
            return WriteResult(
                action=plan.action,
                outcome=Outcome.DRY_RUN,
                requested=plan.requested,
                before=plan.before,
                after=None,
                message=(
                    f"dry run: would set {label} from {show(plan.before)} to "
                    f"{show(plan.requested)} through the Enphase cloud "
                    f"({plan.request.method} {plan.request.path}); nothing was sent"
                ),
                elapsed_s=0.0,
                request=plan.request,
                check=plan.check,
                route="cloud",
            )
        cloud = self._need_cloud()
        sent_at = self._clock()
        await plan.send(cloud)  # raises when refused; sent once
        _LOG.debug("%s: accepted by the Enphase cloud", plan.action)
        look = await self._poll_cloud(plan.check, plan.requested, poll, sent_at)
        result = WriteResult(
            action=plan.action,
            outcome=Outcome.PENDING,
            requested=plan.requested,
            before=plan.before,
            after=None,
            message="",
            elapsed_s=0.0,
            request=plan.request,
            sent_at=sent_at,
            check=plan.check,
            route="cloud",
        )
        judged = self._judge(result, look)
        return dataclasses.replace(judged, message=f"{judged.message}{note}")

    async def _look(self, check: CloudCheck, want: Any, *, cloud_too: bool) -> _Look:
        local_value: Any = None
        local_error: EnvoyError | None = None
        if check.local is not None:
            try:
                local_value = check.local.extract(await self._target.read(check.local.source))
            except (EnvoyFeatureUnavailable, EnvoyHTTPError) as err:
                if not _absent(err):  # a gateway without the endpoint is silent, not failing
                    local_error = err
            except EnvoyError as err:
                local_error = err
            else:
                if local_value == want:
                    return _Look(True, "gateway", local_value)
            if not cloud_too:
                return _Look(False, "gateway", local_value, local_error)
        try:
            settings = await self._need_cloud().battery_settings()
        except EnvoyError as err:
            _LOG.debug("cloud read-back failed: %s", err)
            return _Look(False, "cloud", local_value, local_error)
        pending = settings.pending_for(self._need_cloud().serial)
        value = settings.effective(check.cloud_key)
        # a gateway that does not report the setting (no IQ Battery behind an ACB-only
        # site, VLS_Limit before firmware 8) leaves the cloud to say it
        silent = check.local is None or (local_value is None and local_error is None)
        done = silent and not pending and value == check.cloud_value
        return _Look(done, "cloud", local_value, local_error, pending, value)

    async def _poll_cloud(self, check: CloudCheck, want: Any, poll: Poll, started: float) -> _Look:
        deadline = started + poll.timeout_s
        if poll.first_s > 0:
            await self._sleep(poll.first_s)
        while True:
            final = deadline - self._clock() <= 0
            look = await self._look(check, want, cloud_too=final or check.local is None)
            if look.confirmed:
                return look
            if final:
                return look
            await self._sleep(min(poll.interval_s, max(0.0, deadline - self._clock())))

    def _judge(self, result: WriteResult, look: _Look) -> WriteResult:
        assert result.sent_at is not None and isinstance(result.check, CloudCheck)
        elapsed = max(0.0, self._clock() - result.sent_at)
        took = f"{elapsed:.0f} s"
        label, want = result.check.label, show(result.requested)
        local = result.check.local is not None and look.local_value is not None
        after: Any = look.local_value if local else look.cloud_value
        if look.confirmed:
            outcome = Outcome.CONFIRMED
            where = (
                "read back on the gateway"
                if look.where == "gateway"
                else "confirmed by the Enphase cloud (the gateway applied it; it does not report "
                "this setting locally)"
            )
            message = f"{label} set from {show(result.before)} to {want} through the Enphase "
            message += f"cloud, {where} after {took}"
            after = result.requested
        elif look.pending and elapsed < PENDING_BOUND_S:
            outcome = Outcome.ACCEPTED
            message = (
                f"accepted by Enphase, waiting for the gateway: {label} {want} is not applied "
                f"yet after {took}; check again in a few minutes (verify_later)"
            )
        elif look.pending:
            outcome = Outcome.NOT_CONFIRMED
            message = (
                f"Enphase accepted {label} {want}, but the gateway has not applied it after "
                f"{took}: it may not be reaching the Enphase cloud; check it in the Enphase app"
            )
        elif look.pending is None or look.local_error is not None:
            outcome = Outcome.PENDING
            message = (
                f"Enphase accepted {label} {want}, but reading it back failed after {took}; "
                "read it again later"
            )
        else:
            outcome = Outcome.NOT_CONFIRMED
            shown = show(after)
            message = (
                f"Enphase accepted {label} {want}, but the gateway reads {shown} after {took}"
                if local
                else f"Enphase accepted {label} {want}, but the cloud reads {shown} after {took}"
            )
        return dataclasses.replace(
            result, outcome=outcome, after=after, message=message, elapsed_s=round(elapsed, 3)
        )

    async def verify_later(self, result: WriteResult, *, wait_s: float = 0.0) -> WriteResult:
        """`ControlCore.verify_later`, and for a cloud write `verify_cloud`."""
        if result.route == "cloud":
            return await self.verify_cloud(result, wait_s=wait_s)
        return await super().verify_later(result, wait_s=wait_s)

    async def verify_cloud(self, result: WriteResult, *, wait_s: float = 0.0) -> WriteResult:
        """Judge a cloud write again now (after `wait_s`): ``accepted`` may become final."""
        if not isinstance(result.check, CloudCheck) or result.sent_at is None:
            raise ValueError("nothing to verify: this result was a dry run, nothing was sent")
        if wait_s > 0:
            await self._sleep(wait_s)
        look = await self._look(result.check, result.requested, cloud_too=True)
        return self._judge(result, look)

"""Setting a control: one call through ``envoy.control``, its outcome shown to the user.

The control layer says whether a write took (confirmed), is not visible yet
(pending), was accepted and ignored (firmware 8.2.4225+ does this to storage
settings) or, read again later, was put back (reverted: the Enphase cloud).
A confirmed or pending write is read again after `VERIFY_AFTER_S`; an ignored
or reverted one becomes a repair issue saying why and what to do, and a
pending one a persistent notification, so nobody believes a setting that the
gateway does not hold.
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later

from enphase_local.control import Outcome, WriteResult
from enphase_local.errors import EnvoyAuthError, EnvoyError, EnvoyFeatureUnavailable
from enphase_local.features import Instance

from .const import DOMAIN, VERIFY_AFTER_S
from .coordinator import EnphaseCoordinator

_LOGGER = logging.getLogger(__name__)


def _issue_id(coordinator: EnphaseCoordinator, inst: Instance) -> str:
    return f"write_{coordinator.serial}_{inst.uid}"


async def async_write(
    coordinator: EnphaseCoordinator, inst: Instance, value: Any, name: str
) -> WriteResult:
    """Send one write, surface its outcome, refresh the entities; errors as HA exceptions."""
    feature = inst.feature
    assert feature.set is not None
    try:
        result = await feature.set(
            coordinator.envoy.control, inst.key, value, coordinator.readings()
        )
    except (ValueError, EnvoyFeatureUnavailable, EnvoyAuthError) as err:
        # refused before anything was sent (a value out of range, no CTs, not an installer
        # token): the user's to fix, said in one line
        raise ServiceValidationError(f"{name}: {err}") from err
    except EnvoyError as err:
        raise HomeAssistantError(f"{name}: the gateway did not take the change: {err}") from err
    coordinator.last_writes[inst.uid] = result
    _surface(coordinator, inst, result, name)
    if result.outcome in (Outcome.CONFIRMED, Outcome.PENDING):
        _verify_later(coordinator, inst, result, name)
    # at once, not debounced: the user just changed it and waits to see it (a second change
    # within the debouncer's cool-down would otherwise show the old value for seconds)
    await coordinator.async_refresh()
    return result


def _surface(
    coordinator: EnphaseCoordinator, inst: Instance, result: WriteResult, name: str
) -> None:
    hass = coordinator.hass
    issue = _issue_id(coordinator, inst)
    placeholders = {"entity": name, "message": result.message, "serial": coordinator.serial}
    if result.outcome is Outcome.CONFIRMED:
        ir.async_delete_issue(hass, DOMAIN, issue)
        persistent_notification.async_dismiss(hass, issue)
    elif result.outcome is Outcome.PENDING:
        persistent_notification.async_create(
            hass,
            f"{name}: the gateway accepted the change but does not show it yet. "
            f"{result.message} It is read again in {VERIFY_AFTER_S:.0f} s.",
            title="Enphase: change pending",
            notification_id=issue,
        )
    elif result.outcome in (Outcome.IGNORED, Outcome.REVERTED):
        persistent_notification.async_dismiss(hass, issue)
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=f"write_{result.outcome.value}",
            translation_placeholders=placeholders,
        )
        _LOGGER.warning("%s: write %s: %s", name, result.outcome.value, result.message)


def _verify_later(
    coordinator: EnphaseCoordinator, inst: Instance, result: WriteResult, name: str
) -> None:
    hass: HomeAssistant = coordinator.hass

    async def verify() -> None:
        try:
            later = await coordinator.envoy.control.verify_later(result)
        except EnvoyError as err:
            _LOGGER.debug("%s: could not read the change again: %s", name, err)
            return
        coordinator.last_writes[inst.uid] = later
        _surface(coordinator, inst, later, name)
        coordinator.async_update_listeners()

    @callback
    def fire(_now: Any) -> None:
        coordinator.config_entry.async_create_task(
            hass, verify(), f"enphase_local verify {inst.uid}"
        )

    coordinator.config_entry.async_on_unload(async_call_later(hass, VERIFY_AFTER_S, fire))

"""System health: is each gateway answering, how fresh is its data, is the live stream on."""

from __future__ import annotations

from typing import Any

from homeassistant.components import system_health
from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN


@callback
def async_register(hass: HomeAssistant, register: system_health.SystemHealthRegistration) -> None:
    register.async_register_info(system_health_info)


async def system_health_info(hass: HomeAssistant) -> dict[str, Any]:
    entries = hass.config_entries.async_loaded_entries(DOMAIN)
    info: dict[str, Any] = {"gateways": len(entries)}
    for n, entry in enumerate(entries, 1):
        coordinator = entry.runtime_data
        snapshot = coordinator.data
        info[f"gateway_{n}_reachable"] = coordinator.last_update_success
        info[f"gateway_{n}_firmware"] = snapshot.gateway.firmware if snapshot else None
        info[f"gateway_{n}_live"] = coordinator.live_running
        info[f"gateway_{n}_failing_sections"] = len(snapshot.errors) if snapshot else None
    return info

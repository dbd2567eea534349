"""Diagnostics download: the entry, the last snapshot and live frame, redacted.

Redaction is the project's own (`enphase_local.redact.Redactor`): serials,
addresses, tokens, passwords and certificate fingerprints become stable
fakes, the same way `enphase dump` redacts captures, so a diagnostics file can
be posted in a public issue.
"""

from __future__ import annotations

from typing import Any

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from enphase_local.features import FEATURES, instances
from enphase_local.redact import Redactor

from .const import CONF_FINGERPRINT, CONF_TOKEN
from .coordinator import EnphaseConfigEntry

_SECRET_FIELDS = (CONF_TOKEN, CONF_PASSWORD, CONF_USERNAME, CONF_FINGERPRINT)


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EnphaseConfigEntry
) -> dict[str, Any]:
    coordinator = entry.runtime_data
    data = dict(entry.data)
    secrets = [str(data[k]) for k in _SECRET_FIELDS if data.get(k)]
    serials = [coordinator.serial]
    snapshot = coordinator.data
    if snapshot is not None:
        serials += list(snapshot.inverters)
        if snapshot.battery is not None:
            serials += list(snapshot.battery.units)
        if snapshot.enpower is not None:
            serials.append(snapshot.enpower.serial)
    redactor = Redactor(serials=serials, secrets=secrets)
    entry_doc = {
        key: ("**REDACTED**" if key in _SECRET_FIELDS and value else value)
        for key, value in data.items()
    }
    entry_doc[CONF_HOST] = redactor.redact_text(str(data.get(CONF_HOST, "")))
    readings = coordinator.readings()
    doc: dict[str, Any] = {
        "entry": {"data": entry_doc, "options": dict(entry.options)},
        "last_update_success": coordinator.last_update_success,
        "live_running": coordinator.live_running,
        "snapshot": None if snapshot is None else snapshot.to_dict(),
        "live_frame": None if coordinator.frame is None else coordinator.frame.to_dict(),
        "features": sorted(i.uid for i in instances(FEATURES, readings)),
        "last_writes": {uid: r.to_dict() for uid, r in coordinator.last_writes.items()},
        "requests": {"stats": repr(coordinator.envoy.stats)},
    }
    redacted: dict[str, Any] = redactor.redact_json(doc)
    return redacted

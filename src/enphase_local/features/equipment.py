"""The IQ Meter Collar and the IQ Combiner 6C controller: their state, one device each.

Why: sites with a collar (the grid disconnect fitted at the meter socket)
or a Combiner 6C ask which state it is in, whether it talks to the gateway
and when it last reported. Both are read from ``/ivp/ensemble/inventory``
(snapshot ``collar`` and ``c6cc``); their state words are given as the
gateway sends them (``ENCMN_MDE_ON_GRID``, ``close``), since Enphase does
not document that vocabulary. No core ``enphase_envoy`` ids: the core
release this project checks against (2025.4) has no such entities.
"""

from __future__ import annotations

from typing import Any

from ..models.ensemble import CollarGridState
from .model import Feature, Kind, Readings, Scope
from .read import at
from .styles import DIAG, TEMP

__all__ = ["EQUIPMENT"]


def _of(section: str, path: str) -> Any:
    """A value of the snapshot's collar or c6cc section (the scope has at most one)."""

    def get(r: Readings, _key: str) -> Any:
        return at(getattr(r.snapshot, section), path)

    return get


def _collar(fid: str, name: str, path: str, **kw: Any) -> Feature:
    return Feature(
        fid, name, kw.pop("kind", Kind.SENSOR), _of("collar", path), scope=Scope.COLLAR, **kw
    )


def _c6(fid: str, name: str, path: str, **kw: Any) -> Feature:
    return Feature(fid, name, kw.pop("kind", Kind.SENSOR), _of("c6cc", path), scope=Scope.C6, **kw)


def _on_grid(r: Readings, _key: str) -> bool | None:
    collar = r.snapshot.collar
    if collar is None or collar.grid_state is CollarGridState.UNKNOWN:
        return None
    return collar.grid_state is CollarGridState.ON_GRID


EQUIPMENT: tuple[Feature, ...] = (
    Feature(
        "collar_grid",
        "Grid",
        Kind.BINARY_SENSOR,
        _on_grid,
        scope=Scope.COLLAR,
        device_class="power",
        icon="mdi:transmission-tower",
        doc="on: the collar connects the site to the grid (grid_state on_grid)",
    ),
    _collar("collar_state", "State", "admin_state_str", icon="mdi:meter-electric"),
    _collar("collar_mid_state", "Grid contactor", "mid_state", doc="close or open, as sent"),
    _collar("collar_temperature", "Temperature", "temperature_c", **(TEMP | DIAG)),
    _collar(
        "collar_communicating",
        "Communicating",
        "communicating",
        kind=Kind.BINARY_SENSOR,
        device_class="connectivity",
        **DIAG,
    ),
    _collar("collar_last_report", "Last report", "last_report", device_class="timestamp", **DIAG),
    _collar("collar_firmware", "Firmware", "firmware", enabled_by_default=False, **DIAG),
    _c6("c6_state", "State", "admin_state_str", icon="mdi:electric-switch"),
    _c6(
        "c6_communicating",
        "Communicating",
        "communicating",
        kind=Kind.BINARY_SENSOR,
        device_class="connectivity",
        **DIAG,
    ),
    _c6("c6_last_report", "Last report", "last_report", device_class="timestamp", **DIAG),
    _c6("c6_firmware", "Firmware", "firmware", enabled_by_default=False, **DIAG),
)

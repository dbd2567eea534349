"""The controls: every setting the service can change, each through ``envoy.control``.

A control is a feature with a `set`: its value is read from the snapshot like
any other, and setting it calls the one confirmed-write action of the control
layer, which returns confirmed / pending / ignored (and `verify_later`
reverted). Nothing here talks to the gateway or decides an outcome.

Unique ids of the core ``enphase_envoy`` integration are kept for the
controls it has (storage mode, reserve, charge from grid, the grid relay, the
dry contacts and their settings, the generator's exercise start time, AC
Battery sleep), so a user taking over keeps their history and automations.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..models.dry_contacts import DryContactAction, DryContactMode
from ..models.generator import GenMode
from ..models.tariff import StorageMode
from .model import Category, Feature, Kind, Readings, Scope
from .read import at, item

if TYPE_CHECKING:
    from ..control import Control, WriteResult

__all__ = ["CONTROLS"]


def _choices(enum: Any) -> tuple[str, ...]:
    return tuple(m.value for m in enum if m.value != "unknown")


async def _storage_mode(c: Control, _k: str, value: Any, _r: Readings) -> WriteResult:
    return await c.set_storage_mode(str(value))


async def _reserve(c: Control, _k: str, value: Any, _r: Readings) -> WriteResult:
    return await c.set_reserve_soc(float(value))


async def _charge_from_grid(c: Control, _k: str, value: Any, _r: Readings) -> WriteResult:
    return await c.set_charge_from_grid(bool(value))


async def _shutdown(c: Control, _k: str, value: Any, _r: Readings) -> WriteResult:
    return await c.set_shutdown_soc(float(value))


async def _grid_relay(c: Control, _k: str, value: Any, _r: Readings) -> WriteResult:
    return await (c.go_on_grid() if value else c.go_off_grid())


async def _contact(c: Control, key: str, value: Any, _r: Readings) -> WriteResult:
    return await c.set_dry_contact(key, "closed" if value else "open")


def _contact_setting(name: str, cast: Any) -> Any:
    async def setter(c: Control, key: str, value: Any, _r: Readings) -> WriteResult:
        return await c.configure_dry_contact(key, **{name: cast(value)})

    return setter


async def _generator_mode(c: Control, _k: str, value: Any, _r: Readings) -> WriteResult:
    return await c.set_generator_mode(str(value))


async def _charge_from_generator(c: Control, _k: str, value: Any, _r: Readings) -> WriteResult:
    return await c.set_charge_from_generator(bool(value))


async def _exercise_start(c: Control, _k: str, value: Any, _r: Readings) -> WriteResult:
    return await c.set_generator_exercise(start_minute=int(value))


def _acb_units(r: Readings) -> tuple[str, ...]:
    return tuple(r.snapshot.acb.units) if r.snapshot.acb is not None else ()


async def _acb_wake(c: Control, _k: str, _value: Any, r: Readings) -> WriteResult:
    return await c.clear_acb_sleep(_acb_units(r))


async def _acb_sleep(c: Control, key: str, value: Any, r: Readings) -> WriteResult:
    """On: sleep within the unit's window when it has one, else at any charge; off: wake."""
    if not value:
        return await c.clear_acb_sleep([key])
    unit = r.snapshot.acb.units.get(key) if r.snapshot.acb is not None else None
    low = None if unit is None else unit.sleep_min_soc_percent
    high = None if unit is None else unit.sleep_max_soc_percent
    if low is None or high is None or low > high:
        low, high = 0, 100
    return await c.set_acb_sleep(key, int(low), int(high))


def _on(path: str, on: str) -> Any:
    """A switch state from a relay-like enum: True when it reads `on`, None when unknown."""

    def get(r: Readings, key: str) -> bool | None:
        value = at(r.snapshot, path) if not key else None
        if value is None or value == "unknown":
            return None
        return bool(value == on)

    return get


def _battery_setting(name: str) -> Any:
    """Exists on a battery site whose settings section shows this setting."""

    def exists(r: Readings, _key: str) -> bool:
        return (
            r.snapshot.battery is not None
            and at(r.snapshot, f"battery_settings.{name}") is not None
        )

    return exists


def _origin(name: str) -> Any:
    """``{"read_from": "controller" | "tariff"}``: which source the value in effect came from."""

    def attributes(r: Readings, _key: str) -> dict[str, Any]:
        settings = r.snapshot.battery_settings
        origin = None if settings is None else settings.origins.get(name)
        return {} if origin is None else {"read_from": origin.value}

    return attributes


def _contact_closed(r: Readings, key: str) -> bool | None:
    contact = r.snapshot.dry_contacts.get(key)
    if contact is None or contact.status.value == "unknown":
        return None
    return contact.status.value == "closed"


def _has_settings(r: Readings, key: str) -> bool:
    contact = r.snapshot.dry_contacts.get(key)
    return contact is not None and contact.settings is not None


def _minute(value: Any) -> int | None:
    if isinstance(value, int | float) and math.isfinite(value):
        return int(value)
    return None


_CONFIG: dict[str, Any] = {"category": Category.CONFIG}
_PERCENT: dict[str, Any] = {"unit": "%", "minimum": 0, "maximum": 100, "step": 1}
_RELAY = "{enpower}_relay_{key}_"
SHUTDOWN_MIN, SHUTDOWN_MAX = 5, 25  # the cloud's veryLowSocMin / veryLowSocMax (cloud.md)

CONTROLS: tuple[Feature, ...] = (
    Feature(
        "storage_mode",
        "Storage mode",
        Kind.SELECT,
        lambda r, _k: at(r.snapshot, "battery_settings.storage_mode"),
        set=_storage_mode,
        attributes=_origin("storage_mode"),
        options=_choices(StorageMode),
        core_unique_id="{enpower}_storage_mode",
        icon="mdi:battery-sync",
    ),
    Feature(
        "reserve_soc",
        "Battery reserve",
        Kind.NUMBER,
        lambda r, _k: at(r.snapshot, "battery_settings.reserve_soc_percent"),
        set=_reserve,
        device_class="battery",
        core_unique_id="{enpower}_reserve_soc",
        exists=_battery_setting("reserve_soc_percent"),
        attributes=_origin("reserve_soc_percent"),
        **_PERCENT,
    ),
    Feature(
        "shutdown_soc",
        "Battery shutdown level",
        Kind.NUMBER,
        lambda r, _k: at(r.snapshot, "battery_settings.shutdown_soc_percent"),
        set=_shutdown,
        device_class="battery",
        unit="%",
        minimum=SHUTDOWN_MIN,
        maximum=SHUTDOWN_MAX,
        step=1,
        exists=_battery_setting("shutdown_soc_percent"),
        attributes=_origin("shutdown_soc_percent"),
        enabled_by_default=False,
        doc="veryLowSoc: set through the Enphase cloud only (Control.use_cloud), 5 to 25 %",
        **_CONFIG,
    ),
    Feature(
        "charge_from_grid",
        "Charge from grid",
        Kind.SWITCH,
        lambda r, _k: at(r.snapshot, "battery_settings.charge_from_grid"),
        set=_charge_from_grid,
        attributes=_origin("charge_from_grid"),
        core_unique_id="{enpower}_charge_from_grid",
        icon="mdi:transmission-tower-import",
    ),
    Feature(
        "grid_enabled",
        "Grid enabled",
        Kind.SWITCH,
        _on("enpower.mains_admin_state", "closed"),
        set=_grid_relay,
        core_unique_id="{enpower}_mains_admin_state",
        icon="mdi:transmission-tower",
    ),
    Feature(
        "dry_contact",
        "Relay",
        Kind.SWITCH,
        _contact_closed,
        scope=Scope.DRY_CONTACT,
        set=_contact,
        core_unique_id=_RELAY + "relay_status",
    ),
    Feature(
        "dry_contact_mode",
        "Mode",
        Kind.SELECT,
        item("dry_contacts", "settings.mode"),
        scope=Scope.DRY_CONTACT,
        set=_contact_setting("mode", str),
        options=_choices(DryContactMode),
        core_unique_id=_RELAY + "mode",
        **_CONFIG,
    ),
    *(
        Feature(
            f"dry_contact_{name}",
            label,
            Kind.SELECT,
            item("dry_contacts", f"settings.{name}"),
            scope=Scope.DRY_CONTACT,
            set=_contact_setting(name, str),
            options=_choices(DryContactAction),
            core_unique_id=_RELAY + core,
            **_CONFIG,
        )
        for name, label, core in (
            ("grid_action", "Grid action", "grid_action"),
            ("micro_grid_action", "Backup action", "microgrid_action"),
            ("gen_action", "Generator action", "generator_action"),
        )
    ),
    *(
        Feature(
            f"dry_contact_{name}",
            label,
            Kind.NUMBER,
            item("dry_contacts", f"settings.{name}"),
            scope=Scope.DRY_CONTACT,
            set=_contact_setting(name, int),
            exists=_has_settings,
            device_class="battery",
            core_unique_id=_RELAY + name,
            **(_PERCENT | _CONFIG),
        )
        for name, label in (("soc_low", "Cutoff battery level"), ("soc_high", "Restore level"))
    ),
    Feature(
        "generator_mode",
        "Generator mode",
        Kind.SELECT,
        lambda r, _k: at(r.snapshot, "generator.mode.mode"),
        set=_generator_mode,
        options=_choices(GenMode),
        icon="mdi:engine",
    ),
    Feature(
        "charge_from_generator",
        "Charge from generator",
        Kind.SWITCH,
        lambda r, _k: at(r.snapshot, "generator.config.charge_from_generator"),
        set=_charge_from_generator,
        **_CONFIG,
    ),
    Feature(
        "generator_exercise_start",
        "Generator exercise start",
        Kind.TIME,
        lambda r, _k: _minute(at(r.snapshot, "generator.schedule.start_minute")),
        set=_exercise_start,
        unit="min",
        core_unique_id="{serial}_generator_exercise_start_time",
        doc="minutes after local midnight; a time entity shows it as HH:MM",
        **_CONFIG,
    ),
    Feature(
        "acb_unit_sleep",
        "Sleep",
        Kind.SWITCH,
        item("acb.units", "sleep_enabled"),
        scope=Scope.ACB,
        set=_acb_sleep,
        icon="mdi:sleep",
        doc="an AC Battery asleep moves no power; on: its window, else 0 to 100 %; off: wake",
        **_CONFIG,
    ),
    Feature(
        "acb_wake",
        "Wake AC Batteries",
        Kind.BUTTON,
        lambda r, _k: None,
        set=_acb_wake,
        exists=lambda r, _k: bool(_acb_units(r)),
        core_unique_id="{serial}_acb_wake",
        **_CONFIG,
    ),
)

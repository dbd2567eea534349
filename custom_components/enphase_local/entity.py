"""The one entity class behind every platform: a feature-table instance on a coordinator.

Names, units, classes, categories, precision and whether an entity is enabled
by default all come from the `Feature`; the value comes from
`Feature.value(coordinator.readings())`. Items of a scope (a microinverter, a
battery, the system controller) get their own device, via the gateway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from enphase_local.features import FEATURES, Category, Instance, Kind, Scope, Source, instances

from .const import DOMAIN, OPT_CONTROLS
from .coordinator import EnphaseConfigEntry, EnphaseCoordinator

_CATEGORY = {Category.CONFIG: EntityCategory.CONFIG, Category.DIAGNOSTIC: EntityCategory.DIAGNOSTIC}
_SUB_DEVICES = {
    Scope.INVERTER: ("Microinverter", "IQ Microinverter"),
    Scope.BATTERY: ("Battery", "IQ Battery"),
    Scope.ACB: ("AC Battery", "AC Battery"),
    Scope.ENPOWER: ("System controller", "IQ System Controller"),
    Scope.COLLAR: ("Meter collar", "IQ Meter Collar"),
    Scope.C6: ("Combiner", "IQ Combiner 6C"),
}


def unique_id(serial: str, inst: Instance) -> str:
    """This integration's unique id: the gateway serial and the feature instance's uid."""
    return f"{serial}_{inst.uid}"


def instances_of(entry: EnphaseConfigEntry, *kinds: Kind) -> list[Instance]:
    """The instances of the given kinds this gateway has; controls only when enabled in options."""
    coordinator = entry.runtime_data
    enabled = entry.options.get(OPT_CONTROLS)
    out = []
    for inst in instances(FEATURES, coordinator.readings()):
        if inst.feature.kind not in kinds:
            continue
        if inst.feature.writable and enabled is not None and inst.feature.id not in enabled:
            continue
        out.append(inst)
    return out


PLATFORM_OF_KIND = {
    Kind.SENSOR: "sensor",
    Kind.BINARY_SENSOR: "binary_sensor",
    Kind.NUMBER: "number",
    Kind.SELECT: "select",
    Kind.SWITCH: "switch",
    Kind.BUTTON: "button",
    Kind.TIME: "time",
}
"""The Home Assistant platform of each kind of feature."""

SetupEntry = Callable[
    [HomeAssistant, EnphaseConfigEntry, AddConfigEntryEntitiesCallback], Awaitable[None]
]


def platform_setup(
    kind: Kind, make: Callable[[EnphaseCoordinator, Instance], Entity]
) -> SetupEntry:
    """A platform's ``async_setup_entry``: one entity per instance of `kind` on this gateway."""

    async def async_setup_entry(
        hass: HomeAssistant, entry: EnphaseConfigEntry, add: AddConfigEntryEntitiesCallback
    ) -> None:
        coordinator = entry.runtime_data
        add(make(coordinator, inst) for inst in instances_of(entry, kind))

    return async_setup_entry


def timestamp(value: Any) -> datetime | None:
    """Epoch seconds as the aware datetime a timestamp sensor wants."""
    if value is None:
        return None
    return datetime.fromtimestamp(float(value), tz=UTC)


class FeatureEntity(CoordinatorEntity[EnphaseCoordinator], Entity):
    """One feature instance as an entity."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: EnphaseCoordinator, inst: Instance) -> None:
        super().__init__(coordinator)
        feature = self.feature = inst.feature
        self.inst = inst
        self._attr_unique_id = unique_id(coordinator.serial, inst)
        self._attr_name = feature.name
        if inst.key and feature.scope not in _SUB_DEVICES:
            self._attr_name = f"{feature.name} {inst.key}"
        self._attr_entity_category = _CATEGORY.get(feature.category) if feature.category else None
        self._attr_entity_registry_enabled_default = feature.enabled_by_default
        self._attr_icon = feature.icon
        self._attr_device_info = self._device(coordinator)

    def _device(self, coordinator: EnphaseCoordinator) -> DeviceInfo:
        gw = coordinator.data.gateway
        sub = _SUB_DEVICES.get(self.feature.scope)
        if sub is not None and self.inst.key:
            label, model = sub
            return DeviceInfo(
                identifiers={(DOMAIN, self.inst.key)},
                name=f"{label} {self.inst.key}",
                manufacturer="Enphase Energy",
                model=model,
                serial_number=self.inst.key,
                via_device=(DOMAIN, coordinator.serial),
            )
        host = gw.host if gw.host.startswith(("http://", "https://")) else f"https://{gw.host}"
        return DeviceInfo(
            identifiers={(DOMAIN, coordinator.serial)},
            name=f"Enphase gateway {coordinator.serial}",
            manufacturer="Enphase Energy",
            model="IQ Gateway",
            model_id=gw.part_number,
            serial_number=coordinator.serial,
            sw_version=gw.firmware,
            configuration_url=host,
        )

    @property
    def feature_value(self) -> Any:
        return self.inst.value(self.coordinator.readings())

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """More about the value (an energy counter derived, where a setting was read)."""
        extra = self.feature.extra(self.coordinator.readings(), self.inst.key)
        return dict(extra) if extra else None

    @property
    def available(self) -> bool:
        """Unavailable when the gateway is unreachable, or this item left the snapshot."""
        return super().available and self.feature.present(
            self.coordinator.readings(), self.inst.key
        )

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if self.feature.source is Source.LIVE:
            self.async_on_remove(self.coordinator.async_add_live_listener(self._on_frame))

    @callback
    def _on_frame(self) -> None:
        self.async_write_ha_state()

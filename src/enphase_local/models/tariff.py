"""Battery storage settings from ``/admin/lib/tariff``.

The tariff document holds the rate plan (seasons, days, periods, prices) and,
on firmware 7 and later with batteries, ``tariff.storage_settings``: the
storage mode, the reserve kept for outages and whether the batteries may
charge from the grid. Only the storage settings are modelled.

`Tariff.raw` keeps the whole document exactly as decoded, because the only
way to change a storage setting is ``PUT /admin/lib/tariff`` with the whole
tariff sent back: every rate-plan key this library does not model must
survive untouched (see `sources.tariff.tariff_write_body`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from ._base import FlexEnum, Model

__all__ = ["StorageMode", "Tariff"]


class StorageMode(FlexEnum):
    """How the batteries are used.

    ``BACKUP`` keeps them full for outages, ``SELF_CONSUMPTION`` covers the
    house load from them, ``ECONOMY`` (called ``savings-mode`` by older
    firmware) follows the time-of-use rates. Newer firmware reports other
    modes (an AI-optimisation profile, for one): they are ``UNKNOWN`` here and
    `Tariff.storage_mode_name` keeps the gateway's own name, so they are never
    taken for one of the modes above.
    """

    BACKUP = "backup"
    SELF_CONSUMPTION = "self-consumption"
    ECONOMY = "economy"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> Self:
        if isinstance(value, str) and value.lower() == "savings-mode":
            return cls("economy")
        return super()._missing_(value)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Tariff(Model):
    """The storage settings of the tariff document.

    All storage fields are None when the document has no ``storage_settings``
    (firmware 4.x and 5.x, systems without batteries) and `storage_mode` is
    None when the gateway reports the mode as null. `storage_mode_raw` is
    the mode exactly as the gateway names it; `storage_mode_name` is what to
    show (the known mode, or the raw name of a mode this library does not
    know), and is what the JSON contract writes as ``storage_mode``.
    `opt_schedules` exists from firmware 8.2.42xx; while it is true, the
    gateway ignores local mode writes. `currency` is the ISO code (``USD``,
    ``EUR``).
    """

    _private: ClassVar[frozenset[str]] = frozenset({"raw"})

    storage_mode: StorageMode | None
    reserve_soc_percent: float | None
    very_low_soc_percent: float | None
    charge_from_grid: bool | None
    opt_schedules: bool | None
    currency: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)
    storage_mode_raw: str | None = None

    @property
    def storage_mode_name(self) -> str | None:
        """The known mode's name, or the gateway's own name for a mode we do not know."""
        mode = self.storage_mode
        if mode is None:
            return None
        if mode is StorageMode.UNKNOWN:
            return self.storage_mode_raw or mode.value
        return mode.value

    def to_dict(self) -> dict[str, Any]:
        """As `Model.to_dict`, with ``storage_mode`` never collapsed to ``"unknown"``."""
        doc = Model.to_dict(self)
        doc["storage_mode"] = self.storage_mode_name
        return doc

    @property
    def has_storage_settings(self) -> bool:
        """True when the document carries storage settings that can be written."""
        tariff = self.raw.get("tariff")
        return isinstance(tariff, dict) and isinstance(tariff.get("storage_settings"), dict)

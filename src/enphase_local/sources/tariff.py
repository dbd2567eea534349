"""``/admin/lib/tariff``: battery storage settings, and the body that changes them.

Reading: ``tariff.storage_settings`` holds ``mode``, ``reserved_soc``,
``very_low_soc``, ``charge_from_grid`` and (8.2.42xx and later)
``opt_schedules``. Firmware 4.x and 5.x have no storage settings at all.

Writing: the gateway takes ``PUT /admin/lib/tariff`` with the *whole* tariff
document and one setting changed. `tariff_write_body` builds that body from
the document as read (`Tariff.raw`): a deep copy in which only the requested
storage keys change, so the rate plan and every key this library does not
know about go back exactly as they came. It is pure and validates its
arguments with `ValueError` before any request could be made.

Beware: from firmware 8.2.4225 the gateway answers 200 to such writes and
ignores them while ``opt_schedules`` is true, and the cloud overwrites local
changes within minutes. The control layer reads back to tell whether a write
took.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from ..errors import EnvoyFeatureUnavailable
from ..firmware import Firmware
from ..models.tariff import StorageMode, Tariff
from ._json import Obj, as_obj, json_parser
from .keys import SourceKey
from .registry import Cadence, Role, Source, Speed

__all__ = ["TARIFF", "TARIFF_PATH", "parse_tariff", "tariff_write_body"]

TARIFF_PATH = "/admin/lib/tariff"

_OLD_ECONOMY = "savings-mode"


def _mode(settings: Obj) -> StorageMode | None:
    text = settings.text_or("mode")
    return None if text is None else StorageMode(text)


def _currency(tariff: Obj) -> str | None:
    """``currency`` is ``{"code": "USD"}``; a bare string is accepted too."""
    value = tariff.raw("currency")
    if isinstance(value, str):
        return value
    currency = tariff.child_or("currency")
    return None if currency is None else currency.text_or("code")


@json_parser(TARIFF_PATH)
def parse_tariff(data: Any) -> Tariff:
    """``/admin/lib/tariff`` JSON -> `Tariff`, keeping the whole document in `raw`."""
    body = as_obj(data)
    tariff = body.child("tariff")
    settings = tariff.child_or("storage_settings")
    if settings is None:
        return Tariff(
            storage_mode=None,
            reserve_soc_percent=None,
            very_low_soc_percent=None,
            charge_from_grid=None,
            opt_schedules=None,
            currency=_currency(tariff),
            raw=body.d,
        )
    return Tariff(
        storage_mode=_mode(settings),
        storage_mode_raw=settings.text_or("mode"),
        reserve_soc_percent=settings.number_or("reserved_soc"),
        very_low_soc_percent=settings.number_or("very_low_soc"),
        charge_from_grid=settings.flag_or("charge_from_grid"),
        opt_schedules=settings.flag_or("opt_schedules"),
        currency=_currency(tariff),
        raw=body.d,
    )


def _mode_text(mode: StorageMode | str, current: Any) -> str:
    """The gateway's spelling of `mode`: keep ``savings-mode`` if the document used it."""
    member = StorageMode.parse(mode)
    if member is StorageMode.UNKNOWN:
        raise ValueError(f"storage mode must be one of backup, self-consumption, economy: {mode!r}")
    if member is StorageMode.ECONOMY and current == _OLD_ECONOMY:
        return _OLD_ECONOMY
    return member.value


def _reserve_value(reserve: float, current: Any) -> float | int:
    """`reserve` validated, in the number type the document already uses."""
    if isinstance(reserve, bool) or not isinstance(reserve, int | float):
        raise ValueError(f"reserve_soc_percent must be a number, got {reserve!r}")
    if not math.isfinite(reserve) or not 0 <= reserve <= 100:
        raise ValueError(f"reserve_soc_percent must be between 0 and 100, got {reserve!r}")
    if isinstance(current, int) and not isinstance(current, bool) and float(reserve).is_integer():
        return int(reserve)
    return float(reserve)


def tariff_write_body(
    raw: Mapping[str, Any],
    *,
    mode: StorageMode | str | None = None,
    reserve_soc_percent: float | None = None,
    charge_from_grid: bool | None = None,
) -> dict[str, Any]:
    """The ``PUT /admin/lib/tariff`` body: `raw`'s tariff with only the given settings changed.

    `raw` is the document as read (`Tariff.raw`). Raises `ValueError` for an
    invalid or missing argument and `EnvoyFeatureUnavailable` when the
    document has no storage settings to change.
    """
    if mode is None and reserve_soc_percent is None and charge_from_grid is None:
        raise ValueError("give at least one of mode, reserve_soc_percent, charge_from_grid")
    if charge_from_grid is not None and not isinstance(charge_from_grid, bool):
        raise ValueError(f"charge_from_grid must be True or False, got {charge_from_grid!r}")
    tariff = raw.get("tariff")
    settings = tariff.get("storage_settings") if isinstance(tariff, dict) else None
    if not isinstance(tariff, dict) or not isinstance(settings, dict):
        raise EnvoyFeatureUnavailable(
            "this gateway's tariff has no storage settings (no batteries, or firmware before 7)"
        )
    changes: dict[str, Any] = {}
    if mode is not None:
        changes["mode"] = _mode_text(mode, settings.get("mode"))
    if reserve_soc_percent is not None:
        changes["reserved_soc"] = _reserve_value(reserve_soc_percent, settings.get("reserved_soc"))
    if charge_from_grid is not None:
        changes["charge_from_grid"] = charge_from_grid
    new_tariff = copy.deepcopy(tariff)
    new_tariff["storage_settings"].update(changes)
    return {"tariff": new_tariff}


def tariff_writes_ignored(fw: Firmware) -> bool:
    """From 8.2.4225 local writes of mode, reserve and charge-from-grid answer 200, do nothing.

    The one home of that threshold: the quirks table, the control layer and
    the docs all ask here.
    """
    return fw.at_least(8, 2, 4225)


TARIFF = Source(
    key=SourceKey.TARIFF,
    path=TARIFF_PATH,
    parse=parse_tariff,
    role=Role.OWNER,
    cadence=Cadence.CONFIG,
    speed=Speed.FAST,
    doc="battery storage mode, reserve, charge from grid (and the document kept for writes)",
)

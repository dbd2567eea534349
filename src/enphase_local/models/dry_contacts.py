"""Dry contacts of the IQ System Controller (Enpower): relay state and settings.

The controller has four load-control relays, ``NC1``, ``NC2`` (normally
closed) and ``NO1``, ``NO2`` (normally open). Their state comes from
``/ivp/ensemble/dry_contacts`` and their configuration from
``/ivp/ss/dry_contact_settings``; `DryContact` joins the two by contact id.

`DryContactSettings.raw` keeps the contact exactly as decoded because the
gateway only accepts a settings write carrying the *whole* contact: the body
builder changes one field in a copy of it and sends everything else back
untouched, including keys this library does not model (``safe_state_action``,
``pv_phase_select`` on the Meter Collar firmware, and whatever comes next).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from ._base import FlexEnum, Model

__all__ = [
    "DryContact",
    "DryContactAction",
    "DryContactMode",
    "DryContactSettings",
    "DryContactState",
    "DryContactStatus",
    "DryContactType",
]


class DryContactState(FlexEnum):
    """Whether the relay is open or closed right now."""

    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"


class DryContactType(FlexEnum):
    """What the contact drives. The gateway spells these in upper case (``3RD-PV``).

    ``NONE`` is an unconfigured contact, ``LOAD`` a load to shed, ``PV`` and
    ``3RD-PV`` a PV system (Enphase or third-party) to switch off when the
    batteries are full off-grid.
    """

    NONE = "NONE"
    PV = "PV"
    LOAD = "LOAD"
    THIRD_PARTY_PV = "3RD-PV"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> Self:
        # The base class matches lower case; these values are upper case.
        if isinstance(value, str):
            for member in cls:
                if member.value.upper() == value.upper():
                    return member
        return cls("unknown")


class DryContactAction(FlexEnum):
    """What the contact does on grid, on the micro-grid, or on generator power."""

    APPLY = "apply"
    SHED = "shed"
    SCHEDULE = "schedule"
    NONE = "none"
    UNKNOWN = "unknown"


class DryContactMode(FlexEnum):
    """How the contact is driven: by hand, or by battery state of charge thresholds.

    Only ``manual`` and ``soc`` appear in the captures we have.
    """

    MANUAL = "manual"
    SOC = "soc"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class DryContactStatus(Model):
    """One contact of ``/ivp/ensemble/dry_contacts``."""

    id: str
    status: DryContactState


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class DryContactSettings(Model):
    """One contact of ``/ivp/ss/dry_contact_settings``.

    Times are seconds after local midnight, as the gateway sends them
    (32400 is 09:00). `override` and `manual_override` arrive as the strings
    ``"true"``/``"false"``; they are booleans here, None when absent (firmware
    before 8 does not send `manual_override` for unconfigured contacts).
    `soc_low`/`soc_high` are battery state of charge thresholds in percent.
    """

    _private: ClassVar[frozenset[str]] = frozenset({"raw"})

    id: str
    type: DryContactType
    grid_action: DryContactAction
    micro_grid_action: DryContactAction
    gen_action: DryContactAction
    mode: DryContactMode
    soc_low: float | None
    soc_high: float | None
    load_name: str
    priority: int | None
    black_s_start: float | None
    essential_start_time: int | None
    essential_end_time: int | None
    override: bool | None
    manual_override: bool | None
    pv_serial_nb: tuple[str, ...]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, hash=False)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class DryContact(Model):
    """A contact's live state joined with its settings (either may be missing)."""

    id: str
    status: DryContactState
    settings: DryContactSettings | None

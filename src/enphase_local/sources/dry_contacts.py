"""Dry contacts: parsers for their state and settings, and the bodies that change them.

``/ivp/ensemble/dry_contacts`` lists the relay state of each contact and
``/ivp/ss/dry_contact_settings`` its configuration. Firmware 3.x to 5.x answer
both with ``{"error": "404 - Not Found"}`` (or ``{"err": ...}``), which the
`json_parser` decorator turns into `EnvoyParseError` with `gateway_error` set.

The body builders are pure: they validate and return the dict the control
layer will POST, and raise `ValueError` naming the broken rule before any
request could be made.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from ..models._base import FlexEnum
from ..models.dry_contacts import (
    DryContactAction,
    DryContactMode,
    DryContactSettings,
    DryContactState,
    DryContactStatus,
    DryContactType,
)
from ._json import Obj, ShapeError, as_obj, json_parser
from ._obj import _INT_MAX, _INT_MIN
from ._wire import ContactSettingsBody, ContactStatusBody, convert
from .keys import SourceKey
from .registry import MAX_DEVICES, Cadence, Role, Source, Speed

__all__ = [
    "DRY_CONTACTS",
    "DRY_CONTACT_SETTINGS",
    "SETTABLE_FIELDS",
    "dry_contact_settings_body",
    "dry_contact_state_body",
    "parse_dry_contact_settings",
    "parse_dry_contacts",
]

E = TypeVar("E", bound=FlexEnum)

STATUS_PATH = "/ivp/ensemble/dry_contacts"
SETTINGS_PATH = "/ivp/ss/dry_contact_settings"


def _text_enum(obj: Obj, key: str, cls: type[E]) -> E:
    """A FlexEnum read from a string key: absent or null is UNKNOWN, a non-string is an error."""
    return cls.parse(obj.text_or(key))


def _contacts(data: Any) -> list[Obj]:
    """The ``dry_contacts`` list as `Obj`s, refusing duplicate ids (a write would be ambiguous)."""
    items = as_obj(data).items("dry_contacts")
    contacts = [as_obj(v, f"body.dry_contacts[{i}]") for i, v in enumerate(items)]
    seen: set[str] = set()
    for contact in contacts:
        contact_id = contact.text("id")
        if contact_id in seen:
            raise ShapeError(f"{contact.where}.id: duplicate contact id {contact_id!r}")
        seen.add(contact_id)
    return contacts


def _wire_contacts(data: Any) -> dict[str, DryContactStatus] | None:
    """`parse_dry_contacts` for the ordinary body, typed by msgspec (see `sources._wire`);
    None when anything is unusual, a repeated id included, for the checked way to decide."""
    body: ContactStatusBody | None = convert(data, ContactStatusBody)
    if body is None:
        return None
    out = {
        c.id: DryContactStatus(c.id, c.status or DryContactState.UNKNOWN) for c in body.dry_contacts
    }
    return out if len(out) == len(body.dry_contacts) else None


@json_parser(STATUS_PATH)
def parse_dry_contacts(data: Any) -> dict[str, DryContactStatus]:
    """``/ivp/ensemble/dry_contacts`` -> contact id -> relay state."""
    fast = _wire_contacts(data)
    if fast is not None:
        return fast
    return {
        c.text("id"): DryContactStatus(
            id=c.text("id"), status=_text_enum(c, "status", DryContactState)
        )
        for c in _contacts(data)
    }


def _serials(contact: Obj) -> tuple[str, ...]:
    out: list[str] = []
    for i, value in enumerate(contact.items_or("pv_serial_nb")):
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            out.append(str(value))
        else:
            raise ShapeError(f"{contact.where}.pv_serial_nb[{i}]: expected a serial, got {value!r}")
    return tuple(out)


def _settings(c: Obj) -> DryContactSettings:
    return DryContactSettings(
        id=c.text("id"),
        type=_text_enum(c, "type", DryContactType),
        grid_action=_text_enum(c, "grid_action", DryContactAction),
        micro_grid_action=_text_enum(c, "micro_grid_action", DryContactAction),
        gen_action=_text_enum(c, "gen_action", DryContactAction),
        mode=_text_enum(c, "mode", DryContactMode),
        soc_low=c.number_or("soc_low"),
        soc_high=c.number_or("soc_high"),
        load_name=c.text_or("load_name", "") or "",
        priority=c.integer_or("priority"),
        black_s_start=c.number_or("black_s_start"),
        essential_start_time=c.integer_or("essential_start_time"),
        essential_end_time=c.integer_or("essential_end_time"),
        override=c.flag_or("override"),
        manual_override=c.flag_or("manual_override"),
        pv_serial_nb=_serials(c),
        raw=c.d,
    )


class _Unusual(Exception):
    """A value the typed fast path leaves to the checked readers."""


def _whole(value: float | None) -> int | None:
    """`Obj.integer_or` of a value msgspec typed as int, float or None."""
    if value is None or (type(value) is int and _INT_MIN <= value <= _INT_MAX):
        return value
    if type(value) is float and value.is_integer() and _INT_MIN <= value <= _INT_MAX:
        return int(value)
    raise _Unusual


_FLAGS: dict[object, bool | None] = {None: None, True: True, False: False}
_FLAGS |= {"true": True, "false": False}


def _flag(value: bool | str | None) -> bool | None:
    """`Obj.flag_or` of a value msgspec typed as bool, str or None."""
    key = value.lower() if isinstance(value, str) else value
    if key in _FLAGS:
        return _FLAGS[key]
    raise _Unusual


def _wire_settings(data: Any) -> dict[str, DryContactSettings] | None:
    """`parse_dry_contact_settings` for the ordinary body, typed by msgspec (see
    `sources._wire`); None when anything is unusual, for the checked way to decide."""
    body: ContactSettingsBody | None = convert(data, ContactSettingsBody)
    if body is None:
        return None
    out: dict[str, DryContactSettings] = {}
    unknown_action = DryContactAction.UNKNOWN
    try:
        for c, raw in zip(body.dry_contacts, data["dry_contacts"], strict=True):
            if c.id in out:
                return None
            out[c.id] = DryContactSettings(
                c.id,
                c.type or DryContactType.UNKNOWN,
                c.grid_action or unknown_action,
                c.micro_grid_action or unknown_action,
                c.gen_action or unknown_action,
                c.mode or DryContactMode.UNKNOWN,
                c.soc_low,
                c.soc_high,
                c.load_name or "",
                _whole(c.priority),
                c.black_s_start,
                _whole(c.essential_start_time),
                _whole(c.essential_end_time),
                _flag(c.override),
                _flag(c.manual_override),
                tuple(v if type(v) is str else str(v) for v in c.pv_serial_nb or ()),
                raw,
            )
    except _Unusual:
        return None
    return out


@json_parser(SETTINGS_PATH)
def parse_dry_contact_settings(data: Any) -> dict[str, DryContactSettings]:
    """``/ivp/ss/dry_contact_settings`` -> contact id -> settings (with the raw contact)."""
    fast = _wire_settings(data)
    if fast is not None:
        return fast
    return {c.text("id"): _settings(c) for c in _contacts(data)}


# --- write bodies ------------------------------------------------------------

_ACTIONS = tuple(m for m in DryContactAction if m is not DryContactAction.UNKNOWN)
_MODES = tuple(m for m in DryContactMode if m is not DryContactMode.UNKNOWN)
_TYPES = tuple(m for m in DryContactType if m is not DryContactType.UNKNOWN)

SETTABLE_FIELDS = frozenset(f.name for f in dataclasses.fields(DryContactSettings)) - {"id", "raw"}
"""The settings `dry_contact_settings_body` accepts (`id` and `raw` cannot change)."""

_SECONDS_PER_DAY = 86400

# What the gateway is sent as text. Real load names are short ASCII labels ("AC/Water
# heater", "Mini split/Range": 16 characters at most in the capture set); the firmware
# stores them in fixed-size fields, so anything longer, or control characters, quotes
# and markup, is refused before a byte is sent rather than truncated or mangled there.
LOAD_NAME_MAX = 32
_LOAD_NAME = re.compile(r"[A-Za-z0-9 _./&()+,'#:-]*")
_SERIAL_TEXT = re.compile(r"[A-Za-z0-9]{1,20}")
_CONTACT_ID = re.compile(r"[A-Za-z0-9_]{1,8}")


def _choice(name: str, value: object, allowed: tuple[Any, ...], upper: bool = False) -> str:
    if isinstance(value, str):
        wanted = value.upper() if upper else value.lower()
        for member in allowed:
            if member.value == wanted:
                return str(member.value)
    names = ", ".join(str(m.value) for m in allowed)
    raise ValueError(f"{name} must be one of {names}; got {value!r}")


def _number(name: str, value: object, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"{low:g} to {high:g}" if high is not None else f"at least {low:g}"
        raise ValueError(f"{name} must be {bounds}; got {value!r}")
    return float(value)


def _integer(name: str, value: object, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    _number(name, value, low, high)
    return value


def _like(existing: object, value: float) -> float | int:
    """`value` as the gateway spelled the field before: float unless it sent an int."""
    if isinstance(existing, int) and not isinstance(existing, bool) and value == int(value):
        return int(value)
    return float(value)


def _encode(name: str, value: object, raw: Mapping[str, Any]) -> Any:
    """The gateway's spelling of a validated setting."""
    if name == "type":
        return _choice(name, value, _TYPES, upper=True)
    if name in ("grid_action", "micro_grid_action", "gen_action"):
        return _choice(name, value, _ACTIONS)
    if name == "mode":
        return _choice(name, value, _MODES)
    if name in ("soc_low", "soc_high"):
        return _like(raw.get(name), _number(name, value, 0, 100))
    if name in ("override", "manual_override"):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False; got {value!r}")
        return "true" if value else "false"
    if name == "load_name":
        return _load_name(value)
    if name == "priority":
        return _like(raw.get(name, 0.0), _integer(name, value, 1))
    if name in ("essential_start_time", "essential_end_time"):
        seconds = _integer(name, value, 0, _SECONDS_PER_DAY)
        return _like(raw.get(name, 0.0), seconds)
    if name == "black_s_start":
        return _like(raw.get(name, 0.0), _number(name, value, 0))
    # pv_serial_nb: the only other settable field
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError(f"pv_serial_nb must be a list of serial numbers; got {value!r}")
    if not all(isinstance(s, str) and _SERIAL_TEXT.fullmatch(s) for s in value):
        raise ValueError(
            "pv_serial_nb must hold serial numbers (1 to 20 letters or digits each); "
            f"got {_shown(value)}"
        )
    if len(value) > MAX_DEVICES:
        raise ValueError(
            f"pv_serial_nb lists {len(value)} serials; a gateway has at most {MAX_DEVICES}"
        )
    return list(value)


def _shown(value: object) -> str:
    """A value in an error message, cut short: a 10,000-character name is not echoed whole."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}... ({len(text)} characters)"


def _load_name(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"load_name must be a string; got {_shown(value)}")
    if len(value) > LOAD_NAME_MAX:
        raise ValueError(
            f"load_name is {len(value)} characters; the gateway takes at most {LOAD_NAME_MAX}"
        )
    if not _LOAD_NAME.fullmatch(value):
        raise ValueError(
            f"load_name {_shown(value)} has characters the gateway may not store: use letters, "
            "digits, spaces and _ . / & ( ) + , ' # : -"
        )
    return value


def dry_contact_settings_body(settings: DryContactSettings, **changes: Any) -> dict[str, Any]:
    """The body of ``POST /ivp/ss/dry_contact_settings`` changing `changes` on one contact.

    Starts from a deep copy of the contact as the gateway sent it, so every
    key it holds (modelled or not) goes back unchanged. Values take the
    model's types (enum members or their strings, bools for the override
    flags, seconds after midnight for the essential times) and are written in
    the gateway's spelling (``"3RD-PV"``, ``"true"``, ``30.0``).

    Raises ValueError for an unknown field, a value outside its set or range,
    SoC thresholds outside 0..100 or with ``soc_low > soc_high``, or no change.
    """
    if not changes:
        raise ValueError("no setting to change: give at least one, e.g. load_name='Pool pump'")
    unknown = sorted(set(changes) - SETTABLE_FIELDS)
    if unknown:
        known = ", ".join(sorted(SETTABLE_FIELDS))
        raise ValueError(f"unknown dry contact setting {', '.join(unknown)}; known: {known}")
    raw = settings.raw
    contact = copy.deepcopy(dict(raw))
    contact["id"] = settings.id
    for name, value in changes.items():
        contact[name] = _encode(name, value, raw)
    low, high = contact.get("soc_low"), contact.get("soc_high")
    if (
        isinstance(low, int | float)
        and isinstance(high, int | float)
        and not isinstance(low, bool)
        and not isinstance(high, bool)
        and low > high
    ):
        raise ValueError(f"soc_low ({low:g}) must not be above soc_high ({high:g})")
    return {"dry_contacts": contact}


def dry_contact_state_body(contact_id: str, status: DryContactState | str) -> dict[str, Any]:
    """The body of ``POST /ivp/ensemble/dry_contacts`` opening or closing one contact."""
    if not isinstance(contact_id, str) or not _CONTACT_ID.fullmatch(contact_id):
        raise ValueError(f"contact id must be a short name such as 'NC1'; got {_shown(contact_id)}")
    allowed = (DryContactState.OPEN, DryContactState.CLOSED)
    return {"dry_contacts": {"id": contact_id, "status": _choice("status", status, allowed)}}


DRY_CONTACTS: Source[dict[str, DryContactStatus]] = Source(
    key=SourceKey.DRY_CONTACTS,
    path=STATUS_PATH,
    parse=parse_dry_contacts,
    role=Role.OWNER,
    cadence=Cadence.REPORT,
    speed=Speed.FAST,
    doc="relay state (open/closed) of each Enpower dry contact",
)

DRY_CONTACT_SETTINGS: Source[dict[str, DryContactSettings]] = Source(
    key=SourceKey.DRY_CONTACT_SETTINGS,
    path=SETTINGS_PATH,
    parse=parse_dry_contact_settings,
    role=Role.OWNER,
    cadence=Cadence.CONFIG,
    speed=Speed.FAST,
    doc="configuration of each Enpower dry contact (type, actions, SoC thresholds)",
)

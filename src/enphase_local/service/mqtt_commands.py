"""Commands from MQTT (Home Assistant controls) through the confirmed-write path.

A message on ``<base>/<serial>/set/<control>`` becomes one call of the
control's feature `set` (the feature table: `enphase_local.features`), which
is one `envoy.control` action. ``<control>`` is the control's component key
(`hass_entities.place`). The payload is checked here first, by the kind of
control (switch, select, number, time, button) and its declared options and
range, and the action checks it again (range, capability, known contact id)
before anything is sent, so an invalid command is *refused* with a message
and never reaches the gateway.

Every command ends in one result document on ``<base>/<serial>/result/<control>``:
the write's outcome (``confirmed``, ``pending``, ``ignored``), ``refused``
for invalid input or a control the config does not enable, ``superseded``
when a newer command replaced it before it was sent (`mqtt_queue`), ``failed``
when the gateway answered with an error; a confirmed storage setting is read
again later and reported ``reverted`` if it changed with no newer command.

`requested`, `before` and `after` are in the gateway's vocabulary, the same
type in every result of a control: the grid relay and dry contacts say
``"open"`` / ``"closed"``, charge from grid ``true`` / ``false``, the reserve a
number, the modes a string. Why: the relay's command used to carry
``true``/``false`` while its outcome said ``"open"``/``"closed"``.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..control import Control, WriteResult
from ..errors import EnvoyError, EnvoyFeatureUnavailable, EnvoyRoleError
from ..features import FEATURES, Kind, Readings, Scope
from .hass_entities import Placement
from .mqtt_payloads import PAYLOAD_SCHEMA, encode, option
from .sinks import Event

__all__ = [
    "Command",
    "CommandRefused",
    "entity_value",
    "find_control",
    "parse_command",
    "result_doc",
    "run_command",
    "write_event",
]

_ON = {"on", "true", "1", "yes"}
_OFF = {"off", "false", "0", "no"}
STORAGE_CONTROLS = frozenset({"storage_mode", "reserve_soc", "charge_from_grid"})
"""Controls re-read `verify_after_s` after a confirmed write (`mqtt_queue`)."""


class CommandRefused(ValueError):
    """An MQTT command that is not valid: nothing is sent, the message says why."""


@dataclass(frozen=True, slots=True)
class Command:
    """One parsed command: which control, the value, and the action that performs it."""

    control: str
    value: Any
    call: Callable[[Control], Awaitable[WriteResult]]


def _switch(payload: str, control: str) -> bool:
    word = payload.strip().lower()
    if word in _ON:
        return True
    if word in _OFF:
        return False
    raise CommandRefused(f"{control} takes ON or OFF; got {payload[:40]!r}")


def _choice(payload: str, control: str, options: tuple[str, ...]) -> str:
    word = payload.strip().lower()
    word = {option(o).lower(): o for o in options}.get(word, word)  # "(none)" is "none"
    if word not in options:
        raise CommandRefused(f"{control} must be one of {', '.join(options)}; got {payload[:40]!r}")
    return word


def _number(payload: str, control: str, place: Placement) -> float:
    feature = place.feature
    low = feature.minimum if feature.minimum is not None else -math.inf
    high = feature.maximum if feature.maximum is not None else math.inf
    unit = f" {feature.unit}" if feature.unit else ""
    try:
        value = float(payload.strip())
    except ValueError:
        raise CommandRefused(f"{control} takes a number{unit}; got {payload[:40]!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise CommandRefused(
            f"{control} must be between {low:g} and {high:g}{unit}; got {payload[:40]!r}"
        )
    return value


def _minutes(payload: str, control: str) -> int:
    found = re.fullmatch(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*", payload)
    if found is None:
        raise CommandRefused(f"{control} takes a time as HH:MM; got {payload[:40]!r}")
    return int(found[1]) * 60 + int(found[2])


def _value(place: Placement, control: str, payload: str) -> Any:
    match place.feature.kind:
        case Kind.SWITCH:
            return _switch(payload, control)
        case Kind.SELECT:
            return _choice(payload, control, place.feature.options)
        case Kind.NUMBER:
            return _number(payload, control, place)
        case Kind.TIME:
            return _minutes(payload, control)
        case Kind.BUTTON:
            return True
    raise CommandRefused(f"{control} is a reading, not a control")


def find_control(places: Mapping[str, Placement], control: str) -> Placement:
    """The control a command names among a gateway's entities, or a refusal saying why not.

    Checked before the queue: made-up names must not each get a queue slot.
    """
    found = places.get(control)
    if found is not None and found.feature.writable:
        return found
    for feature in FEATURES:
        if not feature.writable:
            continue
        if control == feature.id:
            raise CommandRefused(f"this gateway has no {feature.name.lower()} ({control})")
        if feature.scope is not Scope.SITE and control.startswith(f"{feature.id}_"):
            item = control.removeprefix(f"{feature.id}_")
            what = feature.scope.value.replace("_", " ")
            raise CommandRefused(f"unknown {what} {item[:20]!r} on this gateway")
    known = ", ".join(k for k, p in places.items() if p.feature.writable)
    raise CommandRefused(f"unknown control {control[:60]!r}; this gateway's: {known}")


def parse_command(place: Placement, raw: bytes, readings: Readings) -> Command:
    """Turn a command's payload into a `Command` for the control at `place`, or refuse it.

    The call is the feature's own `set` with the readings the command was checked
    against (a setter may need them, e.g. which AC Batteries to wake).
    """
    control = place.component
    try:
        payload = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandRefused(f"{control}: the payload is not UTF-8 text") from None
    value = _value(place, control, payload)
    setter = place.feature.set
    if setter is None:
        raise CommandRefused(f"{control} is a reading, not a control")
    key = place.inst.key
    return Command(control, value, lambda c: setter(c, key, value, readings))


def result_doc(
    control: str,
    outcome: str,
    message: str,
    *,
    requested: Any = None,
    result: WriteResult | None = None,
    at: float | None = None,
) -> dict[str, Any]:
    """The document published on the result topic (docs/mqtt.md, schema 1)."""
    return {
        "schema": PAYLOAD_SCHEMA,
        "control": control,
        "outcome": outcome,
        "message": message,
        "requested": result.requested if result is not None else requested,
        "before": result.before if result is not None else None,
        "after": result.after if result is not None else None,
        "at": time.time() if at is None else at,
    }


async def run_command(
    control: Control, command: Command
) -> tuple[dict[str, Any], WriteResult | None]:
    """Perform one command; never raises for the gateway's or the user's mistakes."""
    try:
        result = await command.call(control)
    except (ValueError, EnvoyFeatureUnavailable, EnvoyRoleError) as err:  # nothing sent
        return result_doc(command.control, "refused", str(err), requested=command.value), None
    except EnvoyError as err:
        return result_doc(command.control, "failed", str(err), requested=command.value), None
    doc = result_doc(command.control, result.outcome.value, result.message, result=result)
    return doc, result


def write_event(serial: str, control: str, doc: Mapping[str, Any]) -> Event:
    """A command's result as the history keeps it: a ``write`` event (refusals included)."""
    outcome = str(doc.get("outcome", "unknown"))
    detail = {k: v for k, v in doc.items() if isinstance(v, str | int | float | bool)}
    return Event(
        at=time.time(),
        serial=serial,
        kind="write",
        message=f"{control}: {outcome}",
        detail={"control": control, **detail},
    )


def entity_value(kind: Kind, after: Any) -> Any:
    """A value read back, as the control document (and its Home Assistant entity) says it."""
    return encode(kind, after)

"""Commands from MQTT (Home Assistant controls) through the confirmed-write path.

A message on ``<base>/<serial>/set/<control>`` becomes one `envoy.control`
action. The payload is checked here first, and the action checks it again
(range, capability, known contact id) before anything is sent, so an invalid
command is *refused* with a message and never reaches the gateway.

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
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..control import Control, WriteResult
from ..errors import EnvoyError, EnvoyFeatureUnavailable
from .mqtt_payloads import PAYLOAD_SCHEMA
from .sinks import Event

__all__ = [
    "Command",
    "CommandRefused",
    "entity_value",
    "parse_command",
    "result_doc",
    "run_command",
    "write_event",
]

_ON = {"on", "true", "1", "yes"}
_OFF = {"off", "false", "0", "no"}
STORAGE_CONTROLS = frozenset({"storage_mode", "reserve_soc", "charge_from_grid"})


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
    if word not in options:
        raise CommandRefused(f"{control} must be one of {', '.join(options)}; got {payload[:40]!r}")
    return word


def _percent(payload: str, control: str) -> float:
    try:
        value = float(payload.strip())
    except ValueError:
        raise CommandRefused(f"{control} takes a number of percent; got {payload[:40]!r}") from None
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise CommandRefused(f"{control} must be between 0 and 100 percent; got {payload[:40]!r}")
    return value


def parse_command(control: str, raw: bytes) -> Command:
    """Turn a command topic's last part and its payload into a `Command`, or refuse it."""
    try:
        payload = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandRefused(f"{control}: the payload is not UTF-8 text") from None
    if control == "storage_mode":
        mode = _choice(payload, control, ("backup", "self-consumption", "economy"))
        return Command(control, mode, lambda c: c.set_storage_mode(mode))
    if control == "reserve_soc":
        pct = _percent(payload, control)
        return Command(control, pct, lambda c: c.set_reserve_soc(pct))
    if control == "charge_from_grid":
        on = _switch(payload, control)
        return Command(control, on, lambda c: c.set_charge_from_grid(on))
    if control == "grid_relay":
        relay = "closed" if _switch(payload, control) else "open"  # closed = on grid
        return Command(
            control, relay, lambda c: c.go_on_grid() if relay == "closed" else c.go_off_grid()
        )
    if control.startswith("dry_contact_") and len(control) > len("dry_contact_"):
        cid = control.removeprefix("dry_contact_")
        state = "closed" if _switch(payload, control) else "open"
        return Command(control, state, lambda c: c.set_dry_contact(cid, state))
    if control == "generator_mode":
        gen = _choice(payload, control, ("off", "on", "auto"))
        return Command(control, gen, lambda c: c.set_generator_mode(gen))
    raise CommandRefused(
        f"unknown control {control[:60]!r}; known: storage_mode, reserve_soc, charge_from_grid, "
        "grid_relay, dry_contact_<id>, generator_mode"
    )


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
    except (ValueError, EnvoyFeatureUnavailable) as err:
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


def entity_value(control: str, after: Any) -> Any:
    """A value read back, as the control document (and its Home Assistant entity) says it."""
    if control == "grid_relay" or control.startswith("dry_contact_"):
        return "ON" if after == "closed" else "OFF"
    if control == "charge_from_grid":
        return "ON" if after else "OFF"
    return after

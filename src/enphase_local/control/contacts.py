"""Dry contacts of the IQ System Controller: open/close one, change its settings.

Opening or closing: ``POST /ivp/ensemble/dry_contacts`` with one contact's id
and status, then ``/ivp/ensemble/dry_contacts`` is polled for about 90 s,
because contacts may read ``open`` for 5 to 90 s after a settings change.

Settings: ``POST /ivp/ss/dry_contact_settings`` with the *whole* contact as
read, the requested fields changed (`sources.dry_contacts.
dry_contact_settings_body` keeps every key we do not model), then the
settings are read back and the changed fields compared in the gateway's own
spelling.

Contact ids are checked against a fresh read before anything is sent; they
are matched without regard to case (``nc1`` is ``NC1``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..capabilities import Capability
from ..models.dry_contacts import DryContactSettings, DryContactState, DryContactStatus
from ..sources.dry_contacts import (
    SETTABLE_FIELDS,
    SETTINGS_PATH,
    STATUS_PATH,
    dry_contact_settings_body,
    dry_contact_state_body,
)
from ..sources.table import DRY_CONTACT_SETTINGS, DRY_CONTACTS
from ._core import ControlCore, Poll
from .result import Check, Outcome, WriteRequest, WriteResult

__all__ = ["CONTACT_POLL", "CONTACT_SETTINGS_POLL", "ContactActions"]

CONTACT_POLL = Poll(timeout_s=90.0, interval_s=5.0, first_s=2.0)
"""Contacts may read "open" for 5 to 90 s after a settings write."""

CONTACT_SETTINGS_POLL = Poll(timeout_s=10.0, interval_s=3.0, first_s=1.0)

_SETTLING = "contacts may read open for 5 to 90 s after a settings change"


def _known_id(contact_id: str, known: Iterable[str]) -> str:
    """The gateway's spelling of `contact_id`, or a ValueError listing the known ids."""
    ids = list(known)
    for candidate in ids:
        if candidate.upper() == contact_id.upper():
            return candidate
    listed = ", ".join(ids) if ids else "none"
    raise ValueError(f"unknown dry contact {contact_id!r}; this gateway has: {listed}")


def _status_of(contact_id: str) -> Callable[[Mapping[str, DryContactStatus]], str | None]:
    def extract(statuses: Mapping[str, DryContactStatus]) -> str | None:
        found = statuses.get(contact_id)
        return None if found is None else found.status.value

    return extract


def _fields_of(
    contact_id: str, names: tuple[str, ...]
) -> Callable[[Mapping[str, DryContactSettings]], dict[str, Any] | None]:
    def extract(settings: Mapping[str, DryContactSettings]) -> dict[str, Any] | None:
        found = settings.get(contact_id)
        return None if found is None else {n: found.raw.get(n) for n in names}

    return extract


class ContactActions(ControlCore):
    """Dry contact state and settings."""

    async def set_dry_contact(
        self,
        contact_id: str,
        state: DryContactState | str,
        *,
        dry_run: bool = False,
        timeout_s: float | None = None,
    ) -> WriteResult:
        """Open or close one dry contact (``"open"`` / ``"closed"``)."""
        wanted = dry_contact_state_body(contact_id, state)["dry_contacts"]["status"]
        self._require(
            Capability.DRY_CONTACTS, f"{'open' if wanted == 'open' else 'close'} a dry contact"
        )
        poll = CONTACT_POLL.with_timeout(timeout_s)
        statuses: dict[str, DryContactStatus] = await self._read(DRY_CONTACTS)
        cid = _known_id(contact_id, statuses)
        check = Check(DRY_CONTACTS, _status_of(cid), f"dry contact {cid}")
        return await self.write(
            action="set_dry_contact",
            request=WriteRequest("POST", STATUS_PATH, dry_contact_state_body(cid, wanted)),
            check=check,
            requested=wanted,
            before=check.extract(statuses),
            poll=poll,
            dry_run=dry_run,
            notes={Outcome.PENDING: f"Check again later: {_SETTLING}"},
        )

    async def configure_dry_contact(
        self,
        contact_id: str,
        *,
        dry_run: bool = False,
        timeout_s: float | None = None,
        **changes: Any,
    ) -> WriteResult:
        """Change settings of one contact, e.g. ``configure_dry_contact("NC1", soc_low=20)``.

        Field names and values are those of `DryContactSettings` (see
        `sources.dry_contacts.SETTABLE_FIELDS`). `requested`, `before` and
        `after` of the result hold the changed fields in the gateway's spelling.
        """
        if not isinstance(contact_id, str) or not contact_id:
            raise ValueError(
                f"contact id must be a non-empty string such as 'NC1'; got {contact_id!r}"
            )
        if not changes:
            raise ValueError("no setting to change: give at least one, e.g. soc_low=20")
        unknown = sorted(set(changes) - SETTABLE_FIELDS)
        if unknown:
            known = ", ".join(sorted(SETTABLE_FIELDS))
            raise ValueError(f"unknown dry contact setting {', '.join(unknown)}; known: {known}")
        self._require(Capability.DRY_CONTACTS, "configure a dry contact")
        poll = CONTACT_SETTINGS_POLL.with_timeout(timeout_s)
        all_settings: dict[str, DryContactSettings] = await self._read(DRY_CONTACT_SETTINGS)
        cid = _known_id(contact_id, all_settings)
        body = dry_contact_settings_body(all_settings[cid], **changes)  # ValueError on bad values
        names = tuple(changes)
        check = Check(DRY_CONTACT_SETTINGS, _fields_of(cid, names), f"dry contact {cid} settings")
        return await self.write(
            action="configure_dry_contact",
            request=WriteRequest("POST", SETTINGS_PATH, body),
            check=check,
            requested={n: body["dry_contacts"][n] for n in names},
            before=check.extract(all_settings),
            poll=poll,
            dry_run=dry_run,
            notes={Outcome.CONFIRMED: f"Note: {_SETTLING}"},
        )

"""What a write action returns: the request, and whether the gateway really did it.

A 200 from the gateway does not mean a setting took: firmware 8.2.4225 and
later answers 200 to storage writes and ignores them, the grid relay takes 8
to 28 s to move, and the cloud may put a storage mode back a minute later.
So every action reads the value back and says which of these happened, as a
typed, frozen `WriteResult` rather than a raw dict.

Outcomes:

- ``confirmed``: the value read back is the one requested.
- ``pending``: the gateway accepted the write but the value was not visible
  when the poll time ran out (or reading it back failed); read again later.
- ``ignored``: accepted, yet the value stayed what it was before.
- ``reverted``: (from `Control.verify_later` only) it was confirmed, then
  changed back, typically the Enphase cloud overwriting a local setting.
- ``dry-run``: nothing was sent; `request` shows what would have been.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from ..models._base import Model
from ..sources.registry import Source

__all__ = ["Check", "Outcome", "WriteRequest", "WriteResult"]

T = TypeVar("T")


class Outcome(enum.StrEnum):
    """Whether a write took (see the module docstring)."""

    CONFIRMED = "confirmed"
    PENDING = "pending"
    IGNORED = "ignored"
    REVERTED = "reverted"
    DRY_RUN = "dry-run"

    @property
    def ok(self) -> bool:
        """True when the gateway holds the requested value (or nothing was meant to be sent)."""
        return self in (Outcome.CONFIRMED, Outcome.DRY_RUN)


@dataclass(frozen=True, slots=True)
class WriteRequest(Model):
    """One write as sent (or, for a dry run, as it would be sent): method, path, JSON body."""

    method: str
    path: str
    body: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Check(Generic[T]):
    """How to read a written value back: a typed source and the function picking the value.

    Kept in the result (not in its JSON) so `Control.verify_later` can re-read
    any result without knowing which action produced it. `extract` takes
    what the source's parser returns (mypy checks the pair agrees).
    """

    source: Source[T]
    extract: Callable[[T], Any]
    label: str = "value"
    reverted_note: str = ""

    @property
    def key(self) -> str:
        """The source's registry key (``"tariff"``), as logs name it."""
        return self.source.key


@dataclass(frozen=True, slots=True)
class WriteResult(Model):
    """The result of one write action.

    `before`, `after` and `requested` are plain JSON values in the gateway's
    vocabulary (``"economy"``, ``30.0``, ``"open"``, or a small dict for
    multi-field writes), so they compare and serialise directly. `after` is
    None when nothing could be read back (dry run, or reads failing).
    `elapsed_s` runs from sending the write to the last read-back; `sent_at`
    is the epoch second the write was sent (None for a dry run).
    """

    _private: ClassVar[frozenset[str]] = frozenset({"check"})

    action: str
    outcome: Outcome
    requested: Any
    before: Any
    after: Any
    message: str
    elapsed_s: float
    request: WriteRequest
    sent_at: float | None = None
    check: Check[Any] | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when confirmed (or a dry run)."""
        return self.outcome.ok

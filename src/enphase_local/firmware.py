"""Firmware versions: parse ``D8.2.4345`` / ``R3.9.36`` and compare numerically.

Why numeric: string comparison puts ``8.10`` before ``8.9``. The leading
letter (D, R, M...) names the build family and is kept for display only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import total_ordering

__all__ = ["Firmware"]

_VERSION = re.compile(r"^\s*([A-Za-z]?)\s*(\d+(?:\.\d+)*)")


@total_ordering
@dataclass(frozen=True, slots=True)
class Firmware:
    """A gateway firmware version.

    `parts` is empty when the text had no version number in it; such a
    firmware compares lower than any real one.
    """

    raw: str
    letter: str = ""
    parts: tuple[int, ...] = field(default=())

    @classmethod
    def parse(cls, text: str) -> Firmware:
        """Parse ``D8.2.4345``, ``R3.9.36``, ``8.2.4345`` or ``08.03.5167``."""
        match = _VERSION.match(text or "")
        if not match:
            return cls(raw=text or "", letter="", parts=())
        letter, numbers = match.groups()
        return cls(
            raw=text.strip(), letter=letter.upper(), parts=tuple(int(p) for p in numbers.split("."))
        )

    @property
    def known(self) -> bool:
        """True when a version number could be read."""
        return bool(self.parts)

    @property
    def version(self) -> str:
        """The dotted version without the letter, e.g. ``8.2.4345``."""
        return ".".join(str(p) for p in self.parts)

    def at_least(self, *parts: int) -> bool:
        """``fw.at_least(7, 6)`` is True for 7.6.0 and later."""
        return self.parts >= parts

    def before(self, *parts: int) -> bool:
        """``fw.before(7)`` is True for any 6.x and earlier."""
        return self.known and self.parts < parts

    @property
    def uses_tokens(self) -> bool:
        """Firmware 7 and later wants token auth over HTTPS."""
        return self.at_least(7)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Firmware):
            return NotImplemented
        return self.parts < other.parts

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Firmware):
            return NotImplemented
        return self.parts == other.parts

    def __hash__(self) -> int:
        return hash(self.parts)

    def __str__(self) -> str:
        return self.raw

"""Shared machinery of the models: plain-JSON conversion and tolerant enums.

Every model is a frozen, slotted dataclass deriving from `Model`, so that
`to_dict()` gives only plain JSON types (dict, list, str, int, float, bool,
None) and the CLI, Home Assistant and MQTT bridges can serialise it as is.

`FlexEnum` maps values a newer firmware invents to ``UNKNOWN`` instead of
raising: the gateway's vocabulary grows without notice.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any, ClassVar, Self, cast

__all__ = ["FlexEnum", "Model", "to_plain"]


def to_plain(value: Any) -> Any:
    """Convert models, enums, tuples and mappings into plain JSON types."""
    if value is None or isinstance(value, str | int | float | bool):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, enum.Enum):
        return to_plain(value.value)
    if isinstance(value, Mapping):
        return {str(to_plain(k)): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")


class Model:
    """Base of every model: a frozen slotted dataclass with `to_dict()`.

    Fields listed in a subclass's `_private` are left out of `to_dict()`
    (for instance the raw tariff document, which is kept for writes only).
    """

    __slots__ = ()
    _private: ClassVar[frozenset[str]] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        """The model as plain JSON types, units in the key names."""
        skip = self._private
        return {
            f.name: to_plain(getattr(self, f.name))
            for f in dataclasses.fields(cast(Any, self))
            if f.name not in skip
        }


class FlexEnum(enum.StrEnum):
    """A string enum whose unknown values become ``UNKNOWN`` rather than an error.

    Subclasses must define ``UNKNOWN = "unknown"``.
    """

    @classmethod
    def _missing_(cls, value: object) -> Self:
        if isinstance(value, str):
            lowered = value.lower()
            for member in cls:
                if member.value == lowered:
                    return member
        return cls("unknown")

    @classmethod
    def parse(cls, value: object) -> Self:
        """The member for `value`, or ``UNKNOWN`` for anything unrecognised (including None)."""
        if isinstance(value, str):
            return cls(value)
        return cls("unknown")

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
import operator
from collections.abc import Callable, Mapping
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

    Every frozen slotted subclass gets a faster ``__init__`` (see
    `_fast_init`): parsers build thousands of these per update.
    """

    __slots__ = ()
    _private: ClassVar[frozenset[str]] = frozenset()
    # Per class, set by __init_subclass__: the fields equality, hashing and repr use.
    _eq_key: ClassVar[Callable[[Any], tuple[Any, ...]]]
    _hash_key: ClassVar[Callable[[Any], tuple[Any, ...]]]
    _repr_names: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # `@dataclass(slots=True)` builds the final class anew from the processed
        # one: that second class is the one with both __slots__ and fields of its own.
        if "__slots__" in cls.__dict__ and "__dataclass_fields__" in cls.__dict__:
            _install_on_first_use(cls)
            fields = dataclasses.fields(cast(Any, cls))
            cls._eq_key = _getter([f.name for f in fields if f.compare])
            cls._hash_key = _getter(
                [f.name for f in fields if (f.compare if f.hash is None else f.hash)]
            )
            cls._repr_names = tuple(f.name for f in fields if f.repr)

    # Models are declared ``@dataclass(frozen=True, slots=True, eq=False, repr=False)``
    # and get these three from here: the same results as the methods dataclasses
    # writes (equal when the class and the compared fields are equal, the hash of
    # the hashed fields' tuple, ``Name(field=value, ...)``), without compiling
    # three functions per class at import (a third of the models' import time).

    def __eq__(self, other: object) -> bool:
        cls = self.__class__
        if other.__class__ is cls:
            key = cls._eq_key  # through the class: a lambda would bind to the instance
            return bool(key(self) == key(other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.__class__._hash_key(self))

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._repr_names)
        return f"{self.__class__.__qualname__}({values})"

    def to_dict(self) -> dict[str, Any]:
        """The model as plain JSON types, units in the key names."""
        skip = self._private
        return {
            f.name: to_plain(getattr(self, f.name))
            for f in dataclasses.fields(cast(Any, self))
            if f.name not in skip
        }


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of the attributes `names` of an object (attrgetter, which gives a bare
    value for a single name, is wrapped so that every key is a tuple as dataclasses'.)"""
    if len(names) >= 2:
        return operator.attrgetter(*names)
    if names:
        one = operator.attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


_FAST_INIT = """\
def __init__(self, {params}):
    _osa(self, "__class__", _Twin)
{body}    self.__class__ = _Cls
"""


def _install_on_first_use(cls: type) -> None:
    """Swap in `_fast_init` at the class's first construction, not at import.

    Compiling it costs about 0.15 ms a class: paid only for the models a
    process builds (a site without batteries never builds most ensemble models).
    """
    stock = cls.__dict__["__init__"]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init = _fast_init(cls) or stock
        type.__setattr__(cls, "__init__", init)
        init(self, *args, **kwargs)

    __init__.__qualname__ = stock.__qualname__
    __init__.__wrapped__ = stock  # type: ignore[attr-defined]  # inspect.signature follows it
    type.__setattr__(cls, "__init__", __init__)


def _fast_init(cls: type) -> Callable[..., None] | None:
    """Give a frozen slotted dataclass an ``__init__`` that costs what a mutable one does.

    The ``__init__`` that `dataclasses` writes for a frozen class sets each
    field through ``object.__setattr__(self, name, value)``, a call per field:
    it made up 19 to 57 % of parse time (a 19-field `InverterDetail` takes
    2.4 us that way, 1.15 us with this one). This one turns the
    new instance into a mutable twin class of the same slot layout, stores the
    fields with plain attribute stores, and turns it back, so the object is
    frozen again before anyone sees it: assignment still raises
    `FrozenInstanceError`, and ``dataclasses.replace``, ``fields``, equality,
    hashing and pickling are those of the dataclass. Classes using a feature
    this does not reproduce (``__post_init__``, ``InitVar``, ``init=False``,
    ``kw_only``) keep the dataclass ``__init__``.
    """
    params = getattr(cls, "__dataclass_params__", None)
    fields: dict[str, dataclasses.Field[Any]] = getattr(cls, "__dataclass_fields__", {})
    if params is None or not params.frozen or hasattr(cls, "__post_init__"):
        return None
    own = dataclasses.fields(cls)  # instance fields in __init__ order, ClassVars left out
    init_var = getattr(dataclasses, "_FIELD_INITVAR", None)
    if any(f._field_type is init_var for f in fields.values()):  # type: ignore[attr-defined]
        return None
    if any(not f.init or f.kw_only for f in own):
        return None
    # Both hooks reset to object's, or a frozen base class's __delattr__ alone would
    # keep Python-level attribute setting (they share one C slot).
    twin = type(f"_{cls.__name__}Init", cls.__bases__, {
        "__slots__": cls.__dict__["__slots__"],
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
    })  # fmt: skip
    names: dict[str, Any] = {"_osa": object.__setattr__, "_Twin": twin, "_Cls": cls}
    params_src, body = [], []
    for i, f in enumerate(own):
        if f.default is not dataclasses.MISSING:
            names[f"_d{i}"] = f.default
            params_src.append(f"{f.name}=_d{i}")
            body.append(f"    self.{f.name} = {f.name}\n")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_f{i}"] = f.default_factory
            params_src.append(f"{f.name}=_MISSING")
            body.append(f"    self.{f.name} = _f{i}() if {f.name} is _MISSING else {f.name}\n")
        else:
            params_src.append(f.name)
            body.append(f"    self.{f.name} = {f.name}\n")
    names["_MISSING"] = dataclasses.MISSING
    code = _FAST_INIT.format(params=", ".join(params_src), body="".join(body))
    exec(code, names)  # the source is built above from field names only
    init: Callable[..., None] = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


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
            # The exact value straight from enum's own value index (a quarter of the
            # cost of calling the class, which parsers do for every device they read).
            member: Self | None = cls._value2member_map_.get(value)  # type: ignore[assignment]
            return member if member is not None else cls(value)
        return cls("unknown")

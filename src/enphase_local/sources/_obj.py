"""`Obj`: a decoded JSON object read through typed getters that name the failing field.

Why its own module: the decoding contract (`sources._json`) decides what a
body is and how a failure is worded; this decides how a parser reads fields
out of what was decoded. Getters are deliberately lenient about extra keys
and strict about the type of every key they read, and raise `ShapeError`
(``meters[1].activePower: expected a number, got 'abc'``), which the parser
decorators turn into `EnvoyParseError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

__all__ = [
    "NUMBER_TYPES",
    "Obj",
    "ShapeError",
    "as_list",
    "as_obj",
    "devices_by_group",
    "plain_numbers",
]


class ShapeError(ValueError):
    """A field is missing or of the wrong type. Internal: surfaces as EnvoyParseError."""


def _kind(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 30 else text[:27] + "..."


def as_list(value: Any, where: str = "body") -> list[Any]:
    """`value` if it is a JSON array, else `ShapeError`."""
    if not isinstance(value, list):
        raise ShapeError(f"{where}: expected a list, got {_kind(value)}")
    return value


def as_obj(value: Any, where: str = "body") -> Obj:
    """`value` wrapped as `Obj` if it is a JSON object, else `ShapeError`."""
    if not isinstance(value, dict):
        raise ShapeError(f"{where}: expected an object, got {_kind(value)}")
    return Obj(value, where)


def devices_by_group(
    data: Any, readers: Mapping[str, Callable[[Obj], Any]]
) -> dict[str, list[Any]]:
    """Read ``[{"type": KIND, "devices": [...]}, ...]`` bodies: KIND -> devices read by `readers`.

    The inventory endpoints list device groups this way; groups of a kind we do
    not read are skipped (newer firmware adds kinds), each device of a kind we
    read goes through its reader.
    """
    out: dict[str, list[Any]] = {kind: [] for kind in readers}
    for i, raw in enumerate(as_list(data)):
        group = as_obj(raw, f"body[{i}]")
        kind = group.text("type").upper()
        devices = group.objs("devices")
        reader = readers.get(kind)
        if reader is not None:
            out[kind].extend(reader(d) for d in devices)
    return out


class Obj:
    """A JSON object with typed getters that name the failing field.

    ``number``/``integer``/``text``/``flag`` require the key; the ``*_or``
    variants return the default when the key is absent or null. A present
    value of the wrong type is always an error.
    """

    __slots__ = ("_key", "_parent", "_where", "d")

    def __init__(
        self,
        d: dict[str, Any],
        where: str = "body",
        parent: Obj | None = None,
        key: str | tuple[str, int] = "",
    ) -> None:
        # The path is only needed in an error message: keep the pieces and build it
        # then, rather than formatting a string for every object of every body.
        self.d = d
        self._where = where
        self._parent = parent
        self._key = key

    @property
    def where(self) -> str:
        """Where this object sits in the body, e.g. ``body.devices[2].lastReading``."""
        if self._parent is None:
            return self._where
        key = self._key
        step = f"{key[0]}[{key[1]}]" if isinstance(key, tuple) else key
        return f"{self._parent.where}.{step}"

    def __contains__(self, key: str) -> bool:
        return key in self.d

    def _fail(self, key: str, expected: str, value: Any) -> ShapeError:
        if value is _ABSENT:
            return ShapeError(f"{self.where}.{key}: missing")
        return ShapeError(f"{self.where}.{key}: expected {expected}, got {_kind(value)}")

    def raw(self, key: str, default: Any = None) -> Any:
        """The value as decoded, unchecked."""
        return self.d.get(key, default)

    # numbers ---------------------------------------------------------------
    def number(self, key: str) -> float:
        value = self.d.get(key, _ABSENT)
        kind = type(value)  # exact types: fast, and a bool is not a number here
        if kind is float:
            return value  # type: ignore[no-any-return]
        if kind is int:
            return float(value)
        raise self._fail(key, "a number", value)

    def numbers(self, keys: Sequence[str]) -> list[float]:
        """`number` of each key, in order: one call for a model's many numeric fields.

        A loop here costs about half a method call per field; the error is the
        one `number` gives.
        """
        return _numbers(self.d, keys, self)

    def numbers_or(self, keys: Sequence[str]) -> list[float | None]:
        """`number_or` of each key (None when absent or null), in order; see `numbers`."""
        out: list[float | None] = []
        get = self.d.get
        for key in keys:
            value = get(key)
            kind = type(value)
            if kind is float or value is None:
                out.append(value)
            elif kind is int:
                out.append(float(value))
            else:
                raise self._fail(key, "a number", value)
        return out

    def numbers_in(self, key: str, keys: Sequence[str]) -> list[float]:
        """`child(key).numbers(keys)` without building the child unless something is wrong."""
        value = self.d.get(key)
        if type(value) is dict:
            return _numbers(value, keys, None) or self.child(key).numbers(keys)
        return self.child(key).numbers(keys)

    def number_or(self, key: str, default: float | None = None) -> float | None:
        value = self.d.get(key)
        if value is None:
            return default
        kind = type(value)
        if kind is float:
            return value  # type: ignore[no-any-return]
        if kind is int:
            return float(value)
        raise self._fail(key, "a number", value)

    def integer(self, key: str) -> int:
        """A 64-bit integer (a float with no fraction is accepted, as some firmware sends)."""
        value = self.d.get(key, _ABSENT)
        if type(value) is int and _INT_MIN <= value <= _INT_MAX:  # the usual case first
            return value
        if isinstance(value, int) and not isinstance(value, bool) and _INT_MIN <= value <= _INT_MAX:
            return value
        if isinstance(value, float) and value.is_integer() and _INT_MIN <= value <= _INT_MAX:
            return int(value)
        raise self._fail(key, "an integer", value)

    def integer_or(self, key: str, default: int | None = None) -> int | None:
        value = self.d.get(key)
        if value is None:
            return default
        if type(value) is int and _INT_MIN <= value <= _INT_MAX:
            return value
        return self.integer(key)

    def epoch(self, key: str) -> int:
        """Epoch seconds; some firmware sends them as numeric strings (inventory.json)."""
        value = self.d.get(key, _ABSENT)
        if type(value) is int:  # the usual case first
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
        raise self._fail(key, "epoch seconds", value)

    def epoch_or(self, key: str, default: int | None = None) -> int | None:
        value = self.d.get(key)
        if value is None:
            return default
        if type(value) is int:
            return value
        return self.epoch(key)

    # text and flags ----------------------------------------------------------
    def text(self, key: str) -> str:
        value = self.d.get(key, _ABSENT)
        if isinstance(value, str):
            return value
        raise self._fail(key, "a string", value)

    def text_or(self, key: str, default: str | None = None) -> str | None:
        value = self.d.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            return value
        raise self._fail(key, "a string", value)

    def flag(self, key: str) -> bool:
        """A boolean; also accepts 0/1 and "true"/"false", which some firmware sends."""
        value = self.d.get(key, _ABSENT)
        if value is True or value is False:  # the usual case first
            return value
        result = _to_bool(value)
        if result is None:
            raise self._fail(key, "a boolean", value)
        return result

    def flag_or(self, key: str, default: bool | None = None) -> bool | None:
        value = self.d.get(key)
        if value is None:
            return default
        if value is True or value is False:
            return value
        return self.flag(key)

    # nested ------------------------------------------------------------------
    def child(self, key: str) -> Obj:
        value = self.d.get(key, _ABSENT)
        if isinstance(value, dict):
            return Obj(value, "", self, key)
        raise self._fail(key, "an object", value)

    def child_or(self, key: str) -> Obj | None:
        value = self.d.get(key)
        if value is None:
            return None
        if isinstance(value, dict):
            return Obj(value, "", self, key)
        raise self._fail(key, "an object", value)

    def items(self, key: str) -> list[Any]:
        value = self.d.get(key, _ABSENT)
        if isinstance(value, list):
            return value
        raise self._fail(key, "a list", value)

    def items_or(self, key: str) -> list[Any]:
        """The list, or an empty list when the key is absent or null."""
        value = self.d.get(key)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        raise self._fail(key, "a list", value)

    def objs(self, key: str) -> Iterator[Obj]:
        """Each element of the list `key` (absent: none) as `Obj`."""
        for i, value in enumerate(self.items_or(key)):
            yield self.element(key, i, value)

    def element(self, key: str, i: int, value: Any) -> Obj:
        """Element `i` (`value`) of the list `key` as `Obj`, or the error `objs` gives."""
        if not isinstance(value, dict):
            raise ShapeError(f"{self.where}.{key}[{i}]: expected an object, got {_kind(value)}")
        return Obj(value, "", self, (key, i))


_ABSENT: Any = object()
# Integers beyond 64 bits cannot be serialised back to JSON (orjson refuses them):
# no gateway sends one, so such a value is garbage.
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


NUMBER_TYPES = frozenset({int, float})
"""What a number may be: exact types, so that a bool (an int subclass) is not one."""


def plain_numbers(d: dict[str, Any], getter: Callable[[dict[str, Any]], Any]) -> list[float] | None:
    """The numbers `getter` (an ``operator.itemgetter`` of two keys or more) picks from `d`,
    as floats; None if one is missing or not a number, for the caller to read them
    through `Obj.numbers`, which says which. Lookups, checks and conversions run in C.
    """
    try:
        values = getter(d)
    except KeyError:
        return None
    if NUMBER_TYPES.issuperset(map(type, values)):
        return list(map(float, values))
    return None


def _numbers(d: dict[str, Any], keys: Sequence[str], owner: Obj | None) -> list[float]:
    """The numbers at `keys` of `d` (exact float or int: a bool is not a number here).

    On a missing or non-number value: `owner`'s error when given, else an empty
    list, for a caller that builds the `Obj` (and its error) only then.
    """
    out: list[float] = []
    get = d.get
    for key in keys:
        value = get(key, _ABSENT)
        kind = type(value)
        if kind is float:
            out.append(value)
        elif kind is int:
            out.append(float(value))
        elif owner is None:
            return []
        else:
            raise owner._fail(key, "a number", value)
    return out


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None

"""Firmware comparison, the model base, and the parse helpers' error contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from enphase_local.errors import EnvoyParseError
from enphase_local.firmware import Firmware
from enphase_local.models._base import FlexEnum, Model
from enphase_local.sources._json import Obj, as_list, json_parser, load_json


@pytest.mark.parametrize(
    ("text", "letter", "parts"),
    [
        ("D8.2.4345", "D", (8, 2, 4345)),
        ("R3.9.36", "R", (3, 9, 36)),
        ("08.03.5167", "", (8, 3, 5167)),
        ("M4.2.33", "M", (4, 2, 33)),
        ("garbage", "", ()),
        ("", "", ()),
    ],
)
def test_firmware_parse(text: str, letter: str, parts: tuple[int, ...]) -> None:
    fw = Firmware.parse(text)
    assert fw.letter == letter and fw.parts == parts


def test_firmware_compares_numerically() -> None:
    assert Firmware.parse("D8.10.1") > Firmware.parse("D8.9.99")
    assert Firmware.parse("D7.6.175").at_least(7, 6)
    assert not Firmware.parse("D7.3.517").at_least(7, 6)
    assert Firmware.parse("R3.9.36").before(7)
    assert not Firmware.parse("nonsense").before(7)
    assert Firmware.parse("D7.0.0").uses_tokens and not Firmware.parse("D5.0.62").uses_tokens


class Colour(FlexEnum):
    RED = "red"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Thing(Model):
    name: str
    colour: Colour
    parts: tuple[int, ...]
    nested: dict[str, Any]


def test_flex_enum_maps_unknown_values() -> None:
    assert Colour("red") is Colour.RED
    assert Colour("RED") is Colour.RED
    assert Colour("purple") is Colour.UNKNOWN
    assert Colour.parse(None) is Colour.UNKNOWN
    assert Colour.parse(42) is Colour.UNKNOWN


def test_model_to_dict_gives_plain_json() -> None:
    thing = Thing("a", Colour.RED, (1, 2), {"x": Colour.UNKNOWN})
    assert thing.to_dict() == {
        "name": "a",
        "colour": "red",
        "parts": [1, 2],
        "nested": {"x": "unknown"},
    }
    with pytest.raises(AttributeError):
        thing.name = "b"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "empty"),
        (b"<html><body>401</body></html>", "HTML"),
        (b'{"a": [1, 2', "not valid JSON"),
        (b'{ "error" : "404 - Not Found" }', "404 - Not Found"),
        (b' { "err": "404 - Not Found" }', "404 - Not Found"),
    ],
)
def test_load_json_refuses_non_data(body: bytes, fragment: str) -> None:
    with pytest.raises(EnvoyParseError) as info:
        load_json(body, "/x")
    assert fragment in str(info.value)
    assert info.value.path == "/x"


def test_error_body_is_flagged() -> None:
    with pytest.raises(EnvoyParseError) as info:
        load_json(b'{"error": "404 - Not Found"}', "/ivp/ensemble/power")
    assert info.value.gateway_error == "404 - Not Found"


def test_parser_decorator_turns_shape_errors_into_parse_errors() -> None:
    @json_parser("/demo")
    def parse(data: Any) -> float:
        return sum(Obj(d, f"[{i}]").number("w") for i, d in enumerate(as_list(data)))

    assert parse(b'[{"w": 1}, {"w": 2.5}]') == 3.5
    for bad in (b'{"w": 1}', b'[{"w": "x"}]', b"[{}]", b"[1]", b'[{"w": true}]'):
        with pytest.raises(EnvoyParseError) as info:
            parse(bad)
        assert info.value.path == "/demo"


def test_obj_getters() -> None:
    o = Obj({"n": 1, "f": 2.5, "s": "x", "b": 1, "e": "1700000000", "none": None, "l": [{"a": 1}]})
    assert o.number("n") == 1.0 and o.integer("n") == 1 and o.number_or("none", 7.0) == 7.0
    assert o.text("s") == "x" and o.flag("b") is True and o.epoch("e") == 1700000000
    assert o.items_or("missing") == [] and [c.integer("a") for c in o.objs("l")] == [1]
    assert o.text_or("missing") is None and o.child_or("none") is None


def test_integers_beyond_64_bits_are_refused() -> None:
    """Fuzzing found 1.8e19 accepted as an integer, which to_dict's JSON then refused."""
    import pytest as _pytest

    from enphase_local.sources._json import ShapeError

    for huge in (1.8446744073709552e19, 2**64, -(2**63) - 1):
        with _pytest.raises(ShapeError):
            Obj({"n": huge}).integer("n")
    assert Obj({"n": 2**63 - 1}).integer("n") == 2**63 - 1
    assert Obj({"n": 12.0}).integer_or("n") == 12


def test_error_names_the_nested_field() -> None:
    """Paths are built only on failure, and still name the exact field."""
    from enphase_local.sources._json import ShapeError

    doc = Obj({"devices": [{"ok": 1}, {"reading": {"watts": "abc"}}]})
    inner = list(doc.objs("devices"))[1].child("reading")
    with pytest.raises(ShapeError, match=r"body\.devices\[1\]\.reading\.watts: expected a number"):
        inner.number("watts")
    assert inner.number_or("missing", 3.0) == 3.0
    with pytest.raises(ShapeError):
        Obj({"w": True}).number("w")  # a bool is not a number

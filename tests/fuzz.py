"""Shared hypothesis helpers for the parser property tests.

Every parser must turn whatever the gateway (or a broken proxy) sends into a
model or an `EnvoyParseError`, nothing else. The parser tests check that with
random bytes, random JSON and valid documents mutated a little; the
strategies for those live here so that every family fuzzes the same way.
"""

from __future__ import annotations

import copy
import functools
import operator
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from hypothesis import strategies as st

from enphase_local.errors import EnvoyParseError

JSON_LEAF: st.SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
"""Any JSON scalar orjson can write (64-bit integers, finite floats)."""

LOOSE_JSON_LEAF: st.SearchStrategy[Any] = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
"""Also integers past 64 bits and infinities, which only `json.dumps` writes."""

JSON_KEY: st.SearchStrategy[str] = st.text(max_size=8)


def json_values(
    leaves: st.SearchStrategy[Any] = JSON_LEAF,
    keys: st.SearchStrategy[str] = JSON_KEY,
    *,
    max_leaves: int = 12,
) -> st.SearchStrategy[Any]:
    """Any JSON value built from `leaves`, with object keys drawn from `keys`.

    Families pass their own field names and enum spellings as keys and leaves
    so that random documents reach past the first type check now and then.
    """
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=max_leaves,
    )


JSON_VALUE = json_values()
"""Any JSON value."""


def json_paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path (keys and indices) to a value inside `doc`, the root `()` first."""
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from json_paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from json_paths(value, (*prefix, i))


@st.composite
def mutated_json(
    draw: st.DrawFn,
    doc: Any,
    values: st.SearchStrategy[Any] = JSON_VALUE,
    max_changes: int = 3,
) -> bytes:
    """`doc`, encoded, with one to `max_changes` values replaced or deleted.

    A replacement is drawn from `values` (random JSON unless the caller wants
    type swaps) and deep-copied, so a mutable constant in `values` is never
    shared between examples; `doc` itself is never touched. Replacing the
    root swaps the whole document.
    """
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, max_changes))):
        path = draw(st.sampled_from(list(json_paths(doc))))
        if not path:
            doc = copy.deepcopy(draw(values))
            continue
        parent = functools.reduce(operator.getitem, path[:-1], doc)
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(draw(values))
    return orjson.dumps(doc)


def parses_or_refuses(parser: Callable[[bytes], Any], body: bytes) -> Any:
    """What `parser` made of `body`, or None if it refused with `EnvoyParseError`.

    Any other exception escapes and fails the test.
    """
    try:
        return parser(body)
    except EnvoyParseError:
        return None

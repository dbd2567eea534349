"""What every parser is: decode a body, refuse error pages, fail as `EnvoyParseError`.

The contract of every parser is ``bytes -> model`` and "raises nothing but
`EnvoyParseError`". Parsers reach it by being written with `@json_parser(path)`
(or `@text_parser(path)` for HTML and XML): the decorator decodes the body,
refuses HTML pages and ``{"error": ...}`` bodies, and turns any shape problem
met while reading (`ShapeError`, and as a safety net KeyError, TypeError,
ValueError, IndexError, AttributeError) into `EnvoyParseError(path, snippet)`.

Inside a parser, wrap dicts in `Obj` (`sources._obj`, re-exported here so
that a parser has one import) and read fields through its typed getters,
which say where the problem was.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from ..errors import EnvoyParseError
from ._obj import (
    NUMBER_TYPES,
    Obj,
    ShapeError,
    as_list,
    as_obj,
    devices_by_group,
    plain_numbers,
)

__all__ = [
    "NUMBER_TYPES",
    "Obj",
    "ShapeError",
    "as_list",
    "as_obj",
    "devices_by_group",
    "json_parser",
    "load_json",
    "plain_numbers",
    "snippet",
    "text_parser",
]

T = TypeVar("T")

_SAFETY_NET = (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError)


def snippet(body: bytes | str) -> str:
    """The first bytes of a body as text, for error messages."""
    if isinstance(body, bytes):
        body = body[: EnvoyParseError.SNIPPET_CHARS * 4].decode("utf-8", "replace")
    return " ".join(body.split())[: EnvoyParseError.SNIPPET_CHARS]


# What bytes.strip() strips, then "<": an HTML (or XML) page. A match stops at the
# first other byte, where stripping would copy the whole body.
_HTML_START = re.compile(rb"[ \t\n\r\x0b\x0c]*<")


def _looks_like_html(body: bytes) -> bool:
    return _HTML_START.match(body) is not None


def _blank(body: bytes) -> bool:
    """Empty or only whitespace (without copying the body as ``strip()`` would)."""
    return not body or body.isspace()


def load_json(body: bytes, path: str) -> Any:
    """Decode a JSON body, refusing HTML pages and ``{"error": ...}`` bodies."""
    if _blank(body):
        raise EnvoyParseError(path, "", "empty body")
    if _looks_like_html(body):
        raise EnvoyParseError(path, snippet(body), "got an HTML page, not JSON")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise EnvoyParseError(path, snippet(body), "not valid JSON (truncated?)") from err
    if isinstance(data, dict) and 0 < len(data) <= 2:
        message = data.get("error", data.get("err"))
        if isinstance(message, str):
            raise EnvoyParseError(
                path, snippet(body), f"gateway answered an error: {message}", gateway_error=message
            )
    return data


def json_parser(path: str) -> Callable[[Callable[[Any], T]], Callable[[bytes], T]]:
    """Decorate ``fn(decoded_json) -> model`` into the parser ``bytes -> model`` of `path`."""

    def decorate(fn: Callable[[Any], T]) -> Callable[[bytes], T]:
        @functools.wraps(fn)
        def parse(body: bytes) -> T:
            data = load_json(body, path)
            try:
                return fn(data)
            except EnvoyParseError:
                raise
            except _SAFETY_NET as err:
                raise EnvoyParseError(path, snippet(body), str(err) or type(err).__name__) from err

        return parse

    return decorate


def text_parser(path: str) -> Callable[[Callable[[str], T]], Callable[[bytes], T]]:
    """Decorate ``fn(text) -> model`` (HTML, XML) into the parser ``bytes -> model`` of `path`."""

    def decorate(fn: Callable[[str], T]) -> Callable[[bytes], T]:
        @functools.wraps(fn)
        def parse(body: bytes) -> T:
            if _blank(body):
                raise EnvoyParseError(path, "", "empty body")
            text = body.decode("utf-8", "replace")
            try:
                return fn(text)
            except EnvoyParseError:
                raise
            except _SAFETY_NET as err:
                raise EnvoyParseError(path, snippet(body), str(err) or type(err).__name__) from err

        return parse

    return decorate

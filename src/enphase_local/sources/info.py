"""``/info``: the gateway's identity, as XML, readable without auth on every firmware.

Why DTDs are refused: the client talks to whatever answers on the address it
was given, and a hostile or broken host could send an entity expansion bomb
("billion laughs") or external entities. The gateway never sends a DTD, so
refusing one (at its first byte, before any declaration is read) costs nothing;
without a DTD no entity can be declared, so none can expand or reach outside.

The body is parsed as bytes so that the XML declaration's encoding is
honoured. Every failure (bad XML, unsafe XML, unknown encoding, missing
serial or firmware) surfaces as `EnvoyParseError`, like every other parser.

Why the limits are checked while parsing: building a tree of a body of 200,000
nested elements (1.2 MB, well under the read cap) cost 56 MB before any check
could run. The parser's target refuses a body deeper than `MAX_DEPTH` or with
more than `MAX_ELEMENTS` elements (a real ``/info`` is 4 deep with about 40
elements) at the start tag that crosses the limit. One pass of the C parser
into small nodes: about 0.7x the CPU of the counting pass and the
pure-Python parser of defusedxml it replaces (bench/RESULTS.md (3c)).

Old firmware (3.x, and some metered Envoy-S on 4.x) has no ``<imeter>``,
``<web-tokens>`` or ``<build_info>``, and lists the children of ``<package>``
in any order: everything is looked up by tag name, never by position. A
missing ``<imeter>`` is None (unknown), never False: metered 4.x units leave
it out, and taking that for "not metered" loses every CT reading.
"""

from __future__ import annotations

from typing import Any

from ..errors import EnvoyParseError
from ..models.gateway import GatewayInfo, PackageInfo
from ._json import ShapeError, snippet
from .keys import SourceKey
from .registry import Cadence, Role, Source, Speed

__all__ = ["INFO", "INFO_PATH", "parse_info"]

INFO_PATH = "/info"

# A real /info is 4 levels deep with about 40 elements; these leave room for new firmware.
MAX_DEPTH = 32
MAX_ELEMENTS = 5_000
_CHUNK = 16_384  # a real /info is 2 to 3 KB: one chunk

_SHAPE_ERRORS = (ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError)


def _child(element: Any, tag: str) -> Any | None:
    """The first direct child named `tag` (no ElementPath: tags are compared literally)."""
    for child in element:
        if child.tag == tag:
            return child
    return None


def _text(element: Any, tag: str) -> str | None:
    """The stripped text of child `tag`, or None when it is absent or empty."""
    child = _child(element, tag)
    if child is None or child.text is None:
        return None
    return str(child.text).strip() or None


def _required(element: Any, tag: str, where: str) -> str:
    value = _text(element, tag)
    if value is None:
        raise ShapeError(f"{where}.{tag}: missing")
    return value


def _flag(element: Any, tag: str, where: str) -> bool:
    """``true``/``false`` (any case); absent means False, as on firmware that predates the tag."""
    return bool(_flag_or_none(element, tag, where))


def _flag_or_none(element: Any, tag: str, where: str) -> bool | None:
    """``true``/``false`` (any case); None when the element is absent (unknown, not false)."""
    value = _text(element, tag)
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ShapeError(f"{where}.{tag}: expected true or false, got {value[:30]!r}")


def _epoch(element: Any, tag: str, where: str) -> int | None:
    value = _text(element, tag)
    if value is None:
        return None
    if not value.isascii() or not value.lstrip("-").isdigit():
        raise ShapeError(f"{where}.{tag}: expected epoch seconds, got {value[:30]!r}")
    return int(value)


def _packages(root: Any) -> dict[str, PackageInfo]:
    packages: dict[str, PackageInfo] = {}
    for i, package in enumerate(p for p in root if p.tag == "package"):
        name = str(package.get("name") or "").strip()
        if not name:
            raise ShapeError(f"envoy_info.package[{i}]: missing name attribute")
        packages[name] = PackageInfo(
            part_number=_text(package, "pn"),
            version=_text(package, "version"),
            build=_text(package, "build"),
        )
    return packages


def _info(root: Any) -> GatewayInfo:
    if root.tag != "envoy_info":
        raise ShapeError(f"root element is <{str(root.tag)[:30]}>, not <envoy_info>")
    device = _child(root, "device")
    if device is None:
        raise ShapeError("envoy_info.device: missing")
    build = _child(root, "build_info")
    where = "envoy_info.build_info"
    return GatewayInfo(
        serial=_required(device, "sn", "envoy_info.device"),
        part_number=_text(device, "pn"),
        firmware=_required(device, "software", "envoy_info.device"),
        imeter=_flag_or_none(device, "imeter", "envoy_info.device"),
        web_tokens=_flag(root, "web-tokens", "envoy_info"),
        device_time=_epoch(root, "time", "envoy_info"),
        packages=_packages(root),
        build_id=None if build is None else _text(build, "build_id"),
        build_time_gmt=None if build is None else _epoch(build, "build_time_gmt", where),
        release_stage=None if build is None else _text(build, "release_stage"),
        release_ver=None if build is None else _text(build, "release_ver"),
    )


class _TooLarge(Exception):
    """More depth or elements than any gateway sends."""


class _Dtd(Exception):
    """A DTD: refused before the parser reads a single declaration of it."""


class _Node:
    """An element as `_info` reads it: tag, attributes, text and children (no tail)."""

    __slots__ = ("attrib", "children", "tag", "text")

    def __init__(self, tag: str, attrib: dict[str, str]) -> None:
        self.tag, self.attrib = tag, attrib
        self.text: str | None = None
        self.children: list[_Node] = []

    def __iter__(self) -> Any:
        return iter(self.children)

    def get(self, key: str) -> str | None:
        return self.attrib.get(key)


class _Builder:
    """The target of the C XML parser: builds `_Node`s and enforces the limits as it goes.

    One pass: the depth and element limits are checked at each start tag, so a
    body of 200,000 elements stops at element 5,001 having built at most that
    many small nodes; a DTD stops the parse at its first byte (no entity is ever
    declared, so none can expand or reach outside).
    """

    __slots__ = ("count", "root", "stack")

    def __init__(self) -> None:
        self.count = 0
        self.root: _Node | None = None
        self.stack: list[_Node] = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.count += 1
        if len(self.stack) >= MAX_DEPTH:
            raise _TooLarge(f"XML nested deeper than {MAX_DEPTH} elements")
        if self.count > MAX_ELEMENTS:
            raise _TooLarge(f"more than {MAX_ELEMENTS} XML elements")
        node = _Node(tag, attrib)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def end(self, _tag: str) -> None:
        self.stack.pop()

    def data(self, text: str) -> None:
        node = self.stack[-1] if self.stack else None
        if node is not None and not node.children:  # text before the first child
            node.text = text if node.text is None else node.text + text

    def doctype(self, *_args: object) -> None:
        raise _Dtd

    def close(self) -> _Node | None:
        return self.root


def parse_info(body: bytes) -> GatewayInfo:
    """``/info`` XML -> `GatewayInfo`; raises only `EnvoyParseError`.

    One pass of the C XML parser (the XML declaration's encoding honoured) into
    `_Builder`, which refuses a DTD and bodies beyond the limits as it reads.
    """
    if not body.strip():
        raise EnvoyParseError(INFO_PATH, "", "empty body")
    # Imported at the first /info, not with the package: a process only needs the
    # XML parser once it connects.
    from xml.etree.ElementTree import ParseError, XMLParser

    builder = _Builder()
    try:
        parser = XMLParser(target=builder)
        # In chunks: the parser reads a whole chunk before a handler's error
        # surfaces, so a refusal comes within one chunk of the limit.
        for at in range(0, len(body), _CHUNK):
            parser.feed(body[at : at + _CHUNK])
        root = parser.close()
    except _TooLarge as err:
        raise EnvoyParseError(INFO_PATH, snippet(body), f"refused: {err}") from err
    except _Dtd as err:
        raise EnvoyParseError(
            INFO_PATH, snippet(body), "refused unsafe XML (DTD or entity declarations)"
        ) from err
    except (ParseError, LookupError, ValueError, UnicodeError, RecursionError) as err:
        raise EnvoyParseError(INFO_PATH, snippet(body), f"not valid XML ({err})") from err
    try:
        return _info(root)
    except _SHAPE_ERRORS as err:
        raise EnvoyParseError(INFO_PATH, snippet(body), str(err) or type(err).__name__) from err


INFO = Source(
    key=SourceKey.INFO,
    path=INFO_PATH,
    parse=parse_info,
    role=Role.PUBLIC,
    cadence=Cadence.IDENTITY,
    speed=Speed.FAST,
    doc="serial, part number, firmware, metered model, packages and build",
)

"""``/info``: the gateway's identity, as XML, readable without auth on every firmware.

Why defusedxml with DTDs forbidden: the client talks to whatever answers on
the address it was given, and a hostile or broken host could send an entity
expansion bomb ("billion laughs") or external entities. The gateway never
sends a DTD, so refusing them costs nothing.

The body is parsed as bytes so that the XML declaration's encoding is
honoured. Every failure (bad XML, unsafe XML, unknown encoding, missing
serial or firmware) surfaces as `EnvoyParseError`, like every other parser.

Why a first pass that only counts: building an ElementTree costs about 300
bytes per element, so a body of 200,000 nested elements (1.2 MB, well under
the read cap) cost 56 MB before any check could run. The counting pass keeps
no tree: it refuses a body deeper than `MAX_DEPTH` or with more than
`MAX_ELEMENTS` elements (a real ``/info`` is 4 deep with about 40 elements)
before the tree is built.

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
    """The counting pass found more depth or elements than any gateway sends."""


class _Defer(Exception):
    """A DTD: the counting pass stops before expanding anything; defusedxml refuses it."""


def _check_size(body: bytes) -> None:
    """Refuse, without building a tree, XML deeper or larger than a gateway's ``/info``.

    Raises `_TooLarge` with the reason; leaves every other defect (bad XML, a
    DTD) to the real parse, which reports it in its own words.
    """
    from xml.parsers import expat

    depth = count = 0

    def start(_name: str, _attrs: object) -> None:
        nonlocal depth, count
        depth += 1
        count += 1
        if depth > MAX_DEPTH:
            raise _TooLarge(f"XML nested deeper than {MAX_DEPTH} elements")
        if count > MAX_ELEMENTS:
            raise _TooLarge(f"more than {MAX_ELEMENTS} XML elements")

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    def dtd(*_args: object) -> None:
        raise _Defer

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = dtd
    try:
        parser.Parse(body, True)
    except (expat.ExpatError, _Defer, LookupError, ValueError, UnicodeError):
        return  # not well-formed, or a DTD: the real parse says so


def parse_info(body: bytes) -> GatewayInfo:
    """``/info`` XML -> `GatewayInfo`; raises only `EnvoyParseError`."""
    if not body.strip():
        raise EnvoyParseError(INFO_PATH, "", "empty body")
    # Imported at the first /info, not with the package: the XML parser stack is
    # 2 to 3 ms of import that a process only needs once it connects.
    from xml.etree.ElementTree import ParseError

    import defusedxml
    import defusedxml.ElementTree as SafeET

    try:
        _check_size(body)
    except _TooLarge as err:
        raise EnvoyParseError(INFO_PATH, snippet(body), f"refused: {err}") from err
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except defusedxml.DefusedXmlException as err:
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

"""Production from the HTML page of firmware before 3.9 (``/production``).

The oldest Envoys have no production JSON at all: ``/production`` is a page
with a small table, "Currently" in W/kW/MW and "Today", "Past Week", "Since
Installation" in Wh/kWh/MWh, rounded to three significant digits
(``6.63 kW``, ``405 kWh``, ``133 MWh``). pyenphase refuses this firmware; we
read the table, so these sites still get a (coarse) production figure.

The page is matched on its labels, not its markup, so a bare fragment
(3.7.0) and a full page with navigation (3.9.36) both parse. A page without
the table (an error or 401 page, a "Page Not Found") is an `EnvoyParseError`.
"""

from __future__ import annotations

import html
import math
import re
from decimal import Decimal, InvalidOperation

from ..models.energy import EnergyReading
from ._json import ShapeError, text_parser
from .keys import SourceKey
from .registry import Cadence, Role, Source, Speed

__all__ = ["MAX_PAGE_CHARS", "PRODUCTION_HTML", "PRODUCTION_HTML_PATH", "parse_production_html"]

PRODUCTION_HTML_PATH = "/production"

_SCALE = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}
_LABELS = {
    "currently": "watts",
    "today": "wh_today",
    "past week": "wh_last_7_days",
    "since installation": "wh_lifetime",
}
# A label cell, then (after tags and whitespace) a number and its unit.
_ROW = re.compile(
    r"\b(currently|today|past\s+week|since\s+installation)\s*:?\s+"
    r"(-?\d+(?:[.,]\d+)*)\s*([kmg]?)(wh|w)\b",
    re.IGNORECASE,
)
# `[^<>]` rather than `[^>]`: an unclosed `<` must not rescan the rest of the
# page (a page full of `<` would take quadratic time).
_TAG = re.compile(r"<[^<>]*>")
# Invisible parts and where they end. Found with str.find from a moving
# position, never with a lazy regex: `<!--.*?-->` takes minutes on a page
# full of unclosed `<!--` (each one scans to the end of the page).
_HIDDEN_END = {"<!--": "-->", "<script": "</script", "<style": "</style"}
_HIDDEN_START = re.compile("|".join(map(re.escape, _HIDDEN_END)))
# The real page is 15 KB: anything this large is not that page, and parsing
# it would only cost time.
MAX_PAGE_CHARS = 512 * 1024


def _visible(page: str) -> str:
    """The page without comments, scripts and styles, in one pass (linear time).

    An unclosed comment, script or style hides the rest of the page, as in
    a browser.
    """
    lowered = page.lower()
    parts: list[str] = []
    position = 0
    while (opening := _HIDDEN_START.search(lowered, position)) is not None:
        parts.append(page[position : opening.start()])
        close = _HIDDEN_END[opening.group()]
        end = lowered.find(close, opening.end())
        if end >= 0:
            end = end + len(close) - 1 if close == "-->" else lowered.find(">", end)
        if end < 0:
            return "".join(parts)
        position = end + 1
        parts.append(" ")
    parts.append(page[position:])
    return "".join(parts)


def _number(text: str, prefix: str) -> float:
    """``6.63`` k -> 6630.0 exactly (decimal arithmetic: no ``6630.000000000001``).

    Accepts ``1,234.5`` and, with a decimal comma (some locales), ``6,63``.
    """
    if "," in text and "." in text:
        text = text.replace(",", "")
    elif text.count(",") == 1:
        text = text.replace(",", ".")  # three significant digits: a lone comma is decimal
    else:
        text = text.replace(",", "")
    try:
        value = float(Decimal(text) * _SCALE[prefix.lower()])
    except InvalidOperation as err:
        raise ShapeError(f"{text!r} is not a number") from err
    if not math.isfinite(value):
        raise ShapeError(f"{text!r} is out of range")
    return value


def _plain_text(page: str) -> str:
    """The page's visible text, one space between words."""
    text = _TAG.sub(" ", _visible(page))
    return " ".join(html.unescape(text).split())


def _values(page: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for match in _ROW.finditer(_plain_text(page)):
        label = " ".join(match.group(1).lower().split())
        field = _LABELS[label]
        if field in found:
            continue  # first table wins
        is_power = match.group(4).lower() == "w"
        if is_power != (field == "watts"):
            unit = match.group(3) + match.group(4)
            raise ShapeError(f"{match.group(1)!r}: unexpected unit {unit!r}")
        found[field] = _number(match.group(2), match.group(3))
    return found


def _refusal(page: str) -> str:
    """Why a page without the production table is not one, for the error message."""
    text = _plain_text(page).lower()
    if "401" in text or "unauthorized" in text:
        return "got the gateway's 401 Unauthorized page: check the credentials"
    if "not found" in text:
        return "got a 'Page Not Found' page: this firmware has no such page"
    return "no production table (Currently / Today / Past Week / Since Installation) in the page"


@text_parser(PRODUCTION_HTML_PATH)
def parse_production_html(page: str) -> EnergyReading:
    """The HTML production page of firmware before 3.9 -> `EnergyReading` ``production.html``."""
    if len(page) > MAX_PAGE_CHARS:
        raise ShapeError(f"{len(page):,} characters: not the production page (about 15 KB)")
    values = _values(page)
    if "watts" not in values:
        raise ShapeError(_refusal(page))
    return EnergyReading(
        watts=values["watts"],
        wh_today=values.get("wh_today"),
        wh_last_7_days=values.get("wh_last_7_days"),
        wh_lifetime=values.get("wh_lifetime"),
        source="production.html",
    )


PRODUCTION_HTML: Source[EnergyReading] = Source(
    key=SourceKey.PRODUCTION_HTML,
    path=PRODUCTION_HTML_PATH,
    parse=parse_production_html,
    role=Role.OWNER,
    cadence=Cadence.LIVE,
    speed=Speed.SLOW,
    doc="production from the HTML page of firmware before 3.9 (three significant digits)",
    max_bytes=MAX_PAGE_CHARS,
)

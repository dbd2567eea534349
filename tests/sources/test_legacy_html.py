"""The HTML production page of firmware before 3.9.

Values for the real pages are read by hand from the captures' table cells.
The synthetic pages below are written for these tests (same labels, our own
markup) to exercise whitespace, case, units and decimals.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enphase_local.errors import EnvoyParseError
from enphase_local.sources.legacy_html import PRODUCTION_HTML, parse_production_html
from enphase_local.sources.registry import Cadence, Role, Speed
from tests.hypothesis_profile import examples
from tests.support import needs_real, real_body


def page(now: str, today: str, week: str, life: str, *, sep: str = "    ") -> bytes:
    rows = "".join(
        f"<tr><td>{label}</td>{sep}<td>{value}</td></tr>"
        for label, value in (
            ("Currently", now),
            ("Today", today),
            ("Past Week", week),
            ("Since Installation", life),
        )
    )
    return (
        "<html><body><h1>System Energy Production</h1><table>"
        '<tr><td colspan="3">System has been live since <div>Mon Jan 1, 2018</div></td></tr>'
        f"{rows}</table></body></html>"
    ).encode()


# --- real pages ----------------------------------------------------------------------


@needs_real
@pytest.mark.parametrize("folder", ["3.7.0", "3.17.3"])
def test_real_fragment_pages(folder: str) -> None:
    body = real_body(folder, "production")
    assert body is not None
    reading = parse_production_html(body)
    # 6.63 kW, 53.6 kWh, 405 kWh, 133 MWh
    assert reading.watts == 6630
    assert reading.wh_today == 53600
    assert reading.wh_last_7_days == 405000
    assert reading.wh_lifetime == 133000000
    assert reading.source == "production.html"
    assert reading.reading_time is None and reading.volts is None


@needs_real
def test_real_full_page_with_navigation() -> None:
    body = real_body("3.9.36", "production")
    assert body is not None
    reading = parse_production_html(body)
    # 0 W, 0 Wh, 0 Wh, 14.6 MWh: production all zero (night), lifetime kept
    assert (reading.watts, reading.wh_today, reading.wh_last_7_days) == (0, 0, 0)
    assert reading.wh_lifetime == 14600000


@needs_real
@pytest.mark.parametrize("folder", ["3.7.0", "3.17.3", "3.9.36"])
def test_real_production_json_html_pages_are_refused(folder: str) -> None:
    body = real_body(folder, "production.json")
    assert body is not None
    with pytest.raises(EnvoyParseError, match="Page Not Found"):
        parse_production_html(body)


# --- robustness --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (page("6.63 kW", "53.6 kWh", "405 kWh", "133 MWh"), (6630, 53600, 405000, 133000000)),
        (page("405 W", "2 Wh", "1.5 MWh", "2.25 GWh"), (405, 2, 1500000, 2250000000)),
        (page("1.2 MW", "0 Wh", "0 kWh", "0 MWh"), (1200000, 0, 0, 0)),
        (page("0.5kW", "7kWh", "70 kWh", "9 MWh"), (500, 7000, 70000, 9000000)),
        (page("6,63 kW", "53,6 kWh", "405 kWh", "1,234.5 kWh"), (6630, 53600, 405000, 1234500)),
        (page("6.63&nbsp;kW", "53.6&#160;kWh", "405 KWH", "133 mwh"), (6630, 53600, 405000, 133e6)),
        (
            page("\n  6.63  kW\n", "\t53.6 kWh ", " 405 kWh", "133 MWh", sep="\n\n   \t"),
            (6630, 53600, 405000, 133000000),
        ),
    ],
)
def test_units_decimals_and_whitespace(body: bytes, expected: tuple[float, ...]) -> None:
    reading = parse_production_html(body)
    assert (reading.watts, reading.wh_today, reading.wh_last_7_days, reading.wh_lifetime) == (
        expected
    )


def test_labels_in_any_case_and_spacing() -> None:
    body = (
        b"<TABLE><TR><TD>CURRENTLY</TD><TD>1 kW</TD></TR>"
        b"<tr><td>today</td><td>2 kWh</td></tr>"
        b"<tr><td>Past\n   Week</td><td>3 kWh</td></tr>"
        b"<tr><td>since   INSTALLATION</td><td>4 MWh</td></tr></TABLE>"
    )
    reading = parse_production_html(body)
    assert (reading.watts, reading.wh_today, reading.wh_last_7_days, reading.wh_lifetime) == (
        1000,
        2000,
        3000,
        4000000,
    )


def test_missing_energy_rows_are_none() -> None:
    reading = parse_production_html(b"<table><tr><td>Currently</td><td>12 W</td></tr></table>")
    assert reading.watts == 12
    assert (reading.wh_today, reading.wh_last_7_days, reading.wh_lifetime) == (None, None, None)


def test_labels_in_comments_and_scripts_are_ignored() -> None:
    body = b"<!-- Currently 99 kW --><script>var t = 'Today 5 Wh';</script>" + page(
        "1 W", "2 Wh", "3 Wh", "4 Wh"
    )
    reading = parse_production_html(body)
    assert (reading.watts, reading.wh_today) == (1, 2)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"<html><body><h2>401 Unauthorized</h2></body></html>", "401 Unauthorized"),
        (b"<html><body>Page Not Found</body></html>", "Page Not Found"),
        (b"<html><body><p>Hello</p></body></html>", "no production table"),
        (b'{"production": [{"type": "inverters", "wNow": 5}]}', "no production table"),
        (b"   \n ", "empty body"),
        (page("6.63 kWh", "1 kWh", "1 kWh", "1 kWh"), "unexpected unit 'kWh'"),
        (page("6.63 kW", "1 kW", "1 kWh", "1 kWh"), "unexpected unit 'kW'"),
        (page("9" * 400 + " W", "1 Wh", "1 Wh", "1 Wh"), "out of range"),
    ],
)
def test_pages_without_the_table_are_refused(body: bytes, fragment: str) -> None:
    with pytest.raises(EnvoyParseError) as info:
        parse_production_html(body)
    assert fragment in str(info.value)
    assert info.value.path == "/production"


def test_source() -> None:
    assert (PRODUCTION_HTML.key, PRODUCTION_HTML.path) == ("production_html", "/production")
    assert PRODUCTION_HTML.role is Role.OWNER and PRODUCTION_HTML.cadence is Cadence.LIVE
    assert PRODUCTION_HTML.speed is Speed.SLOW
    assert PRODUCTION_HTML.parse is parse_production_html


# --- property tests --------------------------------------------------------------------

VALID = page("6.63 kW", "53.6 kWh", "405 kWh", "133 MWh")


def _parses_or_refuses(body: bytes) -> Any:
    try:
        return parse_production_html(body)
    except EnvoyParseError:
        return None


@settings(deadline=None, max_examples=examples(200))
@given(
    st.lists(
        st.sampled_from(
            [
                *("Currently", "Today", "Past Week", "Since Installation", "<td>", "</td>"),
                *("<!--", "-->", " ", "6.63", ",", ".", "-", "kW", "Wh", "MWh", "W", "&nbsp;"),
                "9" * 30,
            ]
        ),
        max_size=30,
    )
)
def test_random_table_soup_raises_only_parse_errors(parts: list[str]) -> None:
    _parses_or_refuses("".join(parts).encode())


@settings(deadline=None, max_examples=examples(200))
@given(st.data())
def test_mutated_page_raises_only_parse_errors(data: st.DataObject) -> None:
    body = VALID
    start = data.draw(st.integers(0, len(body)))
    end = data.draw(st.integers(start, len(body)))
    insert = data.draw(st.binary(max_size=20))
    _parses_or_refuses(body[:start] + insert + body[end:])
    _parses_or_refuses(body[: data.draw(st.integers(0, len(body)))])


@settings(deadline=None, max_examples=examples(150))
@given(st.integers(0, len(VALID)))
def test_truncated_page_never_gives_a_wrong_value(cut: int) -> None:
    body = VALID[:cut]
    if b"6.63 kW" not in body:
        with pytest.raises(EnvoyParseError):
            parse_production_html(body)
        return
    reading = _parses_or_refuses(body)  # a unit cut in half ("53.6 kW") is refused
    if reading is not None:
        assert reading.watts == 6630
        assert reading.wh_today in (None, 53600)
        assert reading.wh_last_7_days in (None, 405000)
        assert reading.wh_lifetime in (None, 133000000)


# -- hostile pages: linear time, bounded size ------------------------------------------------

HOSTILE_PAGES = {
    "unclosed_comments": "<!--" * 20_000,  # 82 s with the old lazy comment regex
    "unclosed_tags": "<" * 80_000,
    "unclosed_scripts": "<script" * 11_000,
    "many_closed_comments": "<!-- -->" * 10_000 + "<script>",
    "many_labels": "Today 1" * 11_000,
    "long_number": "Currently " + "1." * 39_000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE_PAGES))
def test_pathological_pages_fail_fast(name: str) -> None:
    import time

    started = time.perf_counter()
    with pytest.raises(EnvoyParseError):
        parse_production_html(HOSTILE_PAGES[name].encode())
    # about 10 ms each on an idle machine; the bound only has to catch quadratic time
    assert time.perf_counter() - started < 1.0


def test_the_table_still_parses_after_hostile_noise() -> None:
    noise = b"<!-- a -->" * 5000 + b"<script>var x = '<td>Currently</td><td>9 W</td>';</script>"
    reading = parse_production_html(noise + page("6.63 kW", "1.2 kWh", "30 kWh", "133 MWh"))
    assert reading.watts == 6630.0


def test_an_unclosed_comment_hides_the_rest_like_a_browser() -> None:
    with pytest.raises(EnvoyParseError, match="no production table"):
        parse_production_html(b"<!-- " + page("6.63 kW", "1.2 kWh", "30 kWh", "133 MWh"))


def test_a_page_over_the_size_cap_is_refused_unread() -> None:
    from enphase_local.sources.legacy_html import MAX_PAGE_CHARS

    huge = page("6.63 kW", "1.2 kWh", "30 kWh", "133 MWh") + b" " * MAX_PAGE_CHARS
    with pytest.raises(EnvoyParseError, match="not the production page"):
        parse_production_html(huge)
    assert PRODUCTION_HTML.max_bytes == MAX_PAGE_CHARS

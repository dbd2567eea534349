"""``/stream/meter`` events: split by the SSE rules, parsed strictly, hostile input refused."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enphase_local.errors import EnvoyParseError
from enphase_local.live.sse import EventSplitter, parse_meter_event

PHASE = {"p": 100.0, "q": 1.0, "s": 101.0, "v": 240.0, "i": 0.4, "pf": 0.99, "f": 50.0}


def frame(**flows: dict[str, dict[str, float]]) -> bytes:
    return orjson.dumps({k.replace("_", "-"): v for k, v in flows.items()})


def feed(splitter: EventSplitter, text: bytes) -> list[bytes]:
    events = []
    for line in text.splitlines(keepends=True):
        event = splitter.feed(line)
        if event is not None:
            events.append(event)
    return events


def test_events_end_at_a_blank_line_and_multi_line_data_joins() -> None:
    text = b': keepalive\nevent: meter\ndata: {"a":\ndata: 1}\n\ndata: {"b": 2}\r\n\r\n\n'
    assert feed(EventSplitter(), text) == [b'{"a":\n1}', b'{"b": 2}']


def test_a_partial_event_is_dropped_on_reset() -> None:
    splitter = EventSplitter()
    assert feed(splitter, b'data: {"production": ') == []
    splitter.reset()  # the connection dropped mid-event
    assert feed(splitter, b'data: {"b": 2}\n\n') == [b'{"b": 2}']


def test_a_frame_gives_active_power_per_phase_in_use() -> None:
    body = frame(
        production={"ph-a": {**PHASE, "p": 1500.5}, "ph-b": PHASE, "ph-c": {**PHASE, "p": 0.0}},
        net_consumption={"ph-a": {**PHASE, "p": -700.0}, "ph-b": PHASE, "ph-c": PHASE},
    )
    got = parse_meter_event(body, phase_count=2)
    assert got.production == {"L1": 1500.5, "L2": 100.0}
    assert got.net_consumption == {"L1": -700.0, "L2": 100.0}
    assert got.total_consumption == {}
    assert set(parse_meter_event(body).production) == {"L1", "L2", "L3"}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b"{}",
        frame(production={"ph-a": {"p": "12"}}),
        frame(production={"ph-a": {"p": True}}),
        frame(production=[1]),  # type: ignore[arg-type]
        frame(production={"ph-a": 5}),  # type: ignore[dict-item]
    ],
)
def test_anything_else_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(EnvoyParseError, match="/stream/meter"):
        parse_meter_event(body)


def test_an_endless_event_is_refused() -> None:
    splitter = EventSplitter()
    with pytest.raises(EnvoyParseError):
        for _ in range(100):
            splitter.feed(b"data: " + b"x" * 1000 + b"\n")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_parse_errors(blob: bytes) -> None:
    splitter = EventSplitter()
    for line in (b"data: " + blob + b"\n\n").splitlines(keepends=True):
        event = splitter.feed(line)
        if event is not None:
            try:
                parse_meter_event(event)
            except EnvoyParseError:
                pass

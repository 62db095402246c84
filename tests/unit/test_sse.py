"""SSE framing: what the mock writes, the decoder reads back unchanged."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.sse import (
    DONE,
    ServerSentEvent,
    decode_stream,
    dump_json,
    encode_done,
    encode_event,
    encode_json_event,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
event_names = st.none() | st.from_regex(r"[a-z][a-z._]{0,30}", fullmatch=True)


@settings(max_examples=200)
@given(payloads=st.lists(st.tuples(json_values, event_names), min_size=1, max_size=8))
@example(payloads=[({"text": "line one\nline two"}, None)])
@example(payloads=[("\udbb5", "response.created")])
def test_json_events_round_trip(payloads: list[tuple[Any, str | None]]) -> None:
    wire = b"".join(encode_json_event(payload, event) for payload, event in payloads)
    wire += encode_done()
    events = decode_stream(wire)
    assert [event.event for event in events[:-1]] == [event for _, event in payloads]
    assert [json.loads(event.data) for event in events[:-1]] == [p for p, _ in payloads]
    assert events[-1] == ServerSentEvent(DONE)


@given(
    data=st.text(
        alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]),
        max_size=50,
    )
)
def test_plain_data_round_trips(data: str) -> None:
    assert decode_stream(encode_event(data)) == [ServerSentEvent(data)]


def test_multi_line_data_uses_several_data_lines() -> None:
    assert encode_event("a\nb", "x") == b"event: x\ndata: a\ndata: b\n\n"


def test_decoder_follows_the_whatwg_rules() -> None:
    wire = ": a comment\r\nevent: e\r\ndata:no space\r\nid: 7\r\nretry: 15\r\n\r\ndata: x\n"
    assert decode_stream(wire) == [
        ServerSentEvent("no space", "e", "7", 15),
        # The last event id persists; a last event without its blank line is still read.
        ServerSentEvent("x", None, "7"),
    ]


def test_dump_json_is_compact_utf8_and_survives_lone_surrogates() -> None:
    assert dump_json({"a": [1, "é"]}) == '{"a":[1,"é"]}'
    assert dump_json("\udbb5") == '"\\udbb5"'

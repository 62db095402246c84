"""The obfuscation padding: its lengths hide the delta's, it never breaks the JSON it pads."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.sse import decode_stream
from mockserver.render.obfuscation import BLOCK, DRAW, Padding, wants_obfuscation
from mockserver.render.stream import padded_chunk_frames

PADDING = re.compile(r"[A-Za-z0-9]{1,16}")


def chunk(content: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4-0613",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
        **extra,
    }


@settings(max_examples=150, deadline=None)
@given(contents=st.lists(st.text(max_size=40), min_size=1, max_size=8))
@example(contents=['"quoted" \\ back\nslash', "é", "\U0001f600", "\udc80"])  # lone surrogate
def test_padded_chunks_stay_json_and_are_a_multiple_of_16_bytes(contents: list[str]) -> None:
    payloads = [chunk(content) for content in contents]
    raw = b"".join(padded_chunk_frames(payloads, done_marker=True))
    events = decode_stream(raw)
    assert events[-1].data == "[DONE]"
    for payload, event in zip(payloads, events[:-1], strict=True):
        data = event.json()
        padding = data.pop("obfuscation")
        assert PADDING.fullmatch(padding)
        assert data == json.loads(json.dumps(payload))  # what the chunk said, unchanged
        assert len(event.data.encode()) % BLOCK == 0


def test_an_error_ending_a_stream_is_not_padded_and_no_done_follows() -> None:
    error = {"error": {"message": "boom", "type": "server_error", "param": None, "code": None}}
    raw = b"".join(padded_chunk_frames([chunk("Hi"), error], done_marker=False))
    events = decode_stream(raw)
    assert [event.json() for event in events][-1] == error
    assert "obfuscation" in events[0].json()


def test_a_delta_and_its_padding_make_a_multiple_of_16() -> None:
    padding = Padding()
    for delta in ["", "a", "Current", "x" * 15, "x" * 16, "x" * 17, "ü" * 3]:
        pad = padding.for_delta(delta)
        assert PADDING.fullmatch(pad) and (len(delta) + len(pad)) % BLOCK == 0


def test_padding_is_random_across_draws_and_streams() -> None:
    first, second = Padding(), Padding()
    drawn = [first.take(BLOCK) for _ in range(3 * DRAW // BLOCK)]  # past several draws
    assert len(set(drawn)) == len(drawn)
    assert second.take(BLOCK) not in drawn


def test_only_include_obfuscation_false_turns_it_off() -> None:
    assert wants_obfuscation({})
    assert wants_obfuscation({"stream_options": {"include_usage": True}})
    assert wants_obfuscation({"stream_options": {"include_obfuscation": True}})
    assert wants_obfuscation({"stream_options": None})
    assert not wants_obfuscation({"stream_options": {"include_obfuscation": False}})

"""Stream validation: framing and ordering rules on top of each event's schema."""

from __future__ import annotations

from typing import Any

import pytest

from harness.spec import Operation
from harness.sse import encode_done, encode_json_event
from harness.validate import validate_stream


def chunk(**choice: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4-0613",
        "choices": [{"index": 0, "delta": {}, "finish_reason": None, **choice}],
    }


GOOD_CHAT = [
    chunk(delta={"role": "assistant", "content": ""}),
    chunk(delta={"content": "Hi"}),
    chunk(finish_reason="stop"),
]


def chat_wire(chunks: list[Any], done: bool = True) -> bytes:
    wire = b"".join(encode_json_event(item) for item in chunks)
    return wire + (encode_done() if done else b"")


def test_good_chat_stream(chat_operation: Operation) -> None:
    assert validate_stream(chat_operation, chat_wire(GOOD_CHAT)) == []


@pytest.mark.parametrize(
    ("wire", "pointer", "fragment"),
    [
        (chat_wire(GOOD_CHAT, done=False), "", "does not end with data: [DONE]"),
        (encode_done() + chat_wire(GOOD_CHAT), "/0", "[DONE] is not the last"),
        (b"data: {not json\n\n" + encode_done(), "/0", "not JSON"),
        (chat_wire([{"error": "boom"}]), "/0/error", "an object with a string message"),
        (chat_wire([{"error": {"message": "boom"}}, GOOD_CHAT[1]]), "/1", "follows the in-stream"),
        (chat_wire([chunk(finish_reason="banana")]), "/0/choices/0/finish_reason", "banana"),
        (b"", "", "no events"),
    ],
)
def test_broken_chat_streams(
    chat_operation: Operation, wire: bytes, pointer: str, fragment: str | None
) -> None:
    violations = validate_stream(chat_operation, wire)
    if fragment is None:
        assert violations == []
        return
    assert any(v.pointer == pointer and fragment in v.message for v in violations), violations


def response_snapshot(status: str) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "gpt-4-0613",
        "parallel_tool_calls": True,
        "status": status,
        "output": [],
        "usage": None,
        "tool_choice": "auto",
        "tools": [],
    }


def typed(event_type: str, number: int, **fields: Any) -> bytes:
    return encode_json_event({"type": event_type, "sequence_number": number, **fields}, event_type)


GOOD_RESPONSES = [
    ("response.created", {"response": response_snapshot("in_progress")}),
    ("response.in_progress", {"response": response_snapshot("in_progress")}),
    ("response.completed", {"response": response_snapshot("completed")}),
]


def responses_wire(events: list[tuple[str, dict[str, Any]]], numbers: list[int]) -> bytes:
    return b"".join(
        typed(kind, n, **fields) for (kind, fields), n in zip(events, numbers, strict=True)
    )


def test_good_responses_stream(responses_operation: Operation) -> None:
    assert validate_stream(responses_operation, responses_wire(GOOD_RESPONSES, [0, 1, 2])) == []


def test_responses_sequence_numbers_must_count_from_zero(responses_operation: Operation) -> None:
    violations = validate_stream(responses_operation, responses_wire(GOOD_RESPONSES, [0, 2, 3]))
    assert [v.pointer for v in violations] == ["/1/sequence_number"]


def test_responses_first_event_and_terminal(responses_operation: Operation) -> None:
    swapped = [GOOD_RESPONSES[1], GOOD_RESPONSES[0]]
    messages = [
        v.message for v in validate_stream(responses_operation, responses_wire(swapped, [0, 1]))
    ]
    assert any("not 'response.created'" in m for m in messages)
    assert any("without a terminal" in m for m in messages)


def test_responses_event_line_must_match_type(responses_operation: Operation) -> None:
    wire = responses_wire(GOOD_RESPONSES, [0, 1, 2]).replace(
        b"event: response.in_progress", b"event: response.queued", 1
    )
    (violation,) = validate_stream(responses_operation, wire)
    assert violation.pointer == "/1" and "event: response.queued" in violation.message


def test_responses_stream_has_no_done(responses_operation: Operation) -> None:
    wire = responses_wire(GOOD_RESPONSES, [0, 1, 2]) + encode_done()
    (violation,) = validate_stream(responses_operation, wire)
    assert "no data: [DONE]" in violation.message

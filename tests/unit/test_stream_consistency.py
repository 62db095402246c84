"""What a client assembles from a stream must agree with itself (harness.stream_consistency).

Each test takes a good transcript from tests/data/, breaks one thing a client would notice,
and expects exactly that violation, with a pointer into the broken event.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from harness.schema import Violation
from harness.spec import Operation
from harness.sse import decode_stream, encode_done, encode_json_event
from harness.validate import STREAM_RULES, stream_error, validate_stream

DATA = Path(__file__).resolve().parents[1] / "data"


def load(name: str) -> list[Any]:
    """The payloads of a saved stream ([DONE] left out)."""
    text = (DATA / name).read_text()
    return [event.json() for event in decode_stream(text) if event.data != "[DONE]"]


def chat_wire(chunks: list[Any], done: bool = True) -> bytes:
    return b"".join(encode_json_event(chunk) for chunk in chunks) + (encode_done() if done else b"")


def typed_wire(events: list[Any]) -> bytes:
    return b"".join(encode_json_event(event, event.get("type")) for event in events)


def found(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(v.pointer, v.message) for v in violations]


def only_violation(violations: list[Violation]) -> Violation:
    assert len(violations) == 1, found(violations)
    return violations[0]


# --- chat --------------------------------------------------------------------------------------


@pytest.fixture
def tool_chunks() -> list[Any]:
    # 0 opens tool call 0, 1..9 stream its arguments, 10 finishes, 11 is the usage chunk.
    return load("chat-tool-stream.sse")


def test_good_chat_streams_pass(chat_operation: Operation, tool_chunks: list[Any]) -> None:
    assert validate_stream(chat_operation, chat_wire(tool_chunks)) == []
    assert validate_stream(chat_operation, (DATA / "chat-stream.sse").read_bytes()) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "chatcmpl-OTHER"), ("model", "gpt-4-0314"), ("created", 1744185999)],
)
def test_chat_chunk_identity_must_not_change(
    chat_operation: Operation, tool_chunks: list[Any], field: str, value: Any
) -> None:
    first = tool_chunks[0][field]
    tool_chunks[3][field] = value
    violation = only_violation(validate_stream(chat_operation, chat_wire(tool_chunks)))
    assert violation.pointer == f"/3/{field}"
    assert violation.keyword == "consistency" and violation.keyword in STREAM_RULES
    assert violation.message == f"{field} is {value!r}, but the stream's first chunk has {first!r}"


def test_a_changed_id_is_reported_once(chat_operation: Operation, tool_chunks: list[Any]) -> None:
    for chunk in tool_chunks[3:]:
        chunk["id"] = "chatcmpl-OTHER"
    assert [v.pointer for v in validate_stream(chat_operation, chat_wire(tool_chunks))] == ["/3/id"]


def test_tool_call_delta_for_an_index_never_opened(
    chat_operation: Operation, tool_chunks: list[Any]
) -> None:
    tool_chunks[5]["choices"][0]["delta"]["tool_calls"][0]["index"] = 1
    violation = only_violation(validate_stream(chat_operation, chat_wire(tool_chunks)))
    assert violation.pointer == "/5/choices/0/delta/tool_calls/0/index"
    assert violation.message == (
        "tool call index 1 of choice 0 was never opened: its first delta must carry "
        "id, type 'function' and function.name"
    )


@pytest.mark.parametrize(
    ("remove", "pointer", "fragment"),
    [
        (("id",), "/0/choices/0/delta/tool_calls/0/id", "lacks id"),
        (("type",), "/0/choices/0/delta/tool_calls/0/type", "type is None, not 'function'"),
        (("function", "name"), "/0/choices/0/delta/tool_calls/0/function/name", "function.name"),
    ],
)
def test_the_first_tool_call_delta_carries_id_type_and_name(
    chat_operation: Operation,
    tool_chunks: list[Any],
    remove: tuple[str, ...],
    pointer: str,
    fragment: str,
) -> None:
    call = tool_chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    *parents, last = remove
    for key in parents:
        call = call[key]
    del call[last]
    violations = [
        v
        for v in validate_stream(chat_operation, chat_wire(tool_chunks))
        if v.keyword in STREAM_RULES
    ]
    violation = only_violation(violations)
    assert violation.pointer == pointer
    assert fragment in violation.message and "opens tool call 0 of choice 0" in violation.message


def test_tool_calls_open_in_order(chat_operation: Operation, tool_chunks: list[Any]) -> None:
    for chunk in tool_chunks[:10]:
        chunk["choices"][0]["delta"]["tool_calls"][0]["index"] = 2
    violation = only_violation(validate_stream(chat_operation, chat_wire(tool_chunks)))
    assert violation.pointer == "/0/choices/0/delta/tool_calls/0/index"
    assert violation.message == "tool call index 2 of choice 0 is opened before index 0"


def test_parallel_tool_calls_pass(chat_operation: Operation, tool_chunks: list[Any]) -> None:
    second = copy.deepcopy(tool_chunks[0])
    second_call = second["choices"][0]["delta"]["tool_calls"][0]
    second_call.update(index=1, id="call_second")
    second["choices"][0]["delta"] = {"tool_calls": [second_call]}
    arguments = copy.deepcopy(tool_chunks[1])
    arguments["choices"][0]["delta"]["tool_calls"][0]["index"] = 1
    chunks = [*tool_chunks[:10], second, arguments, *tool_chunks[10:]]
    assert validate_stream(chat_operation, chat_wire(chunks)) == []


def test_no_chunk_for_a_choice_after_its_finish_reason(
    chat_operation: Operation, tool_chunks: list[Any]
) -> None:
    late = copy.deepcopy(tool_chunks[5])
    chunks = [*tool_chunks[:11], late, tool_chunks[11]]
    violation = only_violation(validate_stream(chat_operation, chat_wire(chunks)))
    assert violation.pointer == "/11/choices/0"
    assert violation.message == (
        "choice 0 continues after chunk 10 carried its finish_reason 'tool_calls'"
    )


def test_choices_finish_independently(chat_operation: Operation) -> None:
    chunks = load("chat-stream.sse")
    # n=2, interleaved: choice 0 finishes first while choice 1 goes on; then the usage chunk.
    other = copy.deepcopy(chunks)
    for chunk in other:
        chunk["choices"][0]["index"] = 1
    interleaved = [chunk for pair in zip(chunks, other, strict=True) for chunk in pair]
    tokens = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    usage = {**chunks[0], "choices": [], "usage": tokens}
    assert validate_stream(chat_operation, chat_wire([*interleaved, usage])) == []
    # Choice 0 again, after it finished.
    violation = only_violation(
        validate_stream(chat_operation, chat_wire([*interleaved, chunks[1]]))
    )
    assert violation.pointer == f"/{len(interleaved)}/choices/0"


# --- in-stream errors --------------------------------------------------------------------------


def test_an_in_stream_error_is_a_valid_end(
    chat_operation: Operation, responses_operation: Operation
) -> None:
    chat = (DATA / "chat-stream-error.sse").read_bytes()
    responses = (DATA / "responses-stream-error.sse").read_bytes()
    assert validate_stream(chat_operation, chat) == []
    assert validate_stream(responses_operation, responses) == []
    assert stream_error(decode_stream(chat)) == (
        2,
        "server_error: The server had an error while processing your request. Sorry about that!",
    )
    assert stream_error(decode_stream(responses)) == (
        5,
        "server_error: The server had an error while processing your request. Sorry about that!",
    )
    assert stream_error(decode_stream((DATA / "chat-stream.sse").read_bytes())) is None


def test_nothing_follows_a_chat_error(chat_operation: Operation) -> None:
    chunks = load("chat-stream-error.sse")
    violation = only_violation(validate_stream(chat_operation, chat_wire([*chunks, chunks[1]])))
    assert violation.pointer == "/3"
    assert violation.message == "an event follows the in-stream error of event 2"
    # The [DONE] a client never reads after the error is harmless.
    assert validate_stream(chat_operation, chat_wire(chunks, done=True)) == []


def test_a_chat_error_needs_a_message(chat_operation: Operation) -> None:
    chunks = [*load("chat-stream-error.sse")[:2], {"error": "boom"}]
    violation = only_violation(validate_stream(chat_operation, chat_wire(chunks, done=False)))
    assert violation.pointer == "/2/error"
    assert "an object with a string message" in violation.message


# --- Responses ---------------------------------------------------------------------------------


@pytest.fixture
def text_events() -> list[Any]:
    # 2 item added, 3 part added, 4-5 deltas, 6 text done, 7 part done, 8 item done, 9 completed.
    return load("responses-stream.sse")


@pytest.fixture
def call_events() -> list[Any]:
    # 2 item added, 3..11 argument deltas, 12 arguments done, 13 item done, 14 completed.
    return load("responses-tool-stream.sse")


def test_good_responses_streams_pass(
    responses_operation: Operation, text_events: list[Any], call_events: list[Any]
) -> None:
    assert validate_stream(responses_operation, typed_wire(text_events)) == []
    assert validate_stream(responses_operation, typed_wire(call_events)) == []


STREAMED = "'Hello! How can I help?'"


@pytest.mark.parametrize(
    ("event", "where", "pointer"),
    [
        (6, ("text",), "/6/text"),
        (7, ("part", "text"), "/7/part/text"),
        (8, ("item", "content", 0, "text"), "/8/item/content/0/text"),
        (9, ("response", "output", 0, "content", 0, "text"), "/9/response/output/0/content/0/text"),
    ],
)
def test_responses_text_must_be_what_was_streamed(
    responses_operation: Operation,
    text_events: list[Any],
    event: int,
    where: tuple[Any, ...],
    pointer: str,
) -> None:
    target = text_events[event]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = "Hello! How can I help you?"
    violation = only_violation(validate_stream(responses_operation, typed_wire(text_events)))
    assert violation.pointer == pointer and violation.keyword == "consistency"
    assert violation.message == (
        "text 'Hello! How can I help you?' is not the text streamed for output 0 content 0, "
        f"{STREAMED} (first difference at offset 21)"
    )


@pytest.mark.parametrize(
    ("event", "where", "pointer"),
    [
        (12, ("arguments",), "/12/arguments"),
        (13, ("item", "arguments"), "/13/item/arguments"),
        (14, ("response", "output", 0, "arguments"), "/14/response/output/0/arguments"),
    ],
)
def test_responses_arguments_must_be_what_was_streamed(
    responses_operation: Operation,
    call_events: list[Any],
    event: int,
    where: tuple[Any, ...],
    pointer: str,
) -> None:
    target = call_events[event]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = '{"city": "Tokyo"}'
    violation = only_violation(validate_stream(responses_operation, typed_wire(call_events)))
    assert violation.pointer == pointer
    assert violation.message.startswith(
        'arguments \'{"city": "Tokyo"}\' is not the arguments streamed for output 0, '
    )


def test_completed_function_call_keeps_its_name(
    responses_operation: Operation, call_events: list[Any]
) -> None:
    call_events[14]["response"]["output"][0]["name"] = "get_time"
    violation = only_violation(validate_stream(responses_operation, typed_wire(call_events)))
    assert violation.pointer == "/14/response/output/0/name"
    assert violation.message == (
        "name 'get_time' is not the name output_item.added gave output 0, 'get_weather'"
    )


def test_completed_output_holds_every_streamed_item(
    responses_operation: Operation, text_events: list[Any]
) -> None:
    text_events[9]["response"]["output"] = []
    violation = only_violation(validate_stream(responses_operation, typed_wire(text_events)))
    assert violation.pointer == "/9/response/output"
    assert violation.message == "response.completed holds 0 output item(s), but the stream added 1"


def test_a_long_difference_is_shown_around_where_it_starts(
    responses_operation: Operation, text_events: list[Any]
) -> None:
    long_text = "word " * 100
    text_events[4]["delta"] = long_text
    for event, where in ((6, ("text",)), (7, ("part", "text"))):
        target = text_events[event]
        for key in where[:-1]:
            target = target[key]
        target[where[-1]] = long_text + " How can I help?"
    text_events[8]["item"]["content"][0]["text"] = long_text + " How can I help?"
    text_events[9]["response"]["output"][0]["content"][0]["text"] = long_text + " How can I help!"
    violation = only_violation(validate_stream(responses_operation, typed_wire(text_events)))
    assert violation.pointer == "/9/response/output/0/content/0/text"
    assert len(violation.message) < 300, violation.message
    assert "(first difference at offset 515)" in violation.message


# --- how a stream ends: every choice finished, the final Response the one created ---------------


def test_a_chat_stream_that_ends_without_a_finish_reason(
    chat_operation: Operation, tool_chunks: list[Any]
) -> None:
    # Every finish_reason null, then [DONE], as a truncated upstream sends it: the SDK's
    # get_final_completion() then holds finish_reason None, which its ChatCompletion forbids.
    chunks = copy.deepcopy(tool_chunks)
    chunks[10]["choices"][0]["finish_reason"] = None
    violation = only_violation(validate_stream(chat_operation, chat_wire(chunks)))
    assert violation.pointer == ""
    assert violation.message == (
        "choice 0 never carried a finish_reason, yet the stream ended with data: [DONE]"
    )
    # Cut short (no [DONE]) or ended by an error, it is that which is reported, not this.
    cut = validate_stream(chat_operation, chat_wire(chunks, done=False))
    assert [v.message for v in cut] == ["the stream does not end with data: [DONE]"]
    failed = [*load("chat-stream-error.sse")]
    assert validate_stream(chat_operation, chat_wire(failed, done=False)) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("status", "in_progress"),
            "response.completed carries a response whose status is 'in_progress', not 'completed'",
        ),
        (
            ("id", "resp_another"),
            "response.completed carries response 'resp_another', but response.created "
            "created '{created}'",
        ),
    ],
)
def test_the_final_response_is_the_one_created_and_says_how_it_ended(
    responses_operation: Operation,
    text_events: list[Any],
    change: tuple[str, str],
    message: str,
) -> None:
    events = copy.deepcopy(text_events)
    name, value = change
    events[9]["response"][name] = value
    violation = only_violation(validate_stream(responses_operation, typed_wire(events)))
    assert violation.pointer == f"/9/response/{name}"
    assert violation.message == message.format(created=text_events[0]["response"]["id"])

"""Structure comparison: what counts as a difference, and what never does."""

from __future__ import annotations

import json
from typing import Any

from harness.cassettes.structure import (
    Answer,
    Difference,
    compare_answers,
    compare_json_bodies,
    compare_streams,
    stream_structure,
)

JSON_HEADERS = {"content-type": "application/json"}

COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-BKKWkzVpUFHEDbw7MlOsqBIbm9Vi2",
    "object": "chat.completion",
    "created": 1744185166,
    "model": "gpt-4-0613",
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "logprobs": None,
            "message": {"role": "assistant", "content": "Hello!", "refusal": None},
        }
    ],
    "usage": {"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10},
}


def body(payload: Any) -> bytes:
    return json.dumps(payload).encode("utf-8")


def changed(path: list[Any], value: Any, payload: dict[str, Any] = COMPLETION) -> bytes:
    copy = json.loads(json.dumps(payload))
    here = copy
    for step in path[:-1]:
        here = here[step]
    if value is _DROP:
        del here[path[-1]]
    else:
        here[path[-1]] = value
    return body(copy)


_DROP = object()


def test_content_token_counts_ids_and_timestamps_are_never_a_difference() -> None:
    other = json.loads(json.dumps(COMPLETION))
    other["id"] = "chatcmpl-" + "Z" * 29
    other["created"] = 1800000000
    other["choices"][0]["message"]["content"] = "A much longer answer, with other words in it."
    other["usage"] = {"prompt_tokens": 99, "completion_tokens": 51, "total_tokens": 150}
    assert compare_json_bodies(body(COMPLETION), body(other)) == []


def test_an_extra_key_a_missing_key_and_null_versus_absent() -> None:
    extra = changed(["output_text"], "Hello!")
    assert compare_json_bodies(body(COMPLETION), extra) == [
        Difference("/output_text", "presence", "absent", "string")
    ]
    missing = changed(["choices", 0, "message", "refusal"], _DROP)
    assert compare_json_bodies(body(COMPLETION), missing) == [
        Difference("/choices/[]/message/refusal", "presence", "null", "absent")
    ]
    filled = changed(["choices", 0, "logprobs"], {"content": [], "refusal": None})
    assert compare_json_bodies(body(COMPLETION), filled) == [
        Difference("/choices/[]/logprobs", "JSON type", "null", "object")
    ]


def test_enum_values_ids_and_the_choice_count_are_structure() -> None:
    assert compare_json_bodies(
        body(COMPLETION), changed(["choices", 0, "finish_reason"], "length")
    ) == [Difference("/choices/[]/finish_reason", "value", "stop", "length")]
    assert compare_json_bodies(body(COMPLETION), changed(["object"], "chat.completion.chunk")) == [
        Difference("/object", "value", "chat.completion", "chat.completion.chunk")
    ]
    assert compare_json_bodies(body(COMPLETION), changed(["id"], "cmpl-" + "x" * 33)) == [
        Difference("/id", "id prefix", "chatcmpl-", "cmpl-")
    ]
    assert compare_json_bodies(body(COMPLETION), changed(["id"], "chatcmpl-abc")) == [
        Difference("/id", "id length", "38", "12")
    ]
    two = json.loads(json.dumps(COMPLETION))
    two["choices"].append(dict(two["choices"][0], index=1))
    assert compare_json_bodies(body(COMPLETION), body(two)) == [
        Difference("/choices", "count", "1", "2")
    ]


def test_array_items_are_compared_as_the_union_of_their_keys() -> None:
    calls = [
        {"id": "call_" + "a" * 24, "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ]
    recorded = changed(["choices", 0, "message", "tool_calls"], calls)
    # Three calls instead of one: the same item structure, no difference.
    target = changed(["choices", 0, "message", "tool_calls"], calls * 3)
    assert compare_json_bodies(recorded, target) == []
    # An empty array says nothing about its items.
    assert compare_json_bodies(recorded, changed(["choices", 0, "message", "tool_calls"], [])) == []
    strict = [dict(calls[0], strict=True)]
    assert compare_json_bodies(
        recorded, changed(["choices", 0, "message", "tool_calls"], strict)
    ) == [Difference("/choices/[]/message/tool_calls/[]/strict", "presence", "absent", "boolean")]


def chat_stream(
    texts: list[str], *, done: bool = True, extra: dict[str, Any] | None = None
) -> bytes:
    base = {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    chunks = [
        {
            **base,
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
            ],
        }
    ]
    chunks += [
        {
            **base,
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
            **(extra or {}),
        }
        for text in texts
    ]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    frames = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
    if done:
        frames.append("data: [DONE]\n\n")
    return "".join(frames).encode("utf-8")


def test_a_chat_stream_is_a_sequence_of_chunk_kinds_with_content_runs_collapsed() -> None:
    assert stream_structure(chat_stream(["Hel", "lo", "!"])).sequence == [
        "first delta",
        "content delta",
        "finish chunk",
        "[DONE]",
    ]
    # Another text length is the same structure.
    assert compare_streams(chat_stream(["Hel", "lo", "!"]), chat_stream(["Hi"] * 40)) == []


def test_a_dropped_done_an_extra_chunk_key_and_a_reordering_are_caught() -> None:
    recorded = chat_stream(["a", "b"])
    assert compare_streams(recorded, chat_stream(["a", "b"], done=False)) == [
        Difference("[DONE]", "event", "present, after finish chunk", "absent")
    ]
    assert compare_streams(recorded, chat_stream(["a", "b"], extra={"obfuscation": "xyz"})) == [
        Difference("content delta /obfuscation", "presence", "absent", "string")
    ]
    frames = recorded.decode().split("\n\n")
    frames[-3], frames[-2] = frames[-2], frames[-3]  # [DONE] before the finish chunk
    (moved,) = compare_streams(recorded, "\n\n".join(frames).encode())
    assert moved.aspect == "event order"
    assert moved.location in ("finish chunk", "[DONE]")


def responses_stream(deltas: int, *, swap: bool = False) -> bytes:
    events: list[dict[str, Any]] = [
        {
            "type": "response.created",
            "sequence_number": 0,
            "response": {"id": "resp_1", "status": "in_progress"},
        },
        {"type": "response.output_item.added", "output_index": 0, "item": {"type": "message"}},
        {
            "type": "response.content_part.added",
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text"},
        },
    ]
    events += [
        {"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "x"}
        for _ in range(deltas)
    ]
    events += [
        {"type": "response.output_text.done", "output_index": 0, "content_index": 0, "text": "x"},
        {"type": "response.completed", "response": {"id": "resp_1", "status": "completed"}},
    ]
    if swap:
        events[1], events[2] = events[2], events[1]
    return "".join(
        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events
    ).encode("utf-8")


def test_a_responses_stream_is_its_typed_events_with_their_indexes() -> None:
    assert stream_structure(responses_stream(3)).sequence == [
        "response.created",
        "response.output_item.added[0]",
        "response.content_part.added[0/0]",
        "response.output_text.delta[0/0]",
        "response.output_text.done[0/0]",
        "response.completed",
    ]
    assert compare_streams(responses_stream(3), responses_stream(17)) == []
    (moved,) = compare_streams(responses_stream(3), responses_stream(3, swap=True))
    assert moved.aspect == "event order"
    assert moved.location in ("response.output_item.added[0]", "response.content_part.added[0/0]")


def test_sse_framing_headers_and_status_are_compared() -> None:
    with_names = responses_stream(1)
    without = b"".join(
        line + b"\n" for line in with_names.split(b"\n") if not line.startswith(b"event:")
    )
    found = compare_streams(with_names, without)
    assert Difference("response.created", "SSE framing", "event: <type>", "no event: line") in found

    recorded = Answer(200, {"content-type": "application/json", "x-request-id": "req_1"}, b"{}")
    target = Answer(200, {"content-type": "text/plain"}, b"{}")
    assert compare_answers(recorded, target) == [
        Difference("header content-type", "value", "application/json", "text/plain"),
        Difference("header x-request-id", "presence", "present", "absent"),
    ]


def test_a_status_difference_is_reported_alone_with_what_the_target_said() -> None:
    refused = body(
        {
            "error": {
                "message": "Missing required parameter: 'tools[0].strict'.",
                "type": "invalid_request_error",
                "param": "tools[0].strict",
                "code": "missing_required_parameter",
            }
        }
    )
    (found,) = compare_answers(
        Answer(200, JSON_HEADERS, body(COMPLETION)), Answer(400, JSON_HEADERS, refused)
    )
    assert (found.location, found.recorded, found.target) == ("status", "200", "400")
    assert "tools[0].strict" in found.detail


def test_the_error_envelope_type_code_and_param_presence() -> None:
    error = {
        "error": {
            "message": "m",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
    other = json.loads(json.dumps(error))
    other["error"].update(message="another text", param="model", code="model_not_found", type="x")
    assert sorted(compare_json_bodies(body(error), body(other))) == [
        Difference("/error/code", "value", "invalid_api_key", "model_not_found"),
        Difference("/error/param", "JSON type", "null", "string"),
        Difference("/error/type", "value", "invalid_request_error", "x"),
    ]


def test_hostile_bodies_do_not_break_the_comparison() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert compare_json_bodies(deep, deep) == []
    assert compare_json_bodies(b"{}", b"not json") == [Difference("/", "body", "JSON", "not JSON")]
    assert stream_structure(b"\xff\xfe").sequence == ["undecodable stream"]


def test_responses_sequence_numbers_must_count_up_by_one() -> None:
    def numbered(numbers: list[int]) -> bytes:
        return "".join(
            f"event: response.output_text.delta\ndata: "
            f'{{"type":"response.output_text.delta","sequence_number":{n},"delta":"x"}}\n\n'
            for n in numbers
        ).encode()

    assert compare_streams(numbered([0, 1, 2]), numbered([0, 1, 2, 3, 4])) == []
    assert compare_streams(numbered([0, 1, 2]), numbered([0, 2, 1])) == [
        Difference("sequence_number", "numbering", "counts up by one", "gaps or disorder")
    ]

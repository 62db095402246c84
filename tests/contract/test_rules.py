"""The rules the contract checks add beyond the schemas (harness.validate), on the mock's wire."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from harness.spec import Operation
from harness.sse import decode_stream, encode_json_event
from harness.validate import (
    STREAM_RULES,
    validate_finish_reasons,
    validate_stream,
    validate_usage,
)
from mockserver import MockConfig, create_app

AUTH = {"Authorization": "Bearer k"}
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
RESPONSES_TOOL = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object"},
    "strict": False,
}


@pytest.fixture(scope="module")
def client() -> Iterator[FlaskClient]:
    yield create_app(MockConfig()).test_client()


def post(client: FlaskClient, path: str, body: dict[str, Any]) -> Any:
    response = client.post(path, json=body, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data() if body.get("stream") else response.get_json()


def chat(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-4", "messages": [{"role": "user", "content": "hello"}], **fields}


def responses(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-4", "input": "hello there", **fields}


@pytest.mark.parametrize(
    "request_body",
    [
        chat(),
        chat(max_tokens=2),
        chat(tools=[TOOL], tool_choice="required"),
        chat(stream=True),
        chat(stream=True, stream_options={"include_usage": True}),
        chat(stream=True, max_tokens=1, tools=[TOOL]),
    ],
)
def test_mock_chat_answers_keep_every_rule(
    client: FlaskClient, chat_operation: Operation, request_body: dict[str, Any]
) -> None:
    reply = post(client, "/v1/chat/completions", request_body)
    assert validate_usage(chat_operation, request_body, reply) == []
    assert validate_finish_reasons(chat_operation, request_body, reply) == []


@pytest.mark.parametrize(
    "request_body",
    [
        responses(),
        responses(max_output_tokens=16, input="tell me a long story " * 20),
        responses(tools=[RESPONSES_TOOL], tool_choice="required"),
        responses(stream=True),
        responses(stream=True, tools=[RESPONSES_TOOL], tool_choice="required"),
    ],
)
def test_mock_responses_answers_keep_every_rule(
    client: FlaskClient, responses_operation: Operation, request_body: dict[str, Any]
) -> None:
    reply = post(client, "/v1/responses", request_body)
    if request_body.get("stream"):
        assert validate_stream(responses_operation, reply) == []
    assert validate_usage(responses_operation, request_body, reply) == []
    assert validate_finish_reasons(responses_operation, request_body, reply) == []


def test_usage_must_add_up(chat_operation: Operation, responses_operation: Operation) -> None:
    body = {"usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 8}}
    (violation,) = validate_usage(chat_operation, None, body)
    assert violation.pointer == "/usage/total_tokens"
    assert violation.message == "total_tokens is 8, but prompt_tokens + completion_tokens = 7"
    body = {"usage": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}}
    assert validate_usage(responses_operation, None, body) == []


def chat_stream(client: FlaskClient, **fields: Any) -> list[dict[str, Any]]:
    wire = post(client, "/v1/chat/completions", chat(stream=True, **fields))
    return [event.json() for event in decode_stream(wire) if event.data != "[DONE]"]


def wire(chunks: list[dict[str, Any]]) -> bytes:
    return b"".join(encode_json_event(chunk) for chunk in chunks) + b"data: [DONE]\n\n"


def test_usage_chunk_only_when_asked(client: FlaskClient, chat_operation: Operation) -> None:
    with_usage = chat_stream(client, stream_options={"include_usage": True})
    asked = chat(stream=True, stream_options={"include_usage": True})
    # Asked for, but the usage chunk is missing.
    (missing,) = validate_usage(chat_operation, asked, wire(with_usage[:-1]))
    assert "no chunk carries usage" in missing.message
    # Sent although nobody asked.
    (unasked,) = validate_usage(chat_operation, chat(stream=True), wire(with_usage))
    assert "was not sent" in unasked.message
    # The usage chunk must be the one with no choices.
    moved = [*with_usage[:-2], {**with_usage[-2], "usage": with_usage[-1]["usage"]}]
    (misplaced,) = validate_usage(chat_operation, asked, wire(moved))
    assert "choices is empty" in misplaced.message


def test_length_needs_a_limit_and_tool_calls_need_tools(chat_operation: Operation) -> None:
    body = {
        "choices": [
            {"index": 0, "finish_reason": "length", "message": {"content": "x"}},
            {
                "index": 1,
                "finish_reason": "tool_calls",
                "message": {"tool_calls": [{"function": {"name": "rm_rf", "arguments": "{}"}}]},
            },
        ]
    }
    found = {v.pointer: v.message for v in validate_finish_reasons(chat_operation, chat(), body)}
    assert set(found) == {
        "/choices/0/finish_reason",
        "/choices/1/finish_reason",
        "/choices/1/message/tool_calls/0",
    }
    assert validate_finish_reasons(chat_operation, chat(max_tokens=1), body)[0].pointer == (
        "/choices/1/finish_reason"
    )
    with_tool = chat(tools=[TOOL], tool_choice="none")
    assert "/choices/1/finish_reason" in {
        v.pointer for v in validate_finish_reasons(chat_operation, with_tool, body)
    }


def test_responses_incomplete_and_function_calls(responses_operation: Operation) -> None:
    body = {
        "incomplete_details": {"reason": "max_output_tokens"},
        "output": [{"type": "function_call", "name": "get_weather", "arguments": "{}"}],
    }
    found = [v.pointer for v in validate_finish_reasons(responses_operation, responses(), body)]
    assert found == ["/incomplete_details/reason", "/output/0"]
    allowed = responses(max_output_tokens=16, tools=[RESPONSES_TOOL])
    assert validate_finish_reasons(responses_operation, allowed, body) == []


def responses_events(client: FlaskClient) -> list[dict[str, Any]]:
    reply = post(client, "/v1/responses", responses(stream=True))
    return [event.json() for event in decode_stream(reply)]


def typed_wire(events: list[dict[str, Any]]) -> bytes:
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return b"".join(encode_json_event(event, event["type"]) for event in events)


def index_rules(operation: Operation, events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (v.pointer, v.message)
        for v in validate_stream(operation, typed_wire(events))
        if v.keyword in STREAM_RULES
    ]


def test_output_and_content_indexes_must_point_at_opened_items(
    client: FlaskClient, responses_operation: Operation
) -> None:
    events = responses_events(client)
    assert index_rules(responses_operation, events) == []
    kinds = [event["type"] for event in events]
    delta = kinds.index("response.output_text.delta")

    skipped = json.loads(json.dumps(events))
    for event in skipped[2:-1]:
        event["output_index"] = 1
    assert ("/2/output_index", "output_index is 1, expected 0") in index_rules(
        responses_operation, skipped
    )

    wrong_part = json.loads(json.dumps(events))
    wrong_part[delta]["content_index"] = 3
    assert index_rules(responses_operation, wrong_part) == [
        (f"/{delta}/content_index", "content_index 3 names no part of output item 0 (1 added)")
    ]

    wrong_id = json.loads(json.dumps(events))
    wrong_id[delta]["item_id"] = "msg_other"
    ((pointer, message),) = index_rules(responses_operation, wrong_id)
    assert pointer == f"/{delta}/item_id" and "is not output item 0's id" in message

    after_done = json.loads(json.dumps(events))
    done = kinds.index("response.output_item.done")
    after_done.insert(done + 1, after_done.pop(delta))
    assert any(
        "after item 0 was done" in message
        for _, message in index_rules(responses_operation, after_done)
    )

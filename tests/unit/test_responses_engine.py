"""The Responses planner and renderers: one plan, rendered as a JSON body and as stream events.

The last tests drive the whole app through Flask's test client with request bodies generated
from the effective spec: every body the spec accepts gets a 200 that the spec accepts too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import schemathesis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings

from harness.spec import EVENT_STREAM, Operation, SpecSet
from harness.sse import decode_stream
from harness.validate import validate_event, validate_response, validate_stream
from mockserver import MockConfig, create_app
from mockserver.engine.responses import (
    EchoedSettings,
    FunctionCallOutput,
    MessageOutput,
    ResponsesPlan,
    input_messages,
    plan_response,
)
from mockserver.engine.tokens import count_message_tokens, count_tokens, count_tool_tokens
from mockserver.render.responses import response_body, response_events, response_snapshot
from mockserver.render.stream import sse_frames

MODEL = "gpt-4"
QUESTION = "Explain how contract testing helps API teams"
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather in a given location.",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["location", "unit"],
        "additionalProperties": False,
    },
    "strict": True,
}
TIME_TOOL = {
    "type": "function",
    "name": "get_local_time",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    "strict": False,
}
WEATHER_AND_TIME = "Weather in Oslo and the local time there?"
TEXT_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]
CALL_EVENTS = [
    "response.output_item.added",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
]


def plan(**body: Any) -> ResponsesPlan:
    return plan_response({"model": MODEL, **body})


def collapsed(types: list[str]) -> list[str]:
    """Event types with runs of deltas folded into one."""
    folded: list[str] = []
    for event_type in types:
        if not (event_type.endswith(".delta") and folded and folded[-1] == event_type):
            folded.append(event_type)
    return folded


def stream_text(plan_: ResponsesPlan) -> bytes:
    return b"".join(sse_frames(response_events(plan_), done_marker=False, typed=True))


# --------------------------------------------------------------------------- planning


def test_string_input_is_one_user_message() -> None:
    as_string = plan(input="Hello")
    as_items = plan(input=[{"role": "user", "content": [{"type": "input_text", "text": "Hello"}]}])
    assert as_string.output_text == as_items.output_text == "Hello! How can I assist you today?"
    # OpenAI counts {"role": "user", "content": "Hello"} as 8 prompt tokens for gpt-4.
    assert as_string.input_tokens == as_items.input_tokens == 8
    assert as_string.output_tokens == count_tokens(as_string.output_text)
    assert as_string.total_tokens == 8 + as_string.output_tokens


def test_ids_and_model_look_like_the_real_ones() -> None:
    result = plan(input="Hello")
    assert result.id.startswith("resp_") and len(result.id) == len("resp_") + 48
    assert result.output[0].id.startswith("msg_")
    assert result.model == "gpt-4-0613"
    assert plan(input="Hello").id != result.id


def test_instructions_count_as_a_developer_message() -> None:
    instructions = "Answer like a pirate."
    plain = plan(input="Hello")
    instructed = plan(input="Hello", instructions=instructions)
    developer = count_message_tokens([{"role": "developer", "content": instructions}])
    # Both counts include the 3 reply-priming tokens once.
    assert instructed.input_tokens == plain.input_tokens + developer - 3
    assert instructed.settings.instructions == instructions


def test_function_tools_count_like_chat_tools() -> None:
    with_tool = plan(input="Hello", tools=[WEATHER_TOOL])
    chat_tool = {
        "type": "function",
        "function": {k: WEATHER_TOOL[k] for k in ("name", "description", "parameters")},
    }
    tool_tokens = count_tool_tokens([chat_tool])
    assert with_tool.input_tokens == plan(input="Hello").input_tokens + tool_tokens


def test_delivery_fields_do_not_change_the_content() -> None:
    base = plan(input=QUESTION)
    for extra in (
        {"stream": True},
        {"store": True},
        {"metadata": {"run": "7"}},
        {"user": "u-1"},
        {"max_output_tokens": 4096},
        {"truncation": "auto"},
    ):
        assert plan(input=QUESTION, **extra).output_text == base.output_text, extra
    assert plan(input=QUESTION, seed=3).output_text != base.output_text


def test_max_output_tokens_cuts_the_same_text() -> None:
    full = plan(input=QUESTION)
    assert full.output_tokens > 16
    cut = plan(input=QUESTION, max_output_tokens=16)
    assert cut.status == "incomplete"
    assert cut.incomplete_reason == "max_output_tokens"
    assert cut.output_tokens == 16 == count_tokens(cut.output_text)
    assert full.output_text.startswith(cut.output_text)
    message = cut.output[0]
    assert isinstance(message, MessageOutput) and message.status == "incomplete"
    body = response_body(cut)
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["usage"]["output_tokens"] == 16


def test_json_schema_format_gives_valid_json() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "temperature_c": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        "required": ["city", "temperature_c", "tags"],
        "additionalProperties": False,
    }
    text = {"format": {"type": "json_schema", "name": "weather", "schema": schema, "strict": True}}
    result = plan(input="Weather in Paris as JSON", text=text)
    jsonschema.validate(json.loads(result.output_text), schema)
    echoed = response_body(result)["text"]["format"]
    assert echoed == {**text["format"], "description": None}


def test_json_object_format_gives_a_json_object() -> None:
    result = plan(input=QUESTION, text={"format": {"type": "json_object"}})
    assert isinstance(json.loads(result.output_text), dict)


def test_unusable_schemas_still_get_an_answer() -> None:
    # The spec accepts any object as a schema; the mock answers instead of refusing.
    impossible = {"type": "string", "minLength": 5, "maxLength": 2}
    not_a_schema = {"type": 5}
    text = {"format": {"type": "json_schema", "name": "x", "schema": not_a_schema}}
    assert isinstance(json.loads(plan(input="Hi", text=text).output_text), dict)
    tool = {**WEATHER_TOOL, "parameters": impossible}
    result = plan(input="weather?", tools=[tool], tool_choice="required")
    call = result.output[0]
    assert isinstance(call, FunctionCallOutput)
    assert isinstance(json.loads(call.call.arguments), dict)


def test_function_call_items() -> None:
    result = plan(input="What's the weather in Paris?", tools=[WEATHER_TOOL])
    assert result.output_text == ""
    [item] = result.output
    assert isinstance(item, FunctionCallOutput)
    assert item.id.startswith("fc_") and item.call.call_id.startswith("call_")
    assert item.status == "completed"
    assert item.call.name == "get_weather"
    jsonschema.validate(json.loads(item.call.arguments), WEATHER_TOOL["parameters"])
    # As for chat: the arguments' tokens and the function name's.
    arguments_tokens = sum(piece.tokens for piece in item.call.argument_pieces)
    assert result.output_tokens == arguments_tokens + count_tokens("get_weather")
    body_item = response_body(result)["output"][0]
    assert body_item == {
        "id": item.id,
        "type": "function_call",
        "status": "completed",
        "arguments": item.call.arguments,
        "call_id": item.call.call_id,
        "name": "get_weather",
    }


@pytest.mark.parametrize(
    ("body", "names"),
    [
        pytest.param({"tool_choice": "none"}, [], id="none"),
        pytest.param({"tool_choice": "auto"}, ["get_weather", "get_local_time"], id="auto"),
        pytest.param({"parallel_tool_calls": False}, ["get_weather"], id="not-parallel"),
        pytest.param(
            {"tool_choice": {"type": "function", "name": "get_local_time"}},
            ["get_local_time"],
            id="named",
        ),
        pytest.param(
            {"tool_choice": {"type": "mcp"}}, ["get_weather", "get_local_time"], id="hosted"
        ),
    ],
)
def test_tool_choice(body: dict[str, Any], names: list[str]) -> None:
    result = plan(input=WEATHER_AND_TIME, tools=[WEATHER_TOOL, TIME_TOOL], **body)
    calls = [item.call.name for item in result.output if isinstance(item, FunctionCallOutput)]
    assert calls == names
    assert bool(calls) != bool(result.output_text)


def test_required_calls_even_without_a_mention() -> None:
    result = plan(input="Hello", tools=[WEATHER_TOOL], tool_choice="required")
    assert [type(item) for item in result.output] == [FunctionCallOutput]


def test_function_call_output_is_answered_with_text() -> None:
    first = plan(input="What's the weather in Paris?", tools=[WEATHER_TOOL])
    call = first.output[0]
    assert isinstance(call, FunctionCallOutput)
    replay = response_body(first)["output"]
    follow_up = plan(
        input=[
            {"role": "user", "content": "What's the weather in Paris?"},
            *replay,
            {
                "type": "function_call_output",
                "call_id": call.call.call_id,
                "output": '{"temp": 21}',
            },
        ],
        tools=[WEATHER_TOOL],
    )
    assert [type(item) for item in follow_up.output] == [MessageOutput]
    assert "21" in follow_up.output_text


def test_history_answers_like_the_conversation_sent_inline() -> None:
    first = plan(input=QUESTION)
    inline = plan(
        input=[
            {"role": "user", "content": QUESTION},
            *response_body(first)["output"],
            {"role": "user", "content": "Tell me more"},
        ]
    )
    chained = plan_response(
        {"model": MODEL, "input": "Tell me more", "previous_response_id": first.id},
        history=first.conversation,
    )
    assert chained.output_text == inline.output_text
    assert chained.input_tokens == inline.input_tokens
    assert chained.input_tokens > first.input_tokens + first.output_tokens
    assert chained.settings.previous_response_id == first.id
    assert chained.conversation[: len(first.conversation)] == first.conversation


def test_items_the_model_cannot_read_are_ignored() -> None:
    items: list[Any] = [
        {"type": "item_reference", "id": "msg_1"},
        {"type": "mcp_list_tools", "id": "x", "server_label": "s", "tools": []},
        {"role": "user", "content": [{"type": "input_file", "filename": "a.pdf"}]},
        {"role": "user", "content": "Hello"},
        "not an item",
    ]
    assert input_messages(items) == [
        {"role": "user", "content": ""},
        {"role": "user", "content": "Hello"},
    ]
    assert plan(input=items).output_text == plan(input="Hello").output_text


def test_echoed_settings() -> None:
    defaults = plan(input="Hello").settings
    assert defaults == EchoedSettings()
    body = response_body(plan(input="Hello"))
    assert body["temperature"] == 1.0 and body["top_p"] == 1.0
    assert body["text"] == {"format": {"type": "text"}}
    assert body["tool_choice"] == "auto" and body["tools"] == []
    assert body["truncation"] == "disabled" and body["metadata"] == {}
    assert body["reasoning"] == {"effort": None, "summary": None}
    assert body["store"] is False and body["background"] is False
    assert body["service_tier"] == "default" and body["error"] is None
    given_ = plan(
        input="Hello",
        temperature=0.2,
        top_p=0.5,
        store=True,
        metadata={"k": "v"},
        user="u",
        truncation="auto",
        max_output_tokens=64,
        parallel_tool_calls=False,
        tools=[TIME_TOOL],
        tool_choice="none",
    )
    body = response_body(given_)
    assert (body["temperature"], body["top_p"], body["store"], body["user"]) == (
        0.2,
        0.5,
        True,
        "u",
    )
    assert (body["metadata"], body["truncation"], body["max_output_tokens"]) == (
        {"k": "v"},
        "auto",
        64,
    )
    assert body["parallel_tool_calls"] is False and body["tool_choice"] == "none"
    assert body["tools"] == [{**TIME_TOOL, "description": None}]


MCP_TOKEN = "mcp-Tk12Ab34Cd56"
MCP_OAUTH = "oauth-Ef78Gh90Ij12"


@pytest.mark.parametrize(
    ("sent_url", "echoed_url"),
    [
        ("https://mcp.stripe.com/v1/abc?key=zz#top", "https://mcp.stripe.com"),
        ("https://user:pw@Example.COM:8443/mcp", "https://Example.COM:8443"),
        ("https://example.com", "https://example.com"),
        ("example.com/mcp", "example.com"),  # the guide's own example, schemeless
        ("https://[::1/mcp", "https://[::1"),  # what urlsplit refuses is cut all the same
        ("https://host?key=zz", "https://host"),
        ("https://host#key=zz", "https://host"),
        ("https://host\\key?zz", "https://host"),
        ("https://user:p/w?d@host/mcp", "https://host"),  # no part of a password
        ("https://host/users/@me", "https://me"),  # an odd host, and nothing of the path
        ("", ""),
    ],
)
def test_an_mcp_tool_is_echoed_without_its_credentials_or_its_urls_path(
    sent_url: str, echoed_url: str
) -> None:
    # OpenAI's remote MCP guide: the `headers` values "will also not be visible in the
    # Response object created", and the path of `server_url` is discarded in responses
    # ("example.com/mcp becomes example.com"), since some servers put a credential there.
    tool = {
        "type": "mcp",
        "server_label": "docs",
        "server_url": sent_url,
        "headers": {"Authorization": f"Bearer {MCP_TOKEN}"},
        "authorization": MCP_OAUTH,
        "require_approval": "never",
        "allowed_tools": ["search"],
    }
    planned = plan(input="Hello", tools=[tool], store=True)
    echoed = {
        "type": "mcp",
        "server_label": "docs",
        "server_url": echoed_url,
        "headers": None,
        "require_approval": "never",
        "allowed_tools": ["search"],
    }
    assert response_body(planned)["tools"] == [echoed]
    events = list(response_events(planned))
    snapshots = [event["response"]["tools"] for event in events if "response" in event]
    assert len(snapshots) >= 2 and all(tools == [echoed] for tools in snapshots)
    frames = b"".join(sse_frames(events, done_marker=False, typed=True)).decode()
    assert MCP_TOKEN not in frames and MCP_OAUTH not in frames and "/v1/abc" not in frames
    assert tool["headers"] == {"Authorization": f"Bearer {MCP_TOKEN}"}  # the body is untouched


def test_an_mcp_tool_sent_without_headers_is_echoed_as_sent() -> None:
    tool = {"type": "mcp", "server_label": "docs", "server_url": "https://example.com"}
    assert response_body(plan(input="Hello", tools=[tool]))["tools"] == [tool]


def test_a_connectors_oauth_token_is_not_echoed_without_headers_either() -> None:
    tool = {"type": "mcp", "server_label": "drive", "server_url": "https://example.com"}
    echoed = response_body(plan(input="Hello", tools=[{**tool, "authorization": MCP_OAUTH}]))
    assert echoed["tools"] == [tool]


def test_reply_override_scripts_the_answer() -> None:
    scripted = plan_response({"model": MODEL, "input": "Hi"}, reply_override={"text": "Scripted."})
    assert scripted.output_text == "Scripted."
    called = plan_response(
        {"model": MODEL, "input": "Hi"},
        reply_override={"tool_call": {"name": "lookup", "arguments": {"q": "x"}}},
    )
    call = called.output[0]
    assert isinstance(call, FunctionCallOutput)
    assert (call.call.name, json.loads(call.call.arguments)) == ("lookup", {"q": "x"})


# --------------------------------------------------------------------------- rendering


def test_text_events_come_in_the_real_order() -> None:
    events = list(response_events(plan(input=QUESTION)))
    assert collapsed([event["type"] for event in events]) == TEXT_EVENTS
    assert [event["sequence_number"] for event in events] == list(range(len(events)))


def test_function_call_events_come_in_the_real_order() -> None:
    result = plan(input=WEATHER_AND_TIME, tools=[WEATHER_TOOL, TIME_TOOL])
    events = list(response_events(result))
    types = collapsed([event["type"] for event in events])
    assert types == [
        "response.created",
        "response.in_progress",
        *CALL_EVENTS,
        *CALL_EVENTS,
        "response.completed",
    ]
    done = [event for event in events if event["type"] == "response.function_call_arguments.done"]
    assert [event["name"] for event in done] == ["get_weather", "get_local_time"]


def test_indexes_and_item_ids_are_consistent() -> None:
    result = plan(input=WEATHER_AND_TIME, tools=[WEATHER_TOOL, TIME_TOOL])
    opened: dict[int, str] = {}
    for event in response_events(result):
        if event["type"] == "response.output_item.added":
            assert event["output_index"] == len(opened), "items are added in output order"
            opened[event["output_index"]] = event["item"]["id"]
            assert event["item"]["status"] == "in_progress"
        elif "item_id" in event:
            assert opened[event["output_index"]] == event["item_id"]
        if "content_index" in event:
            assert event["content_index"] == 0
    assert list(opened.values()) == [item.id for item in result.output]


def accumulate(events: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rebuild the output from the deltas, as the SDK's stream accumulator does."""
    output: list[dict[str, Any]] = []
    for event in events:
        kind = event["type"]
        if kind == "response.output_item.added":
            output.append(json.loads(json.dumps(event["item"])))
        elif kind == "response.content_part.added":
            output[event["output_index"]]["content"].append(dict(event["part"]))
        elif kind == "response.output_text.delta":
            output[event["output_index"]]["content"][event["content_index"]]["text"] += event[
                "delta"
            ]
        elif kind == "response.function_call_arguments.delta":
            output[event["output_index"]]["arguments"] += event["delta"]
        elif kind == "response.output_item.done":
            output[event["output_index"]]["status"] = event["item"]["status"]
    return output


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"input": QUESTION}, id="text"),
        pytest.param({"input": QUESTION, "max_output_tokens": 16}, id="incomplete"),
        pytest.param({"input": WEATHER_AND_TIME, "tools": [WEATHER_TOOL, TIME_TOOL]}, id="calls"),
        pytest.param({"input": "Hi", "text": {"format": {"type": "json_object"}}}, id="json"),
    ],
)
def test_stream_and_body_render_the_same_plan(
    body: dict[str, Any], responses_operation: Operation
) -> None:
    result = plan(**body)
    final = response_body(result)
    events = list(response_events(result))
    assert events[-1]["response"] == final
    assert events[-1]["type"] == f"response.{result.status}"
    assert accumulate(iter(events)) == final["output"]
    for snapshot in (events[0]["response"], events[1]["response"]):
        assert snapshot == response_snapshot(result)
        assert snapshot["usage"] is None and snapshot["output"] == []
        assert snapshot["status"] == "in_progress"
    assert validate_response(responses_operation, final) == []
    assert validate_stream(responses_operation, stream_text(result)) == []


def test_events_are_framed_with_their_type(responses_operation: Operation) -> None:
    decoded = decode_stream(stream_text(plan(input="Hello")))
    assert all(event.event == event.json()["type"] for event in decoded)
    assert all(event.data != "[DONE]" for event in decoded)


def test_error_event_must_say_what_went_wrong(responses_operation: Operation) -> None:
    # The R2 correction lets the details be nested, but not be missing altogether.
    bare = {"type": "error", "sequence_number": 1}
    assert [v.missing for v in validate_event(responses_operation, bare)] == ["error"]
    flat = {**bare, "code": None, "message": "Boom", "param": None}
    nested = {**bare, "error": {"type": "server_error", "code": None, "message": "Boom"}}
    assert validate_event(responses_operation, flat) == []
    assert validate_event(responses_operation, nested) == []


# --------------------------------------------------------------------------- the app, fuzzed

AUTH = {"Authorization": "Bearer test-key"}


@pytest.fixture(scope="module")
def app_client() -> FlaskClient:
    return create_app(MockConfig()).test_client()


@pytest.fixture(scope="module")
def create_case_strategy(specs: SpecSet) -> Any:
    document = next(d for d in specs.documents if d.name == "gpt-4-RESPONSES")
    return schemathesis.openapi.from_dict(document.effective)["/v1/responses"]["POST"].as_strategy()


def test_any_body_the_spec_accepts_gets_a_response_the_spec_accepts(
    app_client: FlaskClient, create_case_strategy: Any, responses_operation: Operation
) -> None:
    @settings(
        max_examples=50,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=create_case_strategy)
    def check(case: Any) -> None:
        body = case.body
        assert responses_operation.request_validator.violations(body) == []
        reply = app_client.post("/v1/responses", json=body, headers=AUTH)
        status = reply.status_code
        if status == 200 and reply.mimetype == EVENT_STREAM:
            assert validate_stream(responses_operation, reply.get_data()) == []
            return
        payload = reply.get_json()
        assert validate_response(responses_operation, payload, status) == [], payload
        # Only what names nothing stored may refuse a body the spec accepts: an unknown
        # previous_response_id, or an item_reference to an item not stored.
        if status != 200:
            assert status == 404, payload
            assert payload["error"]["param"] in ("previous_response_id", "input")

    check()

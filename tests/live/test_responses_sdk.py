"""The Responses API through the official `openai` SDK against `harness serve` on a free port.

Every body and every stream event these tests receive is also checked against the effective
spec by the `recorder` fixture.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import bpe_openai
import jsonschema
import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel

MODEL = "gpt-4"
QUESTION = "Explain how contract testing helps API teams"
WEATHER_QUESTION = "What's the weather in Paris?"
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather in a given location.",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["location", "unit"],
        "additionalProperties": False,
    },
    "strict": True,
}
TIME_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_local_time",
    "description": "Current local time in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "format": {"enum": ["12h", "24h"]}},
        "required": ["city"],
    },
    "strict": False,
}
CL100K = bpe_openai.get_encoding("cl100k_base")


def token_count(text: str) -> int:
    return len(CL100K.encode(text))


def arguments_of(item: Any, tool: dict[str, Any]) -> dict[str, Any]:
    arguments: dict[str, Any] = json.loads(item.arguments)
    jsonschema.validate(arguments, tool["parameters"])
    return arguments


class Forecast(BaseModel):
    city: str
    temperature_c: float
    conditions: Literal["sunny", "cloudy", "rain", "snow"]
    hourly: list[int]


# --------------------------------------------------------------------------- plain replies


def test_plain_reply(client: OpenAI) -> None:
    response = client.responses.create(model=MODEL, input="Hello")
    assert response.id.startswith("resp_")
    assert response.object == "response"
    assert response.model == "gpt-4-0613"
    assert response.status == "completed"
    assert response.error is None and response.incomplete_details is None
    [message] = response.output
    assert message.type == "message"
    assert message.id.startswith("msg_")
    assert message.role == "assistant" and message.status == "completed"
    [part] = message.content
    assert part.type == "output_text" and part.annotations == []
    assert response.output_text == part.text == "Hello! How can I assist you today?"
    usage = response.usage
    assert usage is not None
    # OpenAI counts one user message "Hello" as 8 input tokens for gpt-4.
    assert usage.input_tokens == 8
    assert usage.output_tokens == token_count(response.output_text)
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0


def test_settings_are_echoed_with_the_api_defaults(client: OpenAI) -> None:
    default = client.responses.create(model=MODEL, input="Hello")
    assert (default.temperature, default.top_p, default.truncation) == (1.0, 1.0, "disabled")
    assert default.tool_choice == "auto" and default.tools == []
    assert default.text is not None and default.text.format is not None
    assert default.text.format.type == "text"
    assert default.parallel_tool_calls is True and default.store is False
    assert default.reasoning is not None and default.reasoning.effort is None
    assert default.metadata == {} and default.previous_response_id is None
    assert default.background is False and default.service_tier == "default"
    given = client.responses.create(
        model=MODEL,
        input="Hello",
        temperature=0.3,
        top_p=0.9,
        metadata={"suite": "live"},
        user="user-1",
        truncation="auto",
    )
    assert (given.temperature, given.top_p, given.truncation) == (0.3, 0.9, "auto")
    assert given.metadata == {"suite": "live"} and given.user == "user-1"
    # Bookkeeping fields do not change what is said (sampling settings may, as for chat).
    tagged = client.responses.create(
        model=MODEL, input="Hello", metadata={"suite": "live"}, user="user-1", truncation="auto"
    )
    assert tagged.output_text == default.output_text


def test_same_input_same_text_new_id(client: OpenAI) -> None:
    first = client.responses.create(model=MODEL, input=QUESTION)
    second = client.responses.create(
        model=MODEL, input=[{"role": "user", "content": [{"type": "input_text", "text": QUESTION}]}]
    )
    assert first.output_text == second.output_text
    assert first.id != second.id


def test_instructions_are_echoed_and_counted(client: OpenAI) -> None:
    plain = client.responses.create(model=MODEL, input="Hello")
    instructions = "You are a terse assistant."
    instructed = client.responses.create(model=MODEL, input="Hello", instructions=instructions)
    assert instructed.instructions == instructions
    assert plain.usage is not None and instructed.usage is not None
    # One more message: 3 tokens of framing, its role and its content.
    extra = 3 + token_count("developer") + token_count(instructions)
    assert instructed.usage.input_tokens == plain.usage.input_tokens + extra


def test_max_output_tokens_gives_an_incomplete_response(client: OpenAI) -> None:
    full = client.responses.create(model=MODEL, input=QUESTION)
    assert token_count(full.output_text) > 16
    cut = client.responses.create(model=MODEL, input=QUESTION, max_output_tokens=16)
    assert cut.status == "incomplete"
    assert cut.incomplete_details is not None
    assert cut.incomplete_details.reason == "max_output_tokens"
    assert cut.max_output_tokens == 16
    assert cut.usage is not None and cut.usage.output_tokens == 16
    assert token_count(cut.output_text) == 16
    assert full.output_text.startswith(cut.output_text)
    assert cut.output[0].status == "incomplete"


# --------------------------------------------------------------------------- structured output


def test_json_schema_output_parses_into_a_pydantic_model(client: OpenAI) -> None:
    response = client.responses.parse(
        model=MODEL, input="Forecast for Paris, please", text_format=Forecast
    )
    parsed = response.output_parsed
    assert isinstance(parsed, Forecast)
    assert Forecast.model_validate_json(response.output_text) == parsed
    assert response.text is not None and response.text.format is not None
    assert response.text.format.type == "json_schema"


def test_json_object_output_is_a_json_object(client: OpenAI) -> None:
    response = client.responses.create(
        model=MODEL, input="Summarise contract testing", text={"format": {"type": "json_object"}}
    )
    assert isinstance(json.loads(response.output_text), dict)


# --------------------------------------------------------------------------- function tools


def test_function_call_then_its_output_is_answered_with_text(client: OpenAI) -> None:
    first = client.responses.create(model=MODEL, input=WEATHER_QUESTION, tools=[WEATHER_TOOL])
    [call] = first.output
    assert call.type == "function_call"
    assert call.id is not None and call.id.startswith("fc_")
    assert call.call_id.startswith("call_")
    assert call.name == "get_weather" and call.status == "completed"
    arguments_of(call, WEATHER_TOOL)
    assert first.output_text == ""
    assert first.tools[0].type == "function" and first.tools[0].name == "get_weather"

    # The next turn replays the call and carries its result, as the SDK docs show.
    follow_up = client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": WEATHER_QUESTION},
            *[item.model_dump(exclude_none=True) for item in first.output],
            {"type": "function_call_output", "call_id": call.call_id, "output": '{"temp": 21}'},
        ],
        tools=[WEATHER_TOOL],
    )
    [message] = follow_up.output
    assert message.type == "message"
    assert "21" in follow_up.output_text
    assert follow_up.usage is not None and first.usage is not None
    assert follow_up.usage.input_tokens > first.usage.input_tokens


@pytest.mark.parametrize(
    ("options", "names"),
    [
        pytest.param({}, ["get_weather", "get_local_time"], id="auto-parallel"),
        pytest.param({"parallel_tool_calls": False}, ["get_weather"], id="one-at-a-time"),
        pytest.param({"tool_choice": "none"}, [], id="none"),
        pytest.param(
            {"tool_choice": {"type": "function", "name": "get_local_time"}},
            ["get_local_time"],
            id="named",
        ),
    ],
)
def test_tool_choice(client: OpenAI, options: dict[str, Any], names: list[str]) -> None:
    response = client.responses.create(
        model=MODEL,
        input="Weather in Oslo and the local time there?",
        tools=[WEATHER_TOOL, TIME_TOOL],
        **options,
    )
    calls = [item for item in response.output if item.type == "function_call"]
    assert [call.name for call in calls] == names
    for call in calls:
        arguments_of(call, WEATHER_TOOL if call.name == "get_weather" else TIME_TOOL)
    assert len({call.call_id for call in calls}) == len(calls)
    assert bool(response.output_text) == (not names)


def test_required_tool_choice_calls_a_tool(client: OpenAI) -> None:
    response = client.responses.create(
        model=MODEL, input="Hello", tools=[WEATHER_TOOL], tool_choice="required"
    )
    assert [item.type for item in response.output] == ["function_call"]
    assert response.tool_choice == "required"


# --------------------------------------------------------------------------- streaming


def test_stream_helper_reassembles_the_plain_reply(client: OpenAI) -> None:
    plain = client.responses.create(model=MODEL, input=QUESTION)
    with client.responses.stream(model=MODEL, input=QUESTION) as stream:
        events = list(stream)
        final = stream.get_final_response()
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert "".join(deltas) == plain.output_text
    assert final.output_text == plain.output_text
    assert final.usage == plain.usage
    assert final.status == "completed"
    assert final.id != plain.id
    types = [event.type for event in events]
    assert types[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert types[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))


def test_raw_stream_carries_snapshots_and_the_final_response(client: OpenAI) -> None:
    events = list(client.responses.create(model=MODEL, input="Hello", stream=True))
    created, in_progress, completed = events[0], events[1], events[-1]
    assert created.type == "response.created" and in_progress.type == "response.in_progress"
    assert created.response.status == "in_progress" and created.response.usage is None
    assert created.response.output == []
    assert completed.type == "response.completed"
    assert completed.response.id == created.response.id
    assert completed.response.output_text == "Hello! How can I assist you today?"
    assert completed.response.usage is not None and completed.response.usage.input_tokens == 8


def test_streamed_function_calls_match_the_plain_ones(client: OpenAI) -> None:
    question = "Weather in Oslo and the local time there?"
    tools = [WEATHER_TOOL, TIME_TOOL]
    plain = client.responses.create(model=MODEL, input=question, tools=tools)
    with client.responses.stream(model=MODEL, input=question, tools=tools) as stream:
        events = list(stream)
        final = stream.get_final_response()

    def calls(output: list[Any]) -> list[tuple[str, str]]:
        return [(item.name, item.arguments) for item in output if item.type == "function_call"]

    assert calls(final.output) == calls(plain.output)
    assert len(calls(final.output)) == 2
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    # `name` is on the wire (OpenAI's spec has it) though not every SDK release declares it.
    assert [(event.to_dict()["name"], event.arguments) for event in done] == calls(plain.output)
    added = [e for e in events if e.type == "response.output_item.added"]
    assert [event.item.status for event in added] == ["in_progress", "in_progress"]
    assert [event.output_index for event in added] == [0, 1]


def test_streamed_json_schema_output_parses(client: OpenAI) -> None:
    with client.responses.stream(
        model=MODEL, input="Forecast for Paris, please", text_format=Forecast
    ) as stream:
        final = stream.get_final_response()
    assert isinstance(final.output_parsed, Forecast)
    plain = client.responses.parse(
        model=MODEL, input="Forecast for Paris, please", text_format=Forecast
    )
    assert final.output_parsed == plain.output_parsed


def test_stream_with_max_output_tokens_ends_incomplete(client: OpenAI) -> None:
    events = list(
        client.responses.create(model=MODEL, input=QUESTION, max_output_tokens=16, stream=True)
    )
    last = events[-1]
    assert last.type == "response.incomplete"
    assert last.response.status == "incomplete"
    assert last.response.usage is not None and last.response.usage.output_tokens == 16
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert token_count("".join(deltas)) == 16


# --------------------------------------------------------------------------- errors


def test_errors_are_the_chat_errors(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as unknown_model:
        client.responses.create(model="gpt-5-imaginary", input="Hello")
    assert unknown_model.value.code == "model_not_found"
    assert unknown_model.value.param == "model"
    with pytest.raises(openai.BadRequestError) as too_small:
        client.responses.create(model=MODEL, input="Hello", max_output_tokens=5)
    assert too_small.value.param == "max_output_tokens"
    with pytest.raises(openai.BadRequestError) as missing:
        client.responses.create(model=MODEL)
    assert missing.value.param == "input"
    assert missing.value.code == "missing_required_parameter"


def test_wrong_key_is_refused(client: OpenAI) -> None:
    with pytest.raises(openai.AuthenticationError):
        client.with_options(api_key="not-the-key").responses.create(model=MODEL, input="Hello")

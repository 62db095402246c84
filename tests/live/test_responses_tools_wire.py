"""Responses function tools as clients send them by default, through the `openai` SDK.

openai-python and Node `openai` with hand-written tools, LangChain's ``bind_tools`` on the
Responses API and instructor's ``RESPONSES_TOOLS`` mode send a function tool without
``strict``, or with ``strict: null``; the live API accepts both and echoes ``"strict": true``
in the Response's ``tools`` (recorded wire, overlay R7). ``parameters: null`` (a function
that takes no arguments, as the SDK's ``FunctionToolParam`` types it) is accepted too and
echoed as sent. Every body and stream event is checked against the effective spec by the
``recorder`` fixture.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import openai
import pytest
from openai import OpenAI

MODEL = "gpt-4"
WEATHER_QUESTION = "What's the weather in Paris?"
PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["location", "unit"],
    "additionalProperties": False,
}
# What openai-python's README and LangChain's Responses path send: no `strict` key.
TOOL_WITHOUT_STRICT: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather in a given location.",
    "parameters": PARAMETERS,
}


def _tool(**changes: Any) -> dict[str, Any]:
    tool = {**TOOL_WITHOUT_STRICT, **changes}
    return {key: value for key, value in tool.items() if value is not _ABSENT}


_ABSENT = object()


def _raw_tools(client: OpenAI, **request: Any) -> list[dict[str, Any]]:
    """The ``tools`` of the Response as the wire carries them (not as the SDK parses them)."""
    raw = client.responses.with_raw_response.create(model=MODEL, **request)
    tools: list[dict[str, Any]] = json.loads(raw.http_response.content)["tools"]
    return tools


@pytest.mark.parametrize(
    "strict",
    [pytest.param(_ABSENT, id="without-strict"), pytest.param(None, id="strict-null")],
)
def test_tool_without_strict_is_accepted_and_echoed_strict(client: OpenAI, strict: Any) -> None:
    tool = _tool(strict=strict)
    response = client.responses.create(model=MODEL, input=WEATHER_QUESTION, tools=[tool])
    assert response.status == "completed"
    [echoed] = response.tools
    assert echoed.type == "function" and echoed.name == "get_weather"
    assert echoed.strict is True
    assert echoed.parameters == PARAMETERS
    [call] = response.output
    assert call.type == "function_call" and call.name == "get_weather"
    jsonschema.validate(json.loads(call.arguments), PARAMETERS)

    [wire] = _raw_tools(client, input=WEATHER_QUESTION, tools=[tool])
    assert wire == {
        "type": "function",
        "description": tool["description"],
        "name": "get_weather",
        "parameters": PARAMETERS,
        "strict": True,
    }


@pytest.mark.parametrize("strict", [True, False])
def test_explicit_strict_is_echoed_as_sent(client: OpenAI, strict: bool) -> None:
    [wire] = _raw_tools(client, input=WEATHER_QUESTION, tools=[_tool(strict=strict)])
    assert wire["strict"] is strict


def test_strict_does_not_count_in_the_prompt_tokens(client: OpenAI) -> None:
    # OpenAI's count of function definitions reads name, description and parameters only.
    without = client.responses.create(
        model=MODEL, input=WEATHER_QUESTION, tools=[TOOL_WITHOUT_STRICT]
    )
    explicit = client.responses.create(
        model=MODEL, input=WEATHER_QUESTION, tools=[_tool(strict=True)]
    )
    assert without.usage is not None and explicit.usage is not None
    assert without.usage.input_tokens == explicit.usage.input_tokens
    no_tools = client.responses.create(model=MODEL, input=WEATHER_QUESTION)
    assert no_tools.usage is not None
    assert without.usage.input_tokens > no_tools.usage.input_tokens


def test_parameters_null_is_a_function_without_arguments(client: OpenAI) -> None:
    tool = _tool(parameters=None, strict=_ABSENT)
    response = client.responses.create(
        model=MODEL, input=WEATHER_QUESTION, tools=[tool], tool_choice="required"
    )
    [call] = response.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {}
    [echoed] = response.tools
    assert echoed.parameters is None and echoed.strict is True  # type: ignore[union-attr]

    # No properties, no tokens for them: the same prompt as an empty object schema.
    empty = client.responses.create(
        model=MODEL,
        input=WEATHER_QUESTION,
        tools=[_tool(parameters={"type": "object", "properties": {}})],
        tool_choice="required",
    )
    assert response.usage is not None and empty.usage is not None
    assert response.usage.input_tokens == empty.usage.input_tokens

    [wire] = _raw_tools(client, input=WEATHER_QUESTION, tools=[tool], tool_choice="required")
    assert wire["parameters"] is None and wire["strict"] is True


def test_description_null_is_accepted_and_echoed(client: OpenAI) -> None:
    [wire] = _raw_tools(client, input=WEATHER_QUESTION, tools=[_tool(description=None)])
    assert wire["description"] is None and wire["strict"] is True


def test_streamed_response_echoes_strict_in_every_snapshot(client: OpenAI) -> None:
    events = list(
        client.responses.create(
            model=MODEL, input=WEATHER_QUESTION, tools=[TOOL_WITHOUT_STRICT], stream=True
        )
    )
    snapshots = [event.response for event in events if hasattr(event, "response")]
    assert [event.type for event in events if hasattr(event, "response")] == [
        "response.created",
        "response.in_progress",
        "response.completed",
    ]
    for snapshot in snapshots:
        [echoed] = snapshot.tools
        assert echoed.strict is True  # type: ignore[union-attr]


def test_stored_response_keeps_the_echo(client: OpenAI) -> None:
    created = client.responses.create(
        model=MODEL, input=WEATHER_QUESTION, tools=[TOOL_WITHOUT_STRICT], store=True
    )
    again = client.responses.retrieve(created.id)
    [echoed] = again.tools
    assert echoed.strict is True  # type: ignore[union-attr]
    client.responses.delete(created.id)


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        pytest.param({"strict": "yes"}, "tools[0].strict", id="strict-string"),
        pytest.param({"parameters": "none"}, "tools[0].parameters", id="parameters-string"),
        pytest.param({"description": 5}, "tools[0].description", id="description-number"),
        pytest.param({"name": _ABSENT}, "tools[0].name", id="without-name"),
    ],
)
def test_tool_fields_stay_typed(client: OpenAI, changes: dict[str, Any], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=MODEL, input=WEATHER_QUESTION, tools=[_tool(**changes)])
    assert refused.value.param == param


# --------------------------------------------------------------------------- tool results


def _round_trip(output: Any) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": WEATHER_QUESTION},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"location": "Paris", "unit": "celsius"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": output},
    ]


@pytest.mark.parametrize(
    "output",
    [
        pytest.param([{"type": "input_text", "text": "Sunny, 22C"}], id="text-part"),
        pytest.param(
            [
                {"type": "input_text", "text": "Sunny, 22C"},
                {"type": "input_text", "text": " and dry"},
            ],
            id="text-parts",
        ),
        pytest.param(
            [{"type": "input_file", "filename": "w.txt", "file_data": "data:text/plain;base64,"}],
            id="file-part",
        ),
    ],
)
def test_a_tool_result_given_as_content_parts_is_read(client: OpenAI, output: Any) -> None:
    # openai-python types `output` as a string or a list of input_text / input_image /
    # input_file parts; Haystack sends every result as a list, the Vercel AI SDK a tool's
    # `toModelOutput` content (overlay R12).
    response = client.responses.create(
        model=MODEL, input=_round_trip(output), tools=[TOOL_WITHOUT_STRICT]
    )
    assert response.status == "completed"
    if output[0]["type"] == "input_text":
        assert "Sunny" in response.output_text


@pytest.mark.parametrize(
    ("output", "param"),
    [
        pytest.param([{"type": "input_text"}], "input[2].output", id="part-without-text"),
        pytest.param([{"type": "output_text", "text": "x"}], "input[2].output", id="output-part"),
        pytest.param(5, "input[2].output", id="number"),
    ],
)
def test_a_tool_result_stays_typed(client: OpenAI, output: Any, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=MODEL, input=_round_trip(output), tools=[TOOL_WITHOUT_STRICT])
    assert (refused.value.param or "").startswith(param)

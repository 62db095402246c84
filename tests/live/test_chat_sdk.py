"""Chat completions through the official `openai` SDK against `harness serve` on a free port.

Every body and every stream chunk these tests receive is also checked against the effective
spec by the `recorder` fixture.
"""

from __future__ import annotations

import json
from typing import Any

import bpe_openai
import jsonschema
import pytest
from openai import OpenAI

MODEL = "gpt-4"
HELLO = [{"role": "user", "content": "Hello"}]
QUESTION = [{"role": "user", "content": "Explain how contract testing helps API teams"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a given location.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["location", "unit"],
            "additionalProperties": False,
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_local_time",
        "description": "Current local time in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "format": {"enum": ["12h", "24h"]}},
            "required": ["city"],
        },
    },
}
CL100K = bpe_openai.get_encoding("cl100k_base")


def token_count(text: str) -> int:
    return len(CL100K.encode(text))


def parameters_of(tool: dict[str, Any]) -> dict[str, Any]:
    parameters: dict[str, Any] = tool["function"]["parameters"]
    return parameters


def test_plain_reply_has_real_usage_and_snapshot_model(client: OpenAI) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=HELLO)
    choice = reply.choices[0]
    assert reply.object == "chat.completion"
    assert reply.id.startswith("chatcmpl-")
    assert reply.model == "gpt-4-0613"
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert reply.usage is not None
    # OpenAI counts {"role": "user", "content": "Hello"} as 8 prompt tokens for gpt-4.
    assert reply.usage.prompt_tokens == 8
    assert reply.usage.completion_tokens == token_count(choice.message.content)
    assert reply.usage.total_tokens == 8 + reply.usage.completion_tokens


def test_same_body_same_content_and_seed_picks_another_variant(client: OpenAI) -> None:
    first = client.chat.completions.create(model=MODEL, messages=QUESTION)
    second = client.chat.completions.create(model=MODEL, messages=QUESTION)
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.id != second.id
    variants = {
        client.chat.completions.create(model=MODEL, messages=QUESTION, seed=seed)
        .choices[0]
        .message.content
        for seed in range(1, 6)
    }
    assert len(variants) > 1


def test_n_gives_indexed_choices(client: OpenAI) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=QUESTION, n=3)
    assert [choice.index for choice in reply.choices] == [0, 1, 2]
    assert reply.usage is not None
    contents = [choice.message.content or "" for choice in reply.choices]
    assert reply.usage.completion_tokens == sum(token_count(text) for text in contents)
    single = client.chat.completions.create(model=MODEL, messages=QUESTION)
    assert contents[0] == single.choices[0].message.content


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_token_limit_truncates_with_finish_reason_length(client: OpenAI, field: str) -> None:
    full = client.chat.completions.create(model=MODEL, messages=QUESTION)
    full_text = full.choices[0].message.content or ""
    assert token_count(full_text) > 5
    cut = client.chat.completions.create(model=MODEL, messages=QUESTION, **{field: 5})
    choice = cut.choices[0]
    assert choice.finish_reason == "length"
    assert cut.usage is not None and cut.usage.completion_tokens == 5
    assert token_count(choice.message.content or "") == 5
    assert full_text.startswith(choice.message.content or "")


def test_stop_cuts_before_the_stop_sequence(client: OpenAI) -> None:
    full_text = client.chat.completions.create(model=MODEL, messages=QUESTION).choices[0]
    text = full_text.message.content or ""
    words = text.split()
    stop_word = words[len(words) // 2]
    cut = client.chat.completions.create(model=MODEL, messages=QUESTION, stop=[stop_word, "zzz"])
    content = cut.choices[0].message.content or ""
    assert cut.choices[0].finish_reason == "stop"
    assert stop_word not in content
    assert content == text[: text.index(stop_word)]


def assert_arguments_valid(arguments: str, tool: dict[str, Any]) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(arguments)
    jsonschema.validate(parsed, parameters_of(tool))
    return parsed


def test_named_tool_choice_forces_that_call(client: OpenAI) -> None:
    reply = client.chat.completions.create(
        model=MODEL,
        messages=HELLO,
        tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_local_time"}},
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert len(calls) == 1
    assert calls[0].type == "function"
    assert calls[0].id.startswith("call_")
    assert calls[0].function.name == "get_local_time"
    assert_arguments_valid(calls[0].function.arguments, TIME_TOOL)


def test_auto_calls_the_tool_the_user_mentions(client: OpenAI) -> None:
    messages = [{"role": "user", "content": "What's the weather like in Paris today?"}]
    reply = client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL, TIME_TOOL]
    )
    calls = reply.choices[0].message.tool_calls or []
    assert [call.function.name for call in calls] == ["get_weather"]
    assert_arguments_valid(calls[0].function.arguments, WEATHER_TOOL)


def test_auto_answers_with_text_when_no_tool_fits(client: OpenAI) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=HELLO, tools=[WEATHER_TOOL])
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.tool_calls is None
    assert reply.choices[0].message.content


def test_required_calls_a_tool_and_none_never_does(client: OpenAI) -> None:
    required = client.chat.completions.create(
        model=MODEL, messages=HELLO, tools=[WEATHER_TOOL], tool_choice="required"
    )
    assert required.choices[0].finish_reason == "tool_calls"
    none = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "weather in Rome?"}],
        tools=[WEATHER_TOOL],
        tool_choice="none",
    )
    assert none.choices[0].finish_reason == "stop"
    assert none.choices[0].message.tool_calls is None


def test_parallel_tool_calls(client: OpenAI) -> None:
    messages = [{"role": "user", "content": "Weather in Oslo and the local time there?"}]
    both = client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL, TIME_TOOL]
    )
    calls = both.choices[0].message.tool_calls or []
    assert [call.function.name for call in calls] == ["get_weather", "get_local_time"]
    assert len({call.id for call in calls}) == 2
    for call, tool in zip(calls, [WEATHER_TOOL, TIME_TOOL], strict=True):
        assert_arguments_valid(call.function.arguments, tool)
    one = client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL, TIME_TOOL], parallel_tool_calls=False
    )
    assert len(one.choices[0].message.tool_calls or []) == 1


def test_tool_result_follow_up_is_answered_with_text(client: OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    call = (first.choices[0].message.tool_calls or [])[0]
    messages.append(first.choices[0].message.model_dump(exclude_none=False))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": '{"temp": 21}'})
    second = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content
    assert "21" in second.choices[0].message.content


@pytest.mark.parametrize("top", [3, 20])  # 20: the spec's maximum
def test_logprobs_cover_every_token(client: OpenAI, top: int) -> None:
    reply = client.chat.completions.create(
        model=MODEL, messages=QUESTION, logprobs=True, top_logprobs=top
    )
    choice = reply.choices[0]
    assert choice.logprobs is not None and choice.logprobs.content
    entries = choice.logprobs.content
    assert "".join(entry.token for entry in entries) == choice.message.content
    for entry in entries:
        assert entry.logprob <= 0
        assert bytes(entry.bytes or []) == entry.token.encode()
        assert len(entry.top_logprobs) == top
        assert len({alternative.token for alternative in entry.top_logprobs}) == top
        assert entry.top_logprobs[0].token == entry.token


def test_stream_reassembles_to_the_plain_reply(client: OpenAI) -> None:
    plain = client.chat.completions.create(model=MODEL, messages=QUESTION)
    chunks = list(client.chat.completions.create(model=MODEL, messages=QUESTION, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == plain.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(chunk.usage is None for chunk in chunks)


def test_stream_with_usage_ends_with_a_usage_chunk(client: OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    text = "".join(c.choices[0].delta.content or "" for c in chunks[:-1])
    assert last.usage.prompt_tokens == 8
    assert last.usage.completion_tokens == token_count(text)
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens


def test_stream_with_limit_ends_with_length(client: OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(model=MODEL, messages=QUESTION, stream=True, max_tokens=4)
    )
    assert chunks[-1].choices[0].finish_reason == "length"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert token_count(text) == 4


def test_streamed_tool_calls_assemble_into_valid_arguments(client: OpenAI) -> None:
    messages = [{"role": "user", "content": "Weather in Oslo and the local time there?"}]
    stream = client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL, TIME_TOOL], stream=True
    )
    calls: dict[int, dict[str, str]] = {}
    finish = None
    for chunk in stream:
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        for delta in choice.delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += delta.id or ""
            if delta.function is not None:
                call["name"] += delta.function.name or ""
                call["arguments"] += delta.function.arguments or ""
    assert finish == "tool_calls"
    assert [calls[i]["name"] for i in sorted(calls)] == ["get_weather", "get_local_time"]
    assert_arguments_valid(calls[0]["arguments"], WEATHER_TOOL)
    assert_arguments_valid(calls[1]["arguments"], TIME_TOOL)
    assert all(call["id"].startswith("call_") for call in calls.values())


def test_sdk_stream_helper_accumulates_tool_calls(client: OpenAI) -> None:
    with client.chat.completions.stream(
        model=MODEL, messages=HELLO, tools=[WEATHER_TOOL], tool_choice="required"
    ) as stream:
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert calls and calls[0].function.name == "get_weather"
    assert_arguments_valid(calls[0].function.arguments, WEATHER_TOOL)


def test_n_streams_every_choice(client: OpenAI) -> None:
    chunks = list(client.chat.completions.create(model=MODEL, messages=QUESTION, n=2, stream=True))
    texts: dict[int, str] = {}
    finishes: dict[int, str] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
            if choice.finish_reason:
                finishes[choice.index] = choice.finish_reason
    plain = client.chat.completions.create(model=MODEL, messages=QUESTION, n=2)
    assert texts == {c.index: c.message.content for c in plain.choices}
    assert finishes == {0: "stop", 1: "stop"}


def test_structured_output_parses_into_a_pydantic_model(client: OpenAI) -> None:
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        population: int
        landmarks: list[str]

    completion = client.chat.completions.parse(
        model=MODEL, messages=[{"role": "user", "content": "Describe Paris"}], response_format=City
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, City)

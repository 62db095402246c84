"""openai-python, sync and async, against `harness serve`: the calls its docs show."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from openai import AsyncOpenAI, OpenAI

from tests.clients.expect import (
    CITY_QUESTION,
    HELLO,
    MODEL,
    WEATHER_QUESTION,
    City,
    assert_city,
    assert_text,
    assert_weather_call,
    chat_weather_tool,
    responses_weather_tool,
)
from tests.fixtures.servers import API_KEY, RunningServer


@pytest.fixture
def client(mock: RunningServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=mock.base_url, api_key=API_KEY, max_retries=0) as opened:
        yield opened


def async_client(mock: RunningServer) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=mock.base_url, api_key=API_KEY, max_retries=0)


def user(content: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": content}]


def test_chat(client: OpenAI) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=user(HELLO))
    assert_text(reply.choices[0].message.content)
    assert reply.choices[0].finish_reason == "stop"


def test_chat_stream(client: OpenAI) -> None:
    stream = client.chat.completions.create(model=MODEL, messages=user(HELLO), stream=True)
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    whole = client.chat.completions.create(model=MODEL, messages=user(HELLO))
    assert assert_text(streamed) == whole.choices[0].message.content


def test_chat_tools(client: OpenAI) -> None:
    reply = client.chat.completions.create(
        model=MODEL, messages=user(WEATHER_QUESTION), tools=[chat_weather_tool()]
    )
    calls = reply.choices[0].message.tool_calls or []
    assert calls, reply
    for call in calls:
        assert call.type == "function"
        assert_weather_call(call.function.name, call.function.arguments)
    assert reply.choices[0].finish_reason == "tool_calls"


def test_chat_structured_output(client: OpenAI) -> None:
    reply = client.chat.completions.parse(
        model=MODEL, messages=user(CITY_QUESTION), response_format=City
    )
    assert_city(reply.choices[0].message.parsed)


def test_responses_create(client: OpenAI) -> None:
    response = client.responses.create(model=MODEL, input=HELLO)
    assert response.status == "completed"
    assert_text(response.output_text)


def test_responses_stream(client: OpenAI) -> None:
    with client.responses.stream(model=MODEL, input=HELLO) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert final.status == "completed"
    assert assert_text("".join(deltas)) == final.output_text


def test_responses_tools(client: OpenAI) -> None:
    response = client.responses.create(
        model=MODEL, input=WEATHER_QUESTION, tools=[responses_weather_tool()]
    )
    calls = [item for item in response.output if item.type == "function_call"]
    assert calls, response
    for call in calls:
        assert_weather_call(call.name, call.arguments)


def test_responses_structured_output(client: OpenAI) -> None:
    response = client.responses.parse(model=MODEL, input=CITY_QUESTION, text_format=City)
    assert_city(response.output_parsed)


def test_async_chat_and_stream(mock: RunningServer) -> None:
    async def scenario() -> tuple[str | None, str]:
        async with async_client(mock) as client:
            whole = await client.chat.completions.create(model=MODEL, messages=user(HELLO))
            stream = await client.chat.completions.create(
                model=MODEL, messages=user(HELLO), stream=True
            )
            parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
            return whole.choices[0].message.content, "".join(parts)

    content, streamed = asyncio.run(scenario())
    assert assert_text(content) == streamed


def test_async_chat_tools_and_structured_output(mock: RunningServer) -> None:
    async def scenario() -> tuple[Any, Any]:
        async with async_client(mock) as client:
            tools = await client.chat.completions.create(
                model=MODEL, messages=user(WEATHER_QUESTION), tools=[chat_weather_tool()]
            )
            parsed = await client.chat.completions.parse(
                model=MODEL, messages=user(CITY_QUESTION), response_format=City
            )
            return tools.choices[0].message.tool_calls, parsed.choices[0].message.parsed

    calls, parsed = asyncio.run(scenario())
    assert calls
    for call in calls:
        assert_weather_call(call.function.name, call.function.arguments)
    assert_city(parsed)


def test_async_responses_create_and_stream(mock: RunningServer) -> None:
    async def scenario() -> tuple[str, str, str]:
        async with async_client(mock) as client:
            created = await client.responses.create(model=MODEL, input=HELLO)
            async with client.responses.stream(model=MODEL, input=HELLO) as stream:
                deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
                final = await stream.get_final_response()
            return created.output_text, "".join(deltas), final.output_text

    created, streamed, final = asyncio.run(scenario())
    assert_text(created)
    assert assert_text(streamed) == final


def test_async_responses_tools_and_structured_output(mock: RunningServer) -> None:
    async def scenario() -> tuple[Any, Any]:
        async with async_client(mock) as client:
            response = await client.responses.create(
                model=MODEL, input=WEATHER_QUESTION, tools=[responses_weather_tool()]
            )
            parsed = await client.responses.parse(
                model=MODEL, input=CITY_QUESTION, text_format=City
            )
            return response.output, parsed.output_parsed

    output, parsed = asyncio.run(scenario())
    calls = [item for item in output if item.type == "function_call"]
    assert calls
    for call in calls:
        assert_weather_call(call.name, call.arguments)
    assert_city(parsed)


def test_chat_stream_tools(client: OpenAI) -> None:
    # The SDK's stream helper assembles tool-call deltas by index, as apps rely on.
    with client.chat.completions.stream(
        model=MODEL, messages=user(WEATHER_QUESTION), tools=[chat_weather_tool()]
    ) as stream:
        argument_deltas = [
            e.arguments_delta for e in stream if e.type == "tool_calls.function.arguments.delta"
        ]
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert calls, final
    for call in calls:
        assert call.type == "function"
        assert_weather_call(call.function.name, call.function.arguments)
    assert "".join(argument_deltas) == "".join(
        call.function.arguments for call in calls if call.type == "function"
    )
    assert final.choices[0].finish_reason == "tool_calls"


def test_responses_stream_tools(client: OpenAI) -> None:
    with client.responses.stream(
        model=MODEL, input=WEATHER_QUESTION, tools=[responses_weather_tool()]
    ) as stream:
        deltas = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    calls = [item for item in final.output if item.type == "function_call"]
    assert calls, final
    for call in calls:
        assert_weather_call(call.name, call.arguments)
    assert "".join(deltas) == "".join(call.arguments for call in calls)

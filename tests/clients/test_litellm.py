"""litellm's completion and responses against `harness serve`, as an `openai/` provider."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import litellm
import pytest

from tests.clients.expect import (
    CITY_QUESTION,
    HELLO,
    MODEL,
    STRUCTURED_MODEL,
    WEATHER_QUESTION,
    City,
    assert_city,
    assert_text,
    assert_weather_call,
    chat_weather_tool,
    responses_weather_tool,
)
from tests.fixtures.servers import API_KEY, RunningServer

# Warnings litellm raises from its own internals whatever the server says; the suite turns
# warnings into errors, so these two are let through by name.
pytestmark = [
    # pydantic on litellm's TypedDicts (Copilot auth, thinking blocks) at first use.
    pytest.mark.filterwarnings("ignore:.*using the `ReadOnly` qualifier:UserWarning"),
    # litellm.responses(stream=True) logs its cost with a chat-style usage dict in a
    # ResponseAPIUsage field; the wire's usage is input_tokens/output_tokens as specified.
    pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning"),
]


@pytest.fixture(autouse=True)
def main_thread_loop() -> Iterator[None]:
    """The loop litellm's sync responses() takes from asyncio.get_event_loop(), closed after.

    Left to itself it creates one there and never closes it, and pytest reports the leaked
    loop and its sockets when they are collected, in whatever test runs then.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


# litellm routes "openai/<name>" to any OpenAI-compatible base URL.
LITELLM_MODEL = f"openai/{MODEL}"


def endpoint(mock: RunningServer) -> dict[str, str]:
    return {"api_base": mock.base_url, "api_key": API_KEY}


def user(content: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": content}]


def message_text(output: Any) -> str:
    """The text of a Responses output list, joined as the SDK's output_text does."""
    return "".join(part.text for item in output if item.type == "message" for part in item.content)


def test_completion(mock: RunningServer) -> None:
    reply = litellm.completion(model=LITELLM_MODEL, messages=user(HELLO), **endpoint(mock))
    assert_text(reply.choices[0].message.content)


def test_completion_stream(mock: RunningServer) -> None:
    stream = litellm.completion(
        model=LITELLM_MODEL, messages=user(HELLO), stream=True, **endpoint(mock)
    )
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    whole = litellm.completion(model=LITELLM_MODEL, messages=user(HELLO), **endpoint(mock))
    assert assert_text(streamed) == whole.choices[0].message.content


def test_completion_tools(mock: RunningServer) -> None:
    reply = litellm.completion(
        model=LITELLM_MODEL,
        messages=user(WEATHER_QUESTION),
        tools=[chat_weather_tool()],
        **endpoint(mock),
    )
    calls = reply.choices[0].message.tool_calls
    assert calls, reply
    for call in calls:
        assert_weather_call(call.function.name, call.function.arguments)


def test_completion_structured_output(mock: RunningServer) -> None:
    reply = litellm.completion(
        model=f"openai/{STRUCTURED_MODEL}",
        messages=user(CITY_QUESTION),
        response_format=City,
        **endpoint(mock),
    )
    assert_city(reply.choices[0].message.content)


def test_completion_structured_output_on_gpt_4(mock: RunningServer) -> None:
    # litellm's model map says gpt-4 takes no response_format and refuses it client-side;
    # its own error message names this per-request opt-in.
    reply = litellm.completion(
        model=LITELLM_MODEL,
        messages=user(CITY_QUESTION),
        response_format=City,
        allowed_openai_params=["response_format"],
        **endpoint(mock),
    )
    assert_city(reply.choices[0].message.content)


def test_acompletion(mock: RunningServer) -> None:
    async def scenario() -> str | None:
        reply = await litellm.acompletion(
            model=LITELLM_MODEL, messages=user(HELLO), **endpoint(mock)
        )
        content: str | None = reply.choices[0].message.content
        return content

    assert_text(asyncio.run(scenario()))


def test_responses_create(mock: RunningServer) -> None:
    response = litellm.responses(model=LITELLM_MODEL, input=HELLO, **endpoint(mock))
    assert response.status == "completed"
    assert_text(message_text(response.output))


def test_responses_stream(mock: RunningServer) -> None:
    stream = litellm.responses(model=LITELLM_MODEL, input=HELLO, stream=True, **endpoint(mock))
    deltas, done = [], None
    for event in stream:
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
        elif event.type == "response.completed":
            done = event.response
    assert done is not None, "no response.completed event"
    assert assert_text("".join(deltas)) == message_text(done.output)


def test_responses_tools(mock: RunningServer) -> None:
    response = litellm.responses(
        model=LITELLM_MODEL,
        input=WEATHER_QUESTION,
        tools=[responses_weather_tool()],
        **endpoint(mock),
    )
    calls = [item for item in response.output if item.type == "function_call"]
    assert calls, response
    for call in calls:
        assert_weather_call(call.name, call.arguments)


def test_responses_structured_output(mock: RunningServer) -> None:
    response = litellm.responses(
        model=LITELLM_MODEL, input=CITY_QUESTION, text_format=City, **endpoint(mock)
    )
    assert_city(json.loads(message_text(response.output)))


def test_a_conversation_through_the_responses_bridge(mock: RunningServer) -> None:
    # litellm's "openai/responses/" route turns chat messages into Responses input: the
    # earlier reply goes as an assistant message of output_text parts, with no id, status
    # or annotations (specs/README.md, R10).
    reply = litellm.completion(
        model=f"openai/responses/{MODEL}",
        messages=[
            {"role": "user", "content": HELLO},
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": "And how are you?"},
        ],
        **endpoint(mock),
    )
    assert_text(reply.choices[0].message.content)

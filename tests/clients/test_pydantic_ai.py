"""pydantic-ai agents against `harness serve`, with its OpenAI chat and Responses models.

Each test runs its agent in one event loop and closes its client there, as an async app does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from openai import AsyncOpenAI
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.usage import UsageLimits

from tests.clients.expect import (
    CITY_QUESTION,
    HELLO,
    MODEL,
    WEATHER_QUESTION,
    City,
    assert_city,
    assert_text,
    assert_used_tool_result,
    assert_weather_call,
    recorded_weather,
)
from tests.fixtures.servers import API_KEY, RunningServer

Model = OpenAIChatModel | OpenAIResponsesModel
T = TypeVar("T")
API = pytest.mark.parametrize(
    "model_class", [OpenAIChatModel, OpenAIResponsesModel], ids=["chat", "responses"]
)


def run_with_model(
    mock: RunningServer, model_class: type[Model], scenario: Callable[[Model], Awaitable[T]]
) -> T:
    async def main() -> T:
        async with AsyncOpenAI(base_url=mock.base_url, api_key=API_KEY, max_retries=0) as client:
            return await scenario(model_class(MODEL, provider=OpenAIProvider(openai_client=client)))

    return asyncio.run(main())


@API
def test_run(mock: RunningServer, model_class: type[Model]) -> None:
    async def scenario(model: Model) -> str:
        return (await Agent(model).run(HELLO)).output

    assert_text(run_with_model(mock, model_class, scenario))


@API
def test_run_stream(mock: RunningServer, model_class: type[Model]) -> None:
    async def scenario(model: Model) -> tuple[list[str], str]:
        agent = Agent(model)
        async with agent.run_stream(HELLO) as run:
            deltas = [delta async for delta in run.stream_text(delta=True)]
        return deltas, (await agent.run(HELLO)).output

    deltas, whole = run_with_model(mock, model_class, scenario)
    assert assert_text("".join(deltas)) == whole


@API
def test_tool_round_trip(mock: RunningServer, model_class: type[Model]) -> None:
    calls: list[str] = []

    async def scenario(model: Model) -> str:
        agent = Agent(model)

        agent.tool_plain(recorded_weather(calls))

        return (await agent.run(WEATHER_QUESTION)).output

    answer = run_with_model(mock, model_class, scenario)
    assert calls, "the agent never called the tool"
    for city in calls:
        assert_weather_call("get_weather", {"city": city})
    assert_used_tool_result(answer)


@API
def test_tool_output(mock: RunningServer, model_class: type[Model]) -> None:
    # pydantic-ai's default structured output: a final-result tool whose arguments are the model.
    async def scenario(model: Model) -> City:
        return (await Agent(model, output_type=City).run(CITY_QUESTION)).output

    assert_city(run_with_model(mock, model_class, scenario))


@API
def test_native_output(mock: RunningServer, model_class: type[Model]) -> None:
    # The provider's own structured output: response_format / text.format json_schema.
    async def scenario(model: Model) -> City:
        return (await Agent(model, output_type=NativeOutput(City)).run(CITY_QUESTION)).output

    assert_city(run_with_model(mock, model_class, scenario))


@API
def test_tools_with_structured_output_end(mock: RunningServer, model_class: type[Model]) -> None:
    # output_type with tools: every turn requires a tool, and the run ends on final_result.
    # The mock called get_weather again after its result, to the 50-request limit.
    calls: list[str] = []

    async def scenario(model: Model) -> City:
        agent = Agent(model, output_type=City)

        agent.tool_plain(recorded_weather(calls))

        return (await agent.run(WEATHER_QUESTION, usage_limits=UsageLimits(request_limit=5))).output

    assert_city(run_with_model(mock, model_class, scenario))
    assert len(calls) == 1, calls

"""openai-agents against `harness serve`: its default Responses model and its chat model.

Tracing is off (it would export to the live API); the default client is the mock's, set the
way the SDK's docs show for other providers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from agents import (
    Agent,
    Model,
    OpenAIChatCompletionsModel,
    Runner,
    function_tool,
    set_default_openai_client,
    set_tracing_disabled,
)
from openai import AsyncOpenAI
from openai.types.responses import ResponseTextDeltaEvent

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

set_tracing_disabled(True)
T = TypeVar("T")
# "responses": the model name as a string, which the SDK's default provider serves with its
# Responses model; "chat": its Chat Completions model on the same client.
API = pytest.mark.parametrize("api", ["responses", "chat"])


def run_agent_scenario(
    mock: RunningServer, api: str, scenario: Callable[[str | Model], Awaitable[T]]
) -> T:
    async def main() -> T:
        async with AsyncOpenAI(base_url=mock.base_url, api_key=API_KEY, max_retries=0) as client:
            set_default_openai_client(client, use_for_tracing=False)
            model: str | Model = MODEL
            if api == "chat":
                model = OpenAIChatCompletionsModel(model=MODEL, openai_client=client)
            return await scenario(model)

    return asyncio.run(main())


@API
def test_run(mock: RunningServer, api: str) -> None:
    async def scenario(model: str | Model) -> Any:
        return (await Runner.run(Agent(name="assistant", model=model), HELLO)).final_output

    assert_text(run_agent_scenario(mock, api, scenario))


@API
def test_run_streamed(mock: RunningServer, api: str) -> None:
    async def scenario(model: str | Model) -> tuple[list[str], Any]:
        run = Runner.run_streamed(Agent(name="assistant", model=model), HELLO)
        deltas = [
            event.data.delta
            async for event in run.stream_events()
            if event.type == "raw_response_event" and isinstance(event.data, ResponseTextDeltaEvent)
        ]
        return deltas, run.final_output

    deltas, final = run_agent_scenario(mock, api, scenario)
    assert assert_text("".join(deltas)) == final


@API
def test_function_tool_round_trip(mock: RunningServer, api: str) -> None:
    calls: list[str] = []

    get_weather = function_tool(recorded_weather(calls))

    async def scenario(model: str | Model) -> Any:
        agent = Agent(name="assistant", model=model, tools=[get_weather])
        return (await Runner.run(agent, WEATHER_QUESTION)).final_output

    answer = run_agent_scenario(mock, api, scenario)
    assert calls, "the agent never called the tool"
    for city in calls:
        assert_weather_call("get_weather", {"city": city})
    assert_used_tool_result(answer)


@API
def test_output_type(mock: RunningServer, api: str) -> None:
    async def scenario(model: str | Model) -> Any:
        agent = Agent(name="assistant", model=model, output_type=City)
        return (await Runner.run(agent, CITY_QUESTION)).final_output

    assert_city(run_agent_scenario(mock, api, scenario))


@API
def test_a_handoff_reaches_the_tool_the_user_asked_for(mock: RunningServer, api: str) -> None:
    # The weather agent's history ends with the handoff's output: the mock answered it with
    # text ('the result is {"assistant": "Weather agent"}') and get_weather never ran.
    calls: list[str] = []

    get_weather = function_tool(recorded_weather(calls))

    async def scenario(model: str | Model) -> Any:
        weather = Agent(name="Weather agent", model=model, tools=[get_weather])
        triage = Agent(name="Triage", model=model, handoffs=[weather])
        result = await Runner.run(triage, WEATHER_QUESTION, max_turns=6)
        return result.last_agent.name, result.final_output

    last_agent, answer = run_agent_scenario(mock, api, scenario)
    assert last_agent == "Weather agent"
    assert calls, "the handed-off agent never called its tool"
    assert_used_tool_result(answer)

"""LangChain's agents (`langchain.agents.create_agent`, on LangGraph) against `harness serve`.

`create_agent(model, tools, response_format=Model)` on gpt-4 ends on a structured-output tool
named for the schema, listed after the user's tools and required every turn. The mock called
the output tool alongside `get_weather` on the first turn (both fit "weather"), and the agent
ended with an answer invented before the tool's result existed.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from pydantic import BaseModel

from tests.clients.expect import (
    TOOL_RESULT,
    WEATHER_CITY,
    WEATHER_QUESTION,
    assert_used_tool_result,
    recorded_weather,
)
from tests.clients.langchain_models import chat_model
from tests.fixtures.servers import RunningServer

API = pytest.mark.parametrize("responses_api", [False, True], ids=["chat", "responses"])
# A loop that never ends stops here, as a failure, instead of at LangGraph's default 25.
RECURSION_LIMIT = 8


class Weather(BaseModel):
    """The weather the tool reported."""

    summary: str


def run(agent: Any) -> dict[str, Any]:
    state: dict[str, Any] = agent.invoke(
        {"messages": [{"role": "user", "content": WEATHER_QUESTION}]},
        {"recursion_limit": RECURSION_LIMIT},
    )
    return state


@API
def test_the_tool_loop_ends_with_an_answer_using_the_result(
    mock: RunningServer, responses_api: bool
) -> None:
    calls: list[str] = []
    agent = create_agent(chat_model(mock, responses_api), [recorded_weather(calls)])
    state = run(agent)
    assert calls == [WEATHER_CITY]
    assert_used_tool_result(state["messages"][-1].text)


@API
def test_structured_output_comes_after_the_tool_result(
    mock: RunningServer, responses_api: bool
) -> None:
    calls: list[str] = []
    agent = create_agent(
        chat_model(mock, responses_api), [recorded_weather(calls)], response_format=Weather
    )
    state = run(agent)
    assert calls == [WEATHER_CITY]
    weather = state["structured_response"]
    assert isinstance(weather, Weather)
    # Filled after the result came back, from it (not invented beside the call).
    assert TOOL_RESULT in weather.summary.lower()
